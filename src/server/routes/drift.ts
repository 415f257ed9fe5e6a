/** `GET /api/batches/{id}/drift`: the batch's score drift and canary report, as `rescreen drift --json` (README: Score drift). */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { batchDrift } from '../../app/index.js';
import { BatchIdParam } from '../schemas.js';
import type { RouteContext } from './context.js';
import { errors } from './batches.js';

const Comparison = z.object({ psi: z.number().nullable(), ks: z.number().nullable(), reading: z.string(), n: z.number().int(), previousN: z.number().int() });
const Rates = z.record(z.string(), z.number());
const CheckDrift = z.object({
  check: z.string(),
  against: z.string().nullable(),
  all: Comparison,
  both: Comparison,
  bins: z.array(z.number().int()),
  againstBins: z.array(z.number().int()).nullable(),
  verdictRates: Rates,
  againstVerdictRates: Rates.nullable(),
});
const CanaryRow = z.object({
  line: z.number().int(),
  check: z.string().nullable(),
  subject: z.string().nullable(),
  ref: z.string().nullable(),
  expect: z.string(),
  verdict: z.string().nullable(),
  score: z.number().nullable(),
  agrees: z.boolean(),
  previous: z.object({ line: z.number().int(), verdict: z.string().nullable(), score: z.number().nullable() }).nullable(),
  delta: z.number().nullable(),
  flipped: z.boolean(),
});
const Canary = z.object({
  lines: z.number().int(),
  agreed: z.number().int(),
  agreement: z.number(),
  against: z.string().nullable(),
  threshold: z.number(),
  mean: z.number().nullable(),
  previousMean: z.number().nullable(),
  meanShift: z.number().nullable(),
  flips: z.number().int(),
  alert: z.boolean(),
  rows: z.array(CanaryRow),
});
/** The drift report: per check the two histograms (20 bins over [0, 1]), PSI and KS; the canary report. */
export const DriftReportSchema = z.object({ batch: z.string(), rule: z.string(), checks: z.array(CheckDrift), canary: Canary.nullable(), alert: z.boolean() });

export function driftRoutes(app: FastifyInstance, { runtime }: RouteContext): void {
  app.withTypeProvider<ZodTypeProvider>().get(
    '/batches/:id/drift',
    {
      schema: {
        tags: ['batches'],
        summary: "How the vendor's scores moved: each check's histograms, PSI and KS against the previous finished batch of the check (or `against`), and the canary report",
        params: BatchIdParam,
        querystring: z.object({ against: z.string().min(1).max(200).optional().describe('compare with this finished batch instead') }),
        response: { 200: DriftReportSchema, ...errors },
      },
    },
    async (req) => {
      const report = await batchDrift(runtime, req.params.id, req.query.against !== undefined ? { against: req.query.against } : {});
      return JSON.parse(JSON.stringify(report)) as z.infer<typeof DriftReportSchema>;
    },
  );
}
