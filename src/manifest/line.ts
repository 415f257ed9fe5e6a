/**
 * Validation of one manifest line: the common fields (`check`, `subject`) here, the per-check
 * fields with the payload schema of the check's module (jobs/, through the check registry). Reasons
 * are one sentence that names the field.
 */
import { z } from 'zod';
import type { CheckName, CheckRegistry } from '../checks/registry.js';
import { VERDICTS, type CheckOptions, type JobPayload, type PreviousScreening } from '../checks/types.js';
import type { RawLine } from './raw-line.js';

/** Longest `subject`, characters. */
export const MAX_SUBJECT_CHARS = 256;
/** Longest batch id, characters. */
export const MAX_BATCH_ID_CHARS = 128;
const BATCH_ID = /^[A-Za-z0-9._:+-]+$/;

/** A line that can become a job: the job payload's own fields. Exactly one of `ref` / `frames` is set, as the check takes. */
export interface ValidLine extends Pick<JobPayload, 'line' | 'check' | 'subject' | 'ref' | 'frames' | 'options' | 'previous' | 'canary' | 'enrolledTemplateId'> {
  readonly ok: true;
}

/** A line that cannot: what could be read of it (for the `failed` record) and why not. */
export interface InvalidLine {
  readonly ok: false;
  readonly line: number;
  /** The check when one was named validly (on the line or by `--check`), else `null`. */
  readonly check: CheckName | null;
  readonly subject: string | null;
  /** Copied when the line had a string `ref`, so the failed record says which media it was. */
  readonly ref?: string;
  /** Copied when the line had a list of strings `frames`. */
  readonly frames?: readonly string[];
  /** One sentence naming the field, e.g. `ref is missing`. */
  readonly reason: string;
}

export type LineValidation = ValidLine | InvalidLine;

/** Options of {@link validateLine}. */
export interface ValidateLineOptions {
  /** The checks a line may name, and their payload schemas. */
  readonly checks: CheckRegistry;
  /**
   * `--check`: the check of lines that name none (`check` absent, `null` or `""`). A line that names a check keeps its own
   * (a mixed manifest stays mixed; `--check` only fills gaps).
   */
  readonly checkOverride?: CheckName;
}

/** Validates one line read by `readManifest`. Never throws. */
export function validateLine(raw: RawLine, options: ValidateLineOptions): LineValidation {
  const { line } = raw;
  const { checks } = options;
  const value = raw.value;
  if (raw.error !== undefined || value === null) {
    const reason = raw.error ?? 'the line holds no record';
    if (value === null) return { ok: false, line, check: null, subject: null, reason };
    // What is known of an unreadable record (a refused folder entry) goes into its failed record.
    const known = readSubject(value.subject);
    const named = checks.has(value.check) ? value.check : (options.checkOverride ?? null);
    return { ok: false, line, check: named, subject: known.ok ? known.value : null, ...copyMedia(value), reason };
  }
  const copied = copyMedia(value);

  const subject = readSubject(value.subject);
  const own = value.check;
  let check: CheckName;
  if (own === undefined || own === null || own === '') {
    if (options.checkOverride === undefined) {
      return invalid('check is missing: name it on the line or pass --check');
    }
    check = options.checkOverride;
  } else if (checks.has(own)) {
    check = own;
  } else {
    return invalid(`check must be one of ${checks.names.join(', ')} (got ${show(own)})`);
  }
  if (!subject.ok) return invalid(subject.reason, check);

  const previous = readPrevious(value.previous, check, checks);
  if (!previous.ok) return invalid(previous.reason, check, subject.value);

  const enrolled = readTemplateId(value.templateId);
  if (!enrolled.ok) return invalid(enrolled.reason, check, subject.value);

  const rest: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(value)) if (!COMMON_FIELDS.has(key)) rest[key] = field;
  const schema = checks.get(check).payload;
  const parsed = schema.safeParse(rest);
  if (!parsed.success) return invalid(describeIssues(checks, check, rest, parsed.error.issues), check, subject.value);

  const data = parsed.data as { ref?: string; frames?: string[]; options?: CheckOptions };
  return {
    ok: true,
    line,
    check,
    subject: subject.value,
    ...(data.ref !== undefined ? { ref: data.ref } : {}),
    ...(data.frames !== undefined ? { frames: data.frames } : {}),
    ...(data.options !== undefined ? { options: data.options } : {}),
    ...(previous.value !== undefined ? { previous: previous.value } : {}),
    ...(enrolled.value !== undefined ? { enrolledTemplateId: enrolled.value } : {}),
  };

  function invalid(reason: string, named: CheckName | null = null, who: string | null = null): InvalidLine {
    const subjectValue = who ?? (subject.ok ? subject.value : null);
    return { ok: false, line, check: named, subject: subjectValue, ...copied, reason };
  }
}

/** Fields every line may carry, whatever its check; the rest is the check's payload. */
const COMMON_FIELDS = new Set(['check', 'subject', 'previous', 'templateId']);

/** Longest `templateId`, characters. */
export const MAX_TEMPLATE_ID_CHARS = 256;

/**
 * `templateId`: the OOTO template the subject is enrolled as (its own), on any line. A string (trimmed;
 * empty is absent); anything else makes the line invalid. The record keeps it as `enrolledTemplateId`
 * (the record's `templateId` is ooto-identify's match), and the rings link it (src/rings/link.ts).
 */
function readTemplateId(value: unknown): { ok: true; value: string | undefined } | { ok: false; reason: string } {
  if (value === undefined || value === null) return { ok: true, value: undefined };
  if (typeof value !== 'string') return { ok: false, reason: `templateId must be a string, the subject's own enrolled OOTO template id (got ${show(value)})` };
  const text = value.trim();
  if (text.length > MAX_TEMPLATE_ID_CHARS) return { ok: false, reason: `templateId is longer than ${MAX_TEMPLATE_ID_CHARS} characters` };
  return { ok: true, value: text === '' ? undefined : text };
}

const PreviousSchema = z
  .object({
    verdict: z.enum(VERDICTS as [string, ...string[]]),
    score: z.number().min(0).max(1).nullable().optional(),
    at: z.string().max(64).nullable().optional(),
  })
  .strict();

type PreviousResult = { ok: true; value: PreviousScreening | undefined } | { ok: false; reason: string };

/** `previous: {verdict, score?, at?}`: the onboarding decision, with a verdict the check can give. */
function readPrevious(value: unknown, check: CheckName, checks: CheckRegistry): PreviousResult {
  if (value === undefined || value === null) return { ok: true, value: undefined };
  const parsed = PreviousSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const at = issue === undefined || issue.path.length === 0 ? 'previous' : `previous.${formatPath(issue.path)}`;
    if (issue?.code === 'unrecognized_keys') return { ok: false, reason: `previous takes verdict, score, at (not ${issue.keys.join(', ')})` };
    return { ok: false, reason: `${at} ${issue?.code === 'invalid_type' && issue.path.length === 0 ? 'must be an object {verdict, score, at}' : (issue?.message ?? 'is not valid')}` };
  }
  const verdicts: readonly string[] = checks.verdictsOf(check);
  if (!verdicts.includes(parsed.data.verdict)) {
    return { ok: false, reason: `previous.verdict of a ${check} line must be ${verdicts.join(' or ')} (got ${show(parsed.data.verdict)})` };
  }
  const out = parsed.data as PreviousScreening;
  return { ok: true, value: out };
}

type SubjectResult = { ok: true; value: string | null } | { ok: false; reason: string };

function readSubject(value: unknown): SubjectResult {
  if (value === undefined || value === null) return { ok: true, value: null };
  let text: string;
  if (typeof value === 'string') text = value.trim();
  else if (typeof value === 'number' && Number.isFinite(value)) text = String(value);
  else return { ok: false, reason: `subject must be a string or a number (got ${show(value)})` };
  if (text.length > MAX_SUBJECT_CHARS) return { ok: false, reason: `subject is longer than ${MAX_SUBJECT_CHARS} characters` };
  return { ok: true, value: text === '' ? null : text };
}

function copyMedia(value: Record<string, unknown>): { ref?: string; frames?: readonly string[] } {
  const out: { ref?: string; frames?: readonly string[] } = {};
  if (typeof value.ref === 'string') out.ref = value.ref.slice(0, 4096);
  const frames: unknown = value.frames;
  if (Array.isArray(frames) && frames.length <= 1000 && frames.every((f): f is string => typeof f === 'string')) {
    out.frames = frames;
  }
  return out;
}

/** The one issue worth telling, as a sentence. Unknown fields first: they explain the rest. */
function describeIssues(checks: CheckRegistry, check: CheckName, value: Record<string, unknown>, issues: readonly z.core.$ZodIssue[]): string {
  const issue = issues.find((i) => i.code === 'unrecognized_keys') ?? issues[0];
  if (issue === undefined) return `the line is not a valid ${check} line`;
  const path = formatPath(issue.path);
  switch (issue.code) {
    case 'unrecognized_keys':
      return describeUnknown(checks, check, issue.path, issue.keys);
    case 'invalid_type': {
      if (issue.path.length === 1 && !Object.hasOwn(value, String(issue.path[0]))) return `${path} is missing`;
      return `${path} must be ${article(issue.expected)}`;
    }
    case 'custom':
    case 'invalid_element':
    case 'invalid_format':
    case 'invalid_key':
    case 'invalid_union':
    case 'invalid_value':
    case 'not_multiple_of':
    case 'too_big':
    case 'too_small':
      return `${path === '' ? 'the line' : path} ${issue.message}`;
  }
}

function describeUnknown(checks: CheckRegistry, check: CheckName, at: readonly PropertyKey[], keys: readonly string[]): string {
  const names = keys.map((k) => (at.length === 0 ? k : `${formatPath(at)}.${k}`)).join(', ');
  const verb = keys.length > 1 ? 'are' : 'is';
  const schema = checks.get(check).payload;
  // What the schema takes at that place, as its module declares it (ooto-identify: ref, options).
  const known = keysAt(schema, at);
  if (at.length > 0) return `${names} ${verb} not an option of ${check} (it knows ${known.join(', ')})`;
  return `${names} ${verb} not a field of ${check} lines (it takes ${known.join(', ')}, check, subject)`;
}

/** The keys of the object schema at `path` inside `schema` (optional wrappers unwrapped). */
function keysAt(schema: z.ZodObject, path: readonly PropertyKey[]): string[] {
  let node: z.ZodType | undefined = schema;
  for (const part of path) {
    while (node instanceof z.ZodOptional) node = node.unwrap() as z.ZodType;
    node = node instanceof z.ZodObject ? (node.shape as Record<string, z.ZodType>)[String(part)] : undefined;
  }
  while (node instanceof z.ZodOptional) node = node.unwrap() as z.ZodType;
  return node instanceof z.ZodObject ? Object.keys(node.shape) : [];
}

function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out;
}

function article(expected: string): string {
  return /^[aeiou]/i.test(expected) ? `an ${expected}` : `a ${expected}`;
}

function show(value: unknown): string {
  const text = typeof value === 'string' ? JSON.stringify(value) : JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 59)}…` : text;
}

/** Result of {@link validateBatchId}. */
export type BatchIdValidation = { readonly ok: true; readonly batch: string } | { readonly ok: false; readonly reason: string };

/**
 * A batch id is 1–128 characters of `A-Z a-z 0-9 . _ : + -`, so it may hold an ISO 8601 timestamp
 * (`2024-05-01T10:00:00+07:00`) and never a newline, space or `/`.
 */
export function validateBatchId(id: string): BatchIdValidation {
  if (id.length === 0) return { ok: false, reason: 'batch id must not be empty' };
  if (id.length > MAX_BATCH_ID_CHARS) return { ok: false, reason: `batch id is longer than ${MAX_BATCH_ID_CHARS} characters` };
  if (!BATCH_ID.test(id)) {
    return { ok: false, reason: `batch id may only hold letters, digits and . _ : + - (got ${show(id)})` };
  }
  return { ok: true, batch: id };
}
