/** The `/api` routes of batches (relative to the plugin's prefix): list, one batch, its results (streamed), failures by code, enqueue, retry, control; quotas. */
import { stringify } from 'csv-stringify';
import { createHash, randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { realpath, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { PassThrough, Readable, Transform, pipeline } from 'node:stream';
import { pipeline as pipelineAsync } from 'node:stream/promises';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  batchRecords,
  batchStatus,
  cancelBatch,
  csvColumns,
  csvRow,
  enqueueBatch,
  isFinished,
  listBatches,
  pauseBatch,
  quotas,
  raiseBudget,
  resumeBatch,
  retryBatch,
  type BatchSummary,
  type VendorQuotaReport,
} from '../../app/index.js';
import { RescreenError } from '../../errors/errors.js';
import { problem, ProblemSchema } from '../problem.js';
import { BatchIdParam, BatchListSchema, ControlResultSchema, BatchViewSchema, EnqueueQuery, EnqueueSummarySchema, FailuresSchema, LimitQuery, ResultsQuery, RetryBody, RetrySummarySchema, ServerPathBody } from '../schemas.js';
import type { RouteContext } from './context.js';

/** Content types a manifest may be uploaded as (the body is streamed to a file, never buffered). */
export const MANIFEST_TYPES = ['application/x-ndjson', 'application/jsonl', 'application/x-jsonlines', 'text/csv', 'text/plain', 'application/octet-stream'];

export const errors = { '4xx': ProblemSchema, '5xx': ProblemSchema };

/** Progress, rate and ETA of a summary, as the CLI's bar shows them. */
export function batchView(summary: BatchSummary, quotaReports: readonly VendorQuotaReport[], now = Date.now()) {
  const finished = isFinished(summary);
  const progress = summary.total > 0 ? Math.min(1, summary.recorded / summary.total) : finished ? 1 : 0;
  const seconds = ((summary.finishedAt ? Date.parse(summary.finishedAt) : now) - Date.parse(summary.createdAt)) / 1000;
  const ratePerSecond = summary.recorded > 0 && seconds > 0 ? summary.recorded / seconds : null;
  const left = summary.producerDone ? summary.total - summary.recorded : null;
  return {
    summary,
    finished,
    progress,
    ratePerSecond,
    etaSeconds: !finished && left !== null && ratePerSecond ? left / ratePerSecond : null,
    quotas: quotaReports.map((q) => ({ vendor: q.vendor, quota: q.quota?.text ?? null, line: q.line ?? null })),
  };
}

async function* jsonLines(records: AsyncIterable<unknown>): AsyncGenerator<string> {
  for await (const r of records) yield `${JSON.stringify(r)}\n`;
}

/** A stream of the records as CSV or JSONL; the store is read as the client reads (backpressure). */
function resultStream(records: AsyncIterable<Parameters<typeof csvRow>[0]>, format: 'csv' | 'jsonl', fields: readonly string[]): Readable {
  if (format === 'jsonl') return Readable.from(jsonLines(records));
  const out = new PassThrough();
  pipeline(
    Readable.from(records),
    new Transform({ objectMode: true, transform: (r: Parameters<typeof csvRow>[0], _e, done) => done(null, csvRow(r, fields)) }),
    stringify({ header: true, columns: csvColumns(fields) }),
    out,
    () => undefined, // an error or an early close destroys every stage; the client sees a cut answer
  );
  return out;
}

/** Resolves an operator-given path inside the allow-listed root (symbolic links followed), or throws. */
async function allowedPath(root: string | undefined, given: string): Promise<string> {
  if (root === undefined) throw new RescreenError('FORBIDDEN', 'server-side manifest paths are off: set RESCREEN_SERVE_MANIFEST_ROOT, or upload the manifest as the body');
  const rootReal = await realpath(root).catch(() => {
    throw new RescreenError('INVALID_INPUT', 'RESCREEN_SERVE_MANIFEST_ROOT cannot be read on the server');
  });
  const target = isAbsolute(given) ? given : resolve(rootReal, given);
  const real = await realpath(target).catch(() => {
    throw new RescreenError('INVALID_INPUT', `cannot read manifest ${JSON.stringify(given)} under the manifest root`);
  });
  const rel = relative(rootReal, real);
  if (rel.startsWith('..') || isAbsolute(rel)) throw new RescreenError('FORBIDDEN', `manifest ${JSON.stringify(given)} is outside RESCREEN_SERVE_MANIFEST_ROOT`);
  return real;
}

export function batchRoutes(app: FastifyInstance, ctx: RouteContext): void {
  const { runtime } = ctx;
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.get('/batches', { schema: { tags: ['batches'], summary: 'Batches, newest first', querystring: LimitQuery, response: { 200: BatchListSchema, ...errors } } }, async (req) => {
    const { batches, quotas: q } = await listBatches(runtime, req.query.limit);
    return { batches: batches.map((b) => batchView(b, q)) };
  });

  r.get('/batches/:id', { schema: { tags: ['batches'], summary: 'One batch: counts by status and verdict, progress, rate, ETA, quota state', params: BatchIdParam, response: { 200: BatchViewSchema, ...errors } } }, async (req) => {
    const s = await batchStatus(runtime, req.params.id);
    return { ...batchView(s.summary, s.quotas), pending: s.pending, state: s.state, waiting: [...s.waiting], warnings: [...s.warnings], budget: { ...s.budget }, ...(s.changes ? { changes: { ...s.changes } } : {}) };
  });

  r.get(
    '/batches/:id/results',
    {
      schema: {
        tags: ['batches'],
        summary: 'The batch’s records in line order, streamed (flat memory), optionally of one status',
        params: BatchIdParam,
        querystring: ResultsQuery,
        response: {
          200: { description: 'JSON lines or CSV', content: { 'application/x-ndjson': { schema: z.string() }, 'text/csv': { schema: z.string() } } },
          ...errors,
        },
      },
    },
    async (req, reply) => {
      const records = await batchRecords(runtime, req.params.id, req.query.status ? { status: req.query.status } : {});
      const csv = req.query.format === 'csv';
      const name = req.params.id.replace(/[^A-Za-z0-9._-]/g, '_');
      return reply
        .type(csv ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8')
        .header('content-disposition', `attachment; filename="${name}.${csv ? 'csv' : 'jsonl'}"`)
        // A stream is sent as-is (no serializer); the schema's string stands for its text.
        .send(resultStream(records, csv ? 'csv' : 'jsonl', runtime.checks.recordFields) as unknown as string);
    },
  );

  r.get('/batches/:id/failures', { schema: { tags: ['batches'], summary: 'Failed and rejected records by error code (reads the whole batch, streamed)', params: BatchIdParam, response: { 200: FailuresSchema, ...errors } } }, async (req) => {
    const byCode: Record<string, number> = {};
    for await (const rec of await batchRecords(runtime, req.params.id)) {
      if (rec.error) byCode[String(rec.error.code)] = (byCode[String(rec.error.code)] ?? 0) + 1;
    }
    return { batch: req.params.id, byCode };
  });

  r.post(
    '/batches',
    {
      bodyLimit: ctx.bodyLimitBytes,
      schema: { tags: ['batches'], summary: 'Enqueue a manifest: uploaded as the body (JSONL or CSV), or {"path"} of one under RESCREEN_SERVE_MANIFEST_ROOT', querystring: EnqueueQuery, response: { 202: EnqueueSummarySchema, ...errors } },
    },
    async (req, reply) => {
      const { format, ...query } = req.query;
      // A canary set named over HTTP is a server-side path: inside the manifest root, as a manifest's.
      const base = query.canary === undefined ? query : { ...query, canary: await allowedPath(ctx.manifestRoot, query.canary) };
      if (!(req.body instanceof Readable)) {
        const body = ServerPathBody.safeParse(req.body);
        if (!body.success) return reply.code(400).type('application/problem+json').send(problem(400, 'INVALID_INPUT', `body must be {"path": "…"} or a manifest (${MANIFEST_TYPES.join(', ')}): ${body.error.issues.map((i) => `${i.path.join('.') || 'body'} ${i.message}`).join('; ')}`));
        const summary = await enqueueBatch(runtime, { manifest: await allowedPath(ctx.manifestRoot, body.data.path), ...base });
        return reply.code(202).send({ ...summary, invalidLines: [...summary.invalidLines] });
      }
      const summary = await withUpload(req.body, ctx, format ?? (String(req.headers['content-type']).startsWith('text/csv') ? 'csv' : 'jsonl'), (file, sha) =>
        // The upload was hashed as it was written: the producer's cursor takes that digest.
        enqueueBatch(runtime, { manifest: file, ...base, batch: base.batch ?? `upload-${sha.slice(0, 12)}`, manifestSha256: sha }),
      );
      return reply.code(202).send({ ...summary, invalidLines: [...summary.invalidLines] });
    },
  );

  r.post(
    '/batches/:id/retry',
    {
      schema: {
        tags: ['batches'],
        summary: 'Re-enqueue the batch’s failed lines (never rejected ones), all or those the body picks; dryRun counts and prices them only',
        params: BatchIdParam,
        body: RetryBody.nullish(),
        response: { 200: RetrySummarySchema, 202: RetrySummarySchema, ...errors },
      },
    },
    async (req, reply) => {
      const summary = await retryBatch(runtime, req.params.id, req.body ?? {});
      return reply.code(summary.dryRun ? 200 : 202).send({ ...summary, filter: { ...summary.filter }, cost: { ...summary.cost } });
    },
  );

  const controls = [
    ['pause', pauseBatch, 'Hold the batch: its lines wait (no attempt spent) while other batches run'],
    ['resume', resumeBatch, 'Let a paused batch go on'],
    ['cancel', cancelBatch, 'End the lines not yet sent as failed (CANCELLED); answered lines keep their records'],
  ] as const;
  for (const [verb, control, summary] of controls) {
    r.post(`/batches/:id/${verb}`, { schema: { tags: ['batches'], summary, params: BatchIdParam, response: { 200: ControlResultSchema, ...errors } } }, async (req) => ({
      ...(await control(runtime, req.params.id)),
    }));
  }

  r.post(
    '/batches/:id/raise',
    {
      schema: {
        tags: ['batches'],
        summary: 'New call and/or spend caps for the batch (at its own prices), as `rescreen batch raise`; its waiting lines go on unless it is paused',
        params: BatchIdParam,
        body: z.object({ maxCalls: z.number().int().min(1).optional(), maxSpend: z.string().min(1).max(40).optional().describe('in the currency, e.g. "250.00"') }),
        response: { 200: z.looseObject({ totalPaidCalls: z.number().int(), spend: z.number(), currency: z.string(), budgetReached: z.boolean() }), ...errors },
      },
    },
    async (req) => ({ ...(await raiseBudget(runtime, req.params.id, req.body)) }),
  );

  r.get('/quotas', { schema: { tags: ['operations'], summary: 'The vendor quotas in force', response: { 200: z.array(z.looseObject({ vendor: z.string() })), ...errors } } }, async () =>
    (await quotas(runtime)).map((q) => ({ vendor: q.vendor, quota: q.quota?.text ?? null, source: q.source, workers: q.workers, inFlight: q.inFlight, line: q.line ?? null })),
  );
}

/**
 * Streams an upload to a file (in the manifest root when there is one, so its relative refs resolve
 * there; else the temp folder), counting bytes against the limit and hashing it for the default
 * batch id; runs `fn` on it and removes it.
 */
async function withUpload<T>(body: Readable, ctx: RouteContext, format: 'csv' | 'jsonl', fn: (file: string, sha256: string) => Promise<T>): Promise<T> {
  const file = join(ctx.manifestRoot ?? tmpdir(), `.rescreen-upload-${randomUUID()}.${format}`);
  const hash = createHash('sha256');
  let bytes = 0;
  try {
    await pipelineAsync(
      body,
      new Transform({
        transform(chunk: Buffer, _e, done) {
          bytes += chunk.length;
          if (bytes > ctx.bodyLimitBytes) return done(new RescreenError('PAYLOAD_TOO_LARGE', `manifest over ${ctx.bodyLimitBytes} bytes (RESCREEN_API_BODY_LIMIT)`));
          hash.update(chunk);
          done(null, chunk);
        },
      }),
      createWriteStream(file, { flags: 'wx', mode: 0o600 }),
    );
    if (bytes === 0) throw new RescreenError('INVALID_INPUT', 'the uploaded manifest is empty');
    return await fn(file, hash.digest('hex'));
  } finally {
    await rm(file, { force: true });
  }
}
