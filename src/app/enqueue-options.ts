/**
 * The options of an enqueue, written once. The CLI's flags (`enqueue`, `run`, `batch raise`'s caps),
 * the programmatic API's `enqueue`/`run` options, the HTTP API's query (`POST /api/batches`) and
 * {@link enqueueBatch}'s arguments all derive from {@link ENQUEUE_OPTIONS}: a new option is one entry
 * here, and appears in all of them at once.
 */
import { z } from 'zod';
import { DEFAULT_FAILURE_WINDOW, MAX_FAILURE_WINDOW } from '../config/defaults.js';
import { InvalidInputError } from '../errors/errors.js';
import { validateBatchId } from '../manifest/line.js';
import { DEFAULT_PRIORITY, MAX_PRIORITY } from '../queueing/names.js';
import { BUILT_INS } from '../runtime/built-ins.js';
import { parseReviewRules, REVIEW_HELP } from '../review/rules.js';
import { DEFAULT_CANARY_THRESHOLD } from '../drift/canary-set.js';

/**
 * How an option is written where everything is text (a command-line argument, a query parameter):
 * `text` as it is, `count` a whole number, `flag` a boolean (on the command line: present or not).
 */
export type OptionKind = 'text' | 'count' | 'flag';

/** One enqueue option: its value's schema (the one rule, with the message a user reads), its flag and help. */
export interface EnqueueOption<T extends z.ZodType = z.ZodType> {
  readonly kind: OptionKind;
  /** The value's schema; a default it has applies on every channel. */
  readonly schema: T;
  /** The command-line flag: `--max-calls <n>`, or `--dedupe` for a `flag`. */
  readonly flag: string;
  /** One line for `--help`, the README and the OpenAPI document. */
  readonly help: string;
}

const option = <T extends z.ZodType>(spec: EnqueueOption<T>): EnqueueOption<T> => spec;

const FAILURE_WINDOW_RULE = `--failure-window must be a whole number of lines from 1 to ${MAX_FAILURE_WINDOW}`;
const PRIORITY_RULE = `--priority must be a whole number from 1 (last) to ${MAX_PRIORITY} (first); the default is ${DEFAULT_PRIORITY}`;

/** Every enqueue option, in the order `--help` lists them. */
export const ENQUEUE_OPTIONS = {
  batch: option({
    kind: 'text',
    schema: z.string().superRefine((id, ctx) => {
      const checked = validateBatchId(id);
      if (!checked.ok) ctx.addIssue({ code: 'custom', message: `--batch ${JSON.stringify(id)}: ${checked.reason}` });
    }),
    flag: '--batch <id>',
    help: 'batch id (default: the manifest name plus a hash of its content)',
  }),
  check: option({
    kind: 'text',
    // Which checks exist is the runtime's registry's to say (the producer refuses another).
    schema: z.string().min(1, '--check must name a check').max(64, '--check is longer than 64 characters'),
    flag: '--check <check>',
    help: 'check for lines that name none',
  }),
  dryRun: option({
    kind: 'flag',
    schema: z.boolean().default(false),
    flag: '--dry-run',
    help: 'validate, count and estimate paid calls, cost, local rejections and time; enqueue and write nothing',
  }),
  maxCalls: option({
    kind: 'count',
    schema: z.int({ error: '--max-calls must be a whole number ≥ 0' }).min(0, { error: '--max-calls must be a whole number ≥ 0' }),
    flag: '--max-calls <n>',
    help: 'most paid vendor calls the batch may make; then its lines wait (rescreen batch raise)',
  }),
  maxSpend: option({
    kind: 'text',
    schema: z
      .string()
      .trim()
      .regex(/^\d{1,12}(\.\d{1,6})?$/, { error: (issue) => `--max-spend must be an amount such as 25 or 12.50 (got ${JSON.stringify(issue.input)})` }),
    flag: '--max-spend <amount>',
    help: `most the batch may spend at the vendors' prices (${BUILT_INS.vendors.map((v) => v.priceVar).join(', ')}), e.g. 25.00`,
  }),
  priority: option({
    kind: 'count',
    schema: z.int({ error: PRIORITY_RULE }).min(1, { error: PRIORITY_RULE }).max(MAX_PRIORITY, { error: PRIORITY_RULE }),
    flag: '--priority <n>',
    help: `1 (last) to ${MAX_PRIORITY} (first); a higher one goes ahead of batches queued earlier (default ${DEFAULT_PRIORITY})`,
  }),
  dedupe: option({
    kind: 'flag',
    schema: z.boolean(),
    flag: '--dedupe',
    help: 'pay once per media: lines with the same media bytes, check and options share one vendor answer',
  }),
  maxFailureRate: option({
    kind: 'text',
    schema: z
      .string()
      .trim()
      .regex(/^\d{1,2}(\.\d{1,4})?\s*%?$/, { error: (issue) => `--max-failure-rate must be a percentage from 0 to below 100, such as 5% or 2.5% (got ${JSON.stringify(issue.input)})` }),
    flag: '--max-failure-rate <rate>',
    help: "pause the batch once more than this share of its last --failure-window finished lines failed on the vendor's side, e.g. 5%",
  }),
  failureWindow: option({
    kind: 'count',
    schema: z
      .int({ error: FAILURE_WINDOW_RULE })
      .min(1, { error: FAILURE_WINDOW_RULE })
      .max(MAX_FAILURE_WINDOW, { error: FAILURE_WINDOW_RULE }),
    flag: '--failure-window <n>',
    help: `finished lines --max-failure-rate is taken over (default ${DEFAULT_FAILURE_WINDOW})`,
  }),
  review: option({
    kind: 'text',
    schema: z.string().superRefine((text, ctx) => {
      const parsed = parseReviewRules(text);
      if (!parsed.ok) ctx.addIssue({ code: 'custom', message: parsed.reason });
    }),
    flag: '--review <rules>',
    help: REVIEW_HELP,
  }),
  canary: option({
    kind: 'text',
    schema: z.string().trim().min(1, '--canary must name a canary set file (JSONL or CSV: manifest lines plus expect)').max(4096, '--canary is longer than 4096 characters'),
    flag: '--canary <file>',
    help: 'a canary set: manifest lines plus expect (genuine|deepfake|match|no-match), screened first in the batch to watch the vendor',
  }),
  canaryThreshold: option({
    kind: 'text',
    schema: z
      .string()
      .trim()
      .regex(/^(0(\.\d{1,4})?|1(\.0{1,4})?)$/, { error: (issue) => `--canary-threshold must be a number from 0 to 1, such as 0.1 (got ${JSON.stringify(issue.input)})` }),
    flag: '--canary-threshold <x>',
    help: `how far the mean of the canary scores may move against their previous run before the canary alert (default ${DEFAULT_CANARY_THRESHOLD})`,
  }),
} as const;

export type EnqueueOptionName = keyof typeof ENQUEUE_OPTIONS;
type Options = typeof ENQUEUE_OPTIONS;

/** Each option may be left out; one with a default (dryRun) then has it. */
type OptionsShape = {
  [K in EnqueueOptionName]: Options[K]['schema'] extends z.ZodDefault ? Options[K]['schema'] : z.ZodOptional<Options[K]['schema']>;
};

/** The options, checked (defaults applied). */
export const EnqueueOptionsSchema = z.object(
  Object.fromEntries(Object.entries(ENQUEUE_OPTIONS).map(([name, o]) => [name, o.schema instanceof z.ZodDefault ? o.schema : o.schema.optional()])) as OptionsShape,
);

/** The options as a caller gives them (the programmatic API's `enqueue` options). */
export type EnqueueOptions = z.input<typeof EnqueueOptionsSchema>;
/** The options once checked. */
export type CheckedEnqueueOptions = z.output<typeof EnqueueOptionsSchema>;

/** Only the enqueue options of `values` (the programmatic API's `run` takes its work and wait options alongside). */
export function pickEnqueueOptions(values: EnqueueOptions): EnqueueOptions {
  return Object.fromEntries(Object.keys(ENQUEUE_OPTIONS).flatMap((name) => (values[name as EnqueueOptionName] === undefined ? [] : [[name, values[name as EnqueueOptionName]]])));
}

/** Checks options given in code (the API, the CLI once its flags are read). @throws InvalidInputError with the option's own message. */
export function checkEnqueueOptions(options: EnqueueOptions): CheckedEnqueueOptions {
  const parsed = EnqueueOptionsSchema.safeParse(options);
  if (!parsed.success) throw new InvalidInputError(parsed.error.issues.map((i) => i.message).join('; '));
  return parsed.data;
}

/** The text form of each kind, read into the value its schema checks. */
const TEXT: Record<OptionKind, z.ZodType<unknown, string>> = {
  text: z.string(),
  count: z.string().regex(/^\d{1,15}$/, 'must be a whole number').transform(Number),
  flag: z.enum(['true', 'false']).transform((v) => v === 'true'),
};

/** The options as query parameters: each one's text, read into its checked value. */
export type EnqueueQueryShape = { [K in EnqueueOptionName]: z.ZodType<CheckedEnqueueOptions[K], string | undefined> };

/**
 * The options as query parameters (text): each read by its kind, then checked by its schema (a
 * default holds when the parameter is absent, as on every channel). The HTTP API's
 * `POST /api/batches` query; its OpenAPI document shows each option's help.
 */
export function enqueueQuerySchema(): z.ZodObject<EnqueueQueryShape> {
  const shape = Object.fromEntries(
    Object.entries(ENQUEUE_OPTIONS).map(([name, o]) => {
      const read = TEXT[o.kind].pipe(o.schema);
      const value = o.schema instanceof z.ZodDefault ? read.default(o.schema.parse(undefined)) : read.optional();
      return [name, value.describe(o.help)];
    }),
  );
  return z.object(shape) as unknown as z.ZodObject<EnqueueQueryShape>;
}

/** Reads one option's text (a command-line argument) as its kind says; the schema checks the value later. @throws Error naming what it must be. */
export function readOptionText(name: EnqueueOptionName, text: string): unknown {
  const read = TEXT[ENQUEUE_OPTIONS[name].kind].safeParse(text);
  if (!read.success) throw new Error(read.error.issues[0]?.message ?? 'is not readable');
  return read.data;
}
