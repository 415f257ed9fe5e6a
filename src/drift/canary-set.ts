/**
 * A canary set (`--canary canary.jsonl`): known media with the verdict each should get, screened
 * inside every batch that names it to watch the vendor (README: Score drift). Its lines are
 * manifest lines plus `expect`; the whole set is read and checked before the batch's first line,
 * and a set with an invalid line is refused as a whole (a canary that cannot be compared is no canary).
 */
import { dirname, isAbsolute, resolve } from 'node:path';
import type { CheckName, CheckRegistry } from '../checks/registry.js';
import { VERDICTS, type Verdict } from '../checks/types.js';
import { InvalidInputError } from '../errors/errors.js';
import { validateLine, type ValidLine } from '../manifest/line.js';
import { readManifest } from '../manifest/reader.js';

/** Most lines a canary set may have: it is paid for in every batch. */
export const MAX_CANARY_LINES = 1_000;
/** How far the canary scores' mean may move before the canary alert (`--canary-threshold`). */
export const DEFAULT_CANARY_THRESHOLD = 0.1;
/** The threshold of `--canary-threshold` (checked text), or the default. */
export function canaryThresholdOf(text: string | undefined): number {
  return text === undefined ? DEFAULT_CANARY_THRESHOLD : Number(text);
}

/** Invalid lines named in the error (all are counted). */
const REASONS_SHOWN = 10;

/** One canary line, valid, its local media refs made absolute (they resolve against the canary file's folder). */
export type CanaryLine = Omit<ValidLine, 'line' | 'canary'> & { readonly expect: Verdict; readonly canaryLine: number };

/**
 * Reads and checks a canary set. Every line must be a valid manifest line for its check (or
 * `checkOverride`) with an `expect` that check can give.
 * @throws InvalidInputError naming each invalid line by its number, or an unreadable or empty file.
 */
export async function readCanarySet(path: string, options: { checks: CheckRegistry; checkOverride?: CheckName }): Promise<CanaryLine[]> {
  const file = resolve(path);
  const dir = dirname(file);
  const lines: CanaryLine[] = [];
  const reasons: string[] = [];
  try {
    for await (const raw of readManifest(file, { checks: options.checks })) {
      const fail = (reason: string) => reasons.push(`line ${raw.line}: ${reason}`);
      if (raw.value === null || raw.error !== undefined) {
        fail(raw.error ?? 'the line holds no record');
        continue;
      }
      const { expect, ...rest } = raw.value;
      const validated = validateLine({ line: raw.line, value: rest }, { checks: options.checks, ...(options.checkOverride !== undefined ? { checkOverride: options.checkOverride } : {}) });
      if (!validated.ok) {
        fail(validated.reason);
        continue;
      }
      const can: readonly string[] = options.checks.verdictsOf(validated.check);
      if (expect === undefined || expect === null || expect === '') {
        fail(`expect is missing: a canary line says which verdict it should get (${can.join(' or ')})`);
        continue;
      }
      if (typeof expect !== 'string' || !(VERDICTS as readonly string[]).includes(expect) || !can.includes(expect)) {
        fail(`expect of a ${validated.check} line must be ${can.join(' or ')} (got ${JSON.stringify(expect)})`);
        continue;
      }
      const { line: _line, ...valid } = validated;
      lines.push({
        ...valid,
        ...(valid.ref !== undefined ? { ref: absolute(dir, valid.ref) } : {}),
        ...(valid.frames !== undefined ? { frames: valid.frames.map((f) => absolute(dir, f)) } : {}),
        expect: expect as Verdict,
        canaryLine: raw.line,
      });
      if (lines.length > MAX_CANARY_LINES) throw new InvalidInputError(`canary set ${path}: more than ${MAX_CANARY_LINES} lines (each is paid for in every batch)`);
    }
  } catch (error) {
    if (error instanceof InvalidInputError) throw error;
    throw new InvalidInputError(`canary set ${path}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  if (reasons.length > 0) {
    const more = reasons.length > REASONS_SHOWN ? `; and ${reasons.length - REASONS_SHOWN} more` : '';
    throw new InvalidInputError(`canary set ${path}: ${reasons.length} invalid line${reasons.length === 1 ? '' : 's'}: ${reasons.slice(0, REASONS_SHOWN).join('; ')}${more}`);
  }
  if (lines.length === 0) throw new InvalidInputError(`canary set ${path} has no lines`);
  return lines;
}

/** A local relative ref made absolute against the canary file's folder; URLs (http, https, s3) as they are. */
function absolute(dir: string, ref: string): string {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(ref) || isAbsolute(ref) ? ref : resolve(dir, ref);
}
