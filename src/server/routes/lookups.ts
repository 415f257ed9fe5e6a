/** Look-ups: a record by transaction id, a subject's records, schedules, webhook deliveries. */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { describeRule, DELIVERY_STATES, listSchedules, recordByTransactionId, subjectCases, subjectRecords, subjectRings, webhookDeliveries } from '../../app/index.js';
import { DeliveriesSchema, LimitQuery, RecordSchema, ScheduleSchema } from '../schemas.js';
import { errors } from './batches.js';
import { CaseSchema, DecisionSchema } from './cases.js';
import type { RouteContext } from './context.js';

export function lookupRoutes(app: FastifyInstance, { runtime }: RouteContext): void {
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.get(
    '/records/:transactionId',
    { schema: { tags: ['records'], summary: 'The record of one vendor transaction id', params: z.object({ transactionId: z.string().min(1).max(200) }), response: { 200: RecordSchema, ...errors } } },
    async (req) => ({ ...(await recordByTransactionId(runtime, req.params.transactionId)) }),
  );

  r.get(
    '/subjects/:subject',
    {
      schema: {
        tags: ['records'],
        summary: "Every record of a subject across batches, oldest first, with the subject's review cases and their decisions and the fraud rings it is in (ids; GET /api/rings/{id})",
        params: z.object({ subject: z.string().min(1).max(1000) }),
        querystring: LimitQuery,
        response: {
          200: z.object({ subject: z.string(), records: z.array(RecordSchema), cases: z.array(z.object({ case: CaseSchema, decisions: z.array(DecisionSchema) })), rings: z.array(z.string()) }),
          ...errors,
        },
      },
    },
    async (req) => {
      const [records, cases, rings] = await Promise.all([subjectRecords(runtime, req.params.subject, req.query.limit), subjectCases(runtime, req.params.subject), subjectRings(runtime, req.params.subject)]);
      return { subject: req.params.subject, records: records.map((rec) => ({ ...rec })), cases, rings };
    },
  );

  r.get('/schedules', { schema: { tags: ['schedules'], summary: 'Schedules, soonest next run first', response: { 200: z.object({ schedules: z.array(ScheduleSchema) }), ...errors } } }, async () => ({
    schedules: (await listSchedules(runtime)).map(({ entry, state, lastSummary }) => ({
      name: entry.name,
      rule: entry.definition ? describeRule(entry.definition.rule) : null,
      check: entry.definition?.check ?? null,
      manifest: entry.definition?.manifest ?? null,
      next: entry.next?.toISOString() ?? null,
      lastBatch: state.lastBatch,
      lastSummary,
      lastSkip: state.lastSkip,
      problem: entry.problem,
    })),
  }));

  r.get(
    '/webhooks',
    {
      schema: {
        tags: ['operations'],
        summary: 'Completion-webhook deliveries (pending, delivered, failed), newest change first',
        querystring: LimitQuery.extend({ state: z.enum(DELIVERY_STATES).optional() }),
        response: { 200: DeliveriesSchema, ...errors },
      },
    },
    async (req) => webhookDeliveries(runtime, { limit: req.query.limit, ...(req.query.state ? { state: req.query.state } : {}) }),
  );
}
