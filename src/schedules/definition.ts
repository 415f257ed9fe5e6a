/**
 * A schedule: which manifest to re-screen, with which check, when, and what to do when the previous
 * run is still going. Stored as the data of its BullMQ job scheduler (./repository.ts), so every
 * firing carries the definition it was made from.
 */
import { stat } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import type { CheckName } from '../checks/registry.js';
import { InvalidScheduleError } from './errors.js';
import { canonicalTimeZone, MAX_EVERY_MS, MIN_EVERY_MS, ruleFromOptions, validateCron } from './rule.js';

/** Schedule names: 1–64 of `A-Z a-z 0-9 . _ -` (they start every batch id the schedule makes). */
export const SCHEDULE_NAME = /^[A-Za-z0-9._-]{1,64}$/;

/** What a firing does when the schedule's previous batch has not got a record for every line yet. */
export type OverlapPolicy = 'skip' | 'allow';
export const OVERLAP_POLICIES: readonly OverlapPolicy[] = ['skip', 'allow'];

const RuleSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('every'), every: z.string().min(1), everyMs: z.number().int().min(MIN_EVERY_MS).max(MAX_EVERY_MS) }),
  z.object({
    kind: z.literal('cron'),
    pattern: z.string().min(1),
    tz: z.string().min(1),
  }),
]);

/**
 * The stored shape of a schedule (version 1). Fields:
 * - `name`: the scheduler id, see {@link SCHEDULE_NAME};
 * - `manifest`: absolute path of the manifest (file or folder) read at each firing;
 * - `check`: `--check` for lines that name none, or `null`;
 * - `rule`: when it fires (./rule.ts);
 * - `overlap`: `skip` (default) or `allow`;
 * - `updatedAt`: when it was last added or changed, ISO 8601.
 */
export const ScheduleDefinitionSchema = z.object({
  version: z.literal(1),
  name: z.string().regex(SCHEDULE_NAME),
  manifest: z.string().refine((p) => isAbsolute(p), 'must be an absolute path'),
  // A registered check's name: the CLI checks it against the registry, the firing's producer again.
  check: z.string().min(1).max(128).nullable(),
  rule: RuleSchema,
  overlap: z.enum(['skip', 'allow']),
  /** The `--review` rules of its batches (src/review/rules.ts); absent: the defaults. */
  review: z.string().min(1).max(200).optional(),
  /** `--canary`: the canary set (absolute path) screened in each of its batches, and its threshold. */
  canary: z.string().refine((p) => isAbsolute(p), 'must be an absolute path').optional(),
  canaryThreshold: z.number().min(0).max(1).optional(),
  updatedAt: z.iso.datetime(),
});

export type ScheduleDefinition = z.infer<typeof ScheduleDefinitionSchema>;

/** Options of `rescreen schedule add`, as given. */
export interface ScheduleInput {
  readonly name: string;
  readonly manifest: string;
  readonly check?: CheckName;
  readonly every?: string;
  readonly cron?: string;
  readonly tz?: string;
  readonly overlap?: OverlapPolicy;
  /** `--review` rules for its batches, checked by the caller (src/review/rules.ts). */
  readonly review?: string;
  /** `--canary` set for its batches (checked by the caller) and `--canary-threshold`. */
  readonly canary?: string;
  readonly canaryThreshold?: number;
}

/**
 * Validates `schedule add` options into a definition: the name, the rule (./rule.ts), and a manifest
 * that exists now (stored as an absolute path, resolved against `cwd`).
 * @throws InvalidScheduleError naming the bad option.
 */
export async function buildDefinition(input: ScheduleInput, options: { cwd?: string; now?: Date } = {}): Promise<ScheduleDefinition> {
  assertScheduleName(input.name);
  const rule = ruleFromOptions(input);
  const manifest = resolve(options.cwd ?? process.cwd(), input.manifest);
  try {
    await stat(manifest);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new InvalidScheduleError(
      `--manifest ${manifest}: ${code === 'ENOENT' ? 'no such file or folder' : code === 'EACCES' ? 'permission denied' : String(code ?? error)}`,
      { cause: error },
    );
  }
  return {
    version: 1,
    name: input.name,
    manifest,
    check: input.check ?? null,
    rule,
    overlap: input.overlap ?? 'skip',
    ...(input.review !== undefined ? { review: input.review } : {}),
    ...(input.canary !== undefined ? { canary: resolve(options.cwd ?? process.cwd(), input.canary) } : {}),
    ...(input.canaryThreshold !== undefined ? { canaryThreshold: input.canaryThreshold } : {}),
    updatedAt: (options.now ?? new Date()).toISOString(),
  };
}

/** @throws InvalidScheduleError unless `name` matches {@link SCHEDULE_NAME}. */
export function assertScheduleName(name: string): void {
  if (!SCHEDULE_NAME.test(name)) {
    throw new InvalidScheduleError(`schedule name ${JSON.stringify(name)}: must be 1-64 characters of A-Z a-z 0-9 . _ -`);
  }
}

/**
 * Parses stored schedule data (a job's or a scheduler's), re-checking the rule as `add` did.
 * @returns the definition, or `null` with the reason when it is not one.
 */
export function parseDefinition(data: unknown): { ok: true; definition: ScheduleDefinition } | { ok: false; reason: string } {
  const parsed = ScheduleDefinitionSchema.safeParse(data);
  if (!parsed.success) return { ok: false, reason: parsed.error.issues.map((i) => `${i.path.join('.') || 'data'} ${i.message}`).join('; ') };
  const { rule } = parsed.data;
  if (rule.kind === 'cron') {
    try {
      if (canonicalTimeZone(rule.tz) !== rule.tz) return { ok: false, reason: `rule.tz ${rule.tz} is not canonical` };
      validateCron(rule.pattern, rule.tz);
    } catch (error) {
      return { ok: false, reason: error instanceof Error ? error.message : String(error) };
    }
  }
  return { ok: true, definition: parsed.data };
}

/**
 * The batch id of a firing: `<name>-<scheduled time, ISO 8601 UTC with milliseconds>`, e.g.
 * `nightly-2025-03-01T02:00:00.000Z`. Deterministic, so a firing processed twice makes the same batch
 * (and, the producer and store being idempotent per (batch, line), no second vendor call).
 */
export function batchIdOf(name: string, scheduledAt: Date | number): string {
  return `${name}-${new Date(scheduledAt).toISOString()}`;
}
