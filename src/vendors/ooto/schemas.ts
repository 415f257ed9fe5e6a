/**
 * zod schemas of OOTO's answers (seeds: deepfake, identify; public docs: add). Loose objects: only what
 * the verdict needs is required, every extra field (quality in either casing, box, landmarks,
 * demography, liveness…) passes through untouched and stays in the raw body kept for audit.
 */
import { z } from 'zod';

/** `transactionId` of any OOTO body (success or error), as a string; `null` when absent. */
export function ootoTransactionId(body: unknown): string | null {
  if (typeof body !== 'object' || body === null || !('transactionId' in body)) return null;
  const { transactionId } = body;
  if (typeof transactionId === 'string' && transactionId !== '') return transactionId;
  if (typeof transactionId === 'number' && Number.isFinite(transactionId)) return String(transactionId);
  return null;
}

/** The engine error body: `{transactionId, result: {status: "error", code: 5, info: "can not detect face"}}`. */
export const OotoEngineErrorSchema = z.looseObject({
  result: z.looseObject({
    code: z.number(),
    info: z.string().optional(),
    status: z.string().optional(),
  }),
});

/** `POST /api/v1.0/deepfake` 200: `result.deepfake.{score, fine}` (higher score = more genuine). */
export const OotoDeepfakeSchema = z.looseObject({
  result: z.looseObject({
    deepfake: z.looseObject({
      score: z.number(),
      fine: z.boolean(),
    }),
  }),
});

/**
 * `POST /api/v1.0/identify` 200: `result.similarity` and the best template (`result.templateId`,
 * `null` or absent when the database holds no match).
 */
export const OotoIdentifySchema = z.looseObject({
  result: z.looseObject({
    similarity: z.number(),
    templateId: z.string().nullish(),
  }),
});

/** `POST /api/v1.0/add` 200, as assumed from the public docs: `{transactionId, result: {templateId}}`. */
export const OotoAddSchema = z.looseObject({
  result: z.looseObject({
    templateId: z.string().min(1),
  }),
});
