/**
 * Review cases over HTTP (README: Reviewing what changed): the queue, a claim, a case's evidence,
 * decisions (named by the caller's token name, never the token), and a batch's changed lines.
 */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  batchChangeRows,
  caseCounts,
  CASE_REASONS,
  CASE_STATES,
  decideCase,
  DECISIONS,
  listCases,
  MAX_CASE_PAGE,
  nextCase,
  releaseCase,
  showCase,
  vendorMovedWarning,
  type Change,
} from '../../app/index.js';
import { BatchIdParam, RecordSchema } from '../schemas.js';
import { errors } from './batches.js';
import type { RouteContext } from './context.js';

const Counts = z.object(Object.fromEntries(CASE_STATES.map((s) => [s, z.number().int()])) as Record<(typeof CASE_STATES)[number], z.ZodNumber>);

const BaselineSchema = z.object({
  source: z.enum(['record', 'manifest']),
  batch: z.string().nullable(),
  line: z.number().int().nullable(),
  verdict: z.string(),
  score: z.number().nullable(),
  at: z.string().nullable(),
  transactionId: z.string().nullable(),
});

export const CaseLineSchema = z
  .object({
    line: z.number().int(),
    check: z.string(),
    status: z.string(),
    verdict: z.string().nullable(),
    score: z.number().nullable(),
    transactionId: z.string().nullable(),
    kind: z.string().describe('the change kind, as `changes` classifies it'),
    label: z.string(),
    mediaSha256: z.string().nullable(),
    code: z.string().nullable().describe('the refusal code of a rejected or failed line'),
    baseline: BaselineSchema.nullable(),
    reasons: z.array(z.enum(CASE_REASONS)).readonly(),
    sharedWith: z.array(z.string()).readonly().optional(),
  })
  .meta({ id: 'CaseLine' });

export const CaseSchema = z
  .object({
    id: z.string(),
    batch: z.string(),
    subject: z.string(),
    reasons: z.array(z.enum(CASE_REASONS)).readonly(),
    lines: z.array(CaseLineSchema).readonly(),
    openedAt: z.string(),
    state: z.enum(CASE_STATES),
    claimedBy: z.string().nullable(),
    leaseUntil: z.string().nullable(),
    decision: z.enum(DECISIONS).nullable(),
    decidedBy: z.string().nullable(),
    decidedAt: z.string().nullable(),
    decisions: z.number().int(),
  })
  .meta({ id: 'Case' });

export const DecisionSchema = z
  .object({
    id: z.string(),
    caseId: z.string(),
    seq: z.number().int(),
    batch: z.string(),
    subject: z.string(),
    decision: z.enum(DECISIONS),
    note: z.string(),
    reviewer: z.string().describe("the token's name (never the token)"),
    at: z.string(),
  })
  .meta({ id: 'Decision' });

const CaseIdParam = z.object({ id: z.string().min(1).max(64).describe('The case id (c + 16 hex digits)') });

const ChangeSchema = z.looseObject({ line: z.number().int(), subject: z.string().nullable(), kind: z.string(), label: z.string() }).meta({ id: 'Change' });

export function caseRoutes(app: FastifyInstance, { runtime }: RouteContext): void {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const who = (req: { caller?: { name: string } }) => req.caller?.name ?? 'anonymous';

  r.get(
    '/cases',
    {
      schema: {
        tags: ['cases'],
        summary: 'Review cases, oldest opened first, a page at a time (`next` is the cursor), with the counts per state',
        querystring: z.object({
          batch: z.string().min(1).max(200).optional(),
          state: z.enum(CASE_STATES).optional(),
          reason: z.enum(CASE_REASONS).optional(),
          subject: z.string().min(1).max(1000).optional(),
          limit: z.coerce.number().int().min(1).max(MAX_CASE_PAGE).default(50),
          after: z.string().max(20).optional(),
        }),
        response: { 200: z.object({ cases: z.array(CaseSchema), next: z.string().nullable(), counts: Counts }), ...errors },
      },
    },
    async (req) => {
      const page = await listCases(runtime, req.query);
      return { ...page, counts: await caseCounts(runtime, req.query.batch) };
    },
  );

  r.post(
    '/cases/next',
    {
      schema: {
        tags: ['cases'],
        summary: "Claim the oldest open case for the caller (the token's name) for a lease (default 15 min); case null when the queue is empty",
        body: z.object({ leaseSeconds: z.number().int().min(1).max(86_400).optional(), batch: z.string().min(1).max(200).optional() }).nullish(),
        response: { 200: z.object({ case: CaseSchema.nullable() }), ...errors },
      },
    },
    async (req) => ({
      case: await nextCase(runtime, {
        reviewer: who(req),
        ...(req.body?.leaseSeconds !== undefined ? { leaseMs: req.body.leaseSeconds * 1000 } : {}),
        ...(req.body?.batch !== undefined ? { batch: req.body.batch } : {}),
      }),
    }),
  );

  r.get(
    '/cases/:id',
    {
      schema: {
        tags: ['cases'],
        summary: "A case's evidence: the case, each line's record, baseline record and attempt-log rows, its decisions",
        params: CaseIdParam,
        response: {
          200: z.object({
            case: CaseSchema,
            lines: z.array(z.object({ line: z.number().int(), record: RecordSchema.nullable(), baseline: RecordSchema.nullable(), attempts: z.array(z.looseObject({ batch: z.string() })) })),
            decisions: z.array(DecisionSchema),
          }),
          ...errors,
        },
      },
    },
    async (req) => {
      const evidence = await showCase(runtime, req.params.id);
      return {
        case: evidence.case,
        lines: evidence.lines.map((l) => ({ line: l.line, record: l.record ? { ...l.record } : null, baseline: l.baseline ? { ...l.baseline } : null, attempts: l.attempts.map((a) => ({ ...a })) })),
        decisions: [...evidence.decisions],
      };
    },
  );

  r.post(
    '/cases/:id/decisions',
    {
      schema: {
        tags: ['cases'],
        summary: "Decide a case (append-only: a later decision supersedes, the earlier stays), as the caller (the token's name); 409 while another reviewer's claim is live",
        params: CaseIdParam,
        body: z.object({ decision: z.string().describe(DECISIONS.join(' | ')), note: z.string().max(4000).optional() }),
        response: { 201: z.object({ case: CaseSchema, decision: DecisionSchema }), ...errors },
      },
    },
    async (req, reply) => {
      const result = await decideCase(runtime, req.params.id, { decision: req.body.decision, note: req.body.note, reviewer: who(req) });
      return reply.code(201).send(result);
    },
  );

  r.post(
    '/cases/:id/release',
    { schema: { tags: ['cases'], summary: 'Give a claimed case back to the queue (its holder only)', params: CaseIdParam, response: { 200: z.object({ case: CaseSchema }), ...errors } } },
    async (req) => ({ case: await releaseCase(runtime, req.params.id, who(req)) }),
  );

  r.get(
    '/batches/:id/changes',
    {
      schema: {
        tags: ['batches'],
        summary: "The batch's lines next to each subject's previous screening (a page of lines after `after`)",
        params: BatchIdParam,
        querystring: z.object({
          onlyWorse: z.enum(['true', 'false']).optional(),
          against: z.string().min(1).max(200).optional(),
          minDelta: z.coerce.number().min(0).max(1).optional(),
          after: z.coerce.number().int().min(0).default(0).describe('only lines after this one'),
          limit: z.coerce.number().int().min(1).max(10_000).default(1000),
        }),
        response: {
          200: z.object({
            warning: z
              .string()
              .nullable()
              .describe("set when the finished batch's drift alert fired (its canaries moved, or a check's PSI reads shift): some of these changes may be the vendor's"),
            changes: z.array(ChangeSchema),
            next: z.number().int().nullable(),
          }),
          ...errors,
        },
      },
    },
    async (req) => {
      const q = req.query;
      const rows = await batchChangeRows(runtime, req.params.id, {
        ...(q.onlyWorse === 'true' ? { onlyWorse: true } : {}),
        ...(q.against !== undefined ? { against: q.against } : {}),
        ...(q.minDelta !== undefined ? { minDelta: q.minDelta } : {}),
      });
      const changes: Change[] = [];
      let more = false;
      for await (const c of rows) {
        if (c.line <= q.after) continue;
        if (changes.length >= q.limit) {
          more = true;
          break;
        }
        changes.push(c);
      }
      // As `changes` heads its output: whether the vendor moved too.
      const warning = await vendorMovedWarning(runtime, req.params.id);
      return { warning, changes: changes.map((c) => ({ ...c })), next: more ? changes[changes.length - 1]!.line : null };
    },
  );
}
