/**
 * When a schedule fires: `--every <n>(s|m|h|d)` or a cron expression with an optional IANA time zone.
 * Parsed strictly here, before anything reaches BullMQ, so a typo stops `schedule add` with a message
 * instead of a scheduler that never (or always) fires.
 */
// cron-parser is the parser BullMQ's job schedulers use for `pattern`: what validates here fires there.
import cronParser from 'cron-parser';
import { InvalidScheduleError } from './errors.js';

/** The repeat rule of a schedule, as stored in its definition. */
export type ScheduleRule =
  | {
      readonly kind: 'every';
      /** The duration as the operator wrote it, e.g. `24h` (for display). */
      readonly every: string;
      /** The same duration in milliseconds (what BullMQ gets). */
      readonly everyMs: number;
    }
  | {
      readonly kind: 'cron';
      /** 5 fields (minute hour day-of-month month day-of-week), 6 with seconds first, or an `@alias`. */
      readonly pattern: string;
      /**
       * Canonical IANA time zone the pattern is read in; default `UTC`. Always set, so every worker
       * reads the pattern the same way whatever its machine's local zone.
       */
      readonly tz: string;
    };

const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** Shortest `--every`: 1 s. */
export const MIN_EVERY_MS = 1_000;
/** Longest `--every`: 366 days. */
export const MAX_EVERY_MS = 366 * UNIT_MS.d;

/**
 * Parses `<n>(s|m|h|d)` (e.g. `90s`, `15m`, `24h`, `7d`) into milliseconds. Nothing else is accepted:
 * no fractions, no spaces, no bare numbers (is `100` seconds or milliseconds?).
 * @throws InvalidScheduleError when the text is not such a duration or is outside 1 s – 366 d.
 */
export function parseEvery(text: string): number {
  const match = /^([1-9]\d{0,8})(s|m|h|d)$/.exec(text.trim());
  if (!match) throw new InvalidScheduleError(`--every ${JSON.stringify(text)}: must read <number><s|m|h|d>, e.g. 30s, 15m, 24h or 7d`);
  const ms = Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
  if (ms < MIN_EVERY_MS || ms > MAX_EVERY_MS) throw new InvalidScheduleError(`--every ${JSON.stringify(text)}: must be from 1s to 366d`);
  return ms;
}

/**
 * The canonical name of an IANA time zone (`europe/paris` → `Europe/Paris`), as `Intl` knows it.
 * @throws InvalidScheduleError when `Intl` does not know the zone.
 */
export function canonicalTimeZone(tz: string): string {
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone: tz.trim() }).resolvedOptions().timeZone;
  } catch {
    throw new InvalidScheduleError(`--tz ${JSON.stringify(tz)}: not a time zone this system knows (use an IANA name such as Europe/Paris or UTC)`);
  }
}

/**
 * Checks a cron expression (5 fields, or 6 with seconds first, or an alias such as `@daily`) in a
 * time zone, and returns its next run after `from`.
 * @throws InvalidScheduleError naming what is wrong.
 */
export function validateCron(pattern: string, tz: string, from: Date = new Date()): Date {
  const trimmed = pattern.trim();
  const fields = trimmed.split(/\s+/).length;
  if (!trimmed.startsWith('@') && fields !== 5 && fields !== 6) {
    throw new InvalidScheduleError(
      `--cron ${JSON.stringify(pattern)}: needs 5 fields (minute hour day-of-month month day-of-week), or 6 with seconds first; got ${fields}`,
    );
  }
  try {
    return cronParser.parseExpression(trimmed, { currentDate: from, tz }).next().toDate();
  } catch (error) {
    throw new InvalidScheduleError(`--cron ${JSON.stringify(pattern)}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
}

/** The rule from the `schedule add` options: exactly one of `every` / `cron`; `tz` only with `cron`. */
export function ruleFromOptions(options: { every?: string; cron?: string; tz?: string }): ScheduleRule {
  const { every, cron, tz } = options;
  if (every !== undefined && cron !== undefined) throw new InvalidScheduleError('give either --every or --cron, not both');
  if (every !== undefined) {
    if (tz !== undefined) throw new InvalidScheduleError('--tz applies to --cron only (--every counts from the first run)');
    return { kind: 'every', every: every.trim(), everyMs: parseEvery(every) };
  }
  if (cron !== undefined) {
    const zone = canonicalTimeZone(tz ?? 'UTC');
    validateCron(cron, zone);
    return { kind: 'cron', pattern: cron.trim().replace(/\s+/g, ' '), tz: zone };
  }
  throw new InvalidScheduleError('give --every <duration> (e.g. 24h) or --cron "<expression>" (e.g. "0 2 * * *")');
}

/** `every 24h`, `cron 0 2 * * * (Europe/Paris)`. */
export function describeRule(rule: ScheduleRule): string {
  switch (rule.kind) {
    case 'every':
      return `every ${rule.every}`;
    case 'cron':
      return `cron ${rule.pattern} (${rule.tz})`;
  }
}

/** The BullMQ repeat options of a rule. */
export function repeatOptionsOf(rule: ScheduleRule): { every: number } | { pattern: string; tz: string } {
  switch (rule.kind) {
    case 'every':
      return { every: rule.everyMs };
    case 'cron':
      return { pattern: rule.pattern, tz: rule.tz };
  }
}
