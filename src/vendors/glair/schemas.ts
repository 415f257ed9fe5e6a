/**
 * zod schemas of GLAIR's deepfake answers. Two shapes are accepted and normalised to
 * GlairDeepfakeResult `{value, confidence}`:
 * - current (seed): `{status: "SUCCESS", reason, read: {deepfake: {confidence, value: "real"|"fake"}}}`
 * - older: `{status, result: {deepfake_status, confidence_score}}`, `deepfake_status` being
 *   "real"/"fake" in any case or a boolean meaning fake.
 * The doc calls confidence "in percentage" while the samples show 0–1: a value above 1 is read as a
 * percentage and divided by 100. Loose objects: extra fields pass through.
 */
import { z } from 'zod';
import type { GlairDeepfakeResult } from '../types.js';

/** The envelope every GLAIR body carries: a status enum string and a human-readable reason. */
export const GlairEnvelopeSchema = z.looseObject({
  status: z.string().optional(),
  reason: z.string().optional(),
});

const verdictValue = z
  .string()
  .transform((v) => v.trim().toLowerCase())
  .pipe(z.enum(['real', 'fake']));

/** A 0–1 probability, or a 0–100 percentage normalised to 0–1. */
const confidence = z
  .union([z.number(), z.string().trim().regex(/^\d+(\.\d+)?$/).transform(Number)])
  .pipe(z.number().min(0).max(100))
  .transform((n) => (n > 1 ? n / 100 : n));

const CurrentShape = z.looseObject({
  read: z.looseObject({
    deepfake: z.looseObject({
      confidence,
      value: verdictValue,
    }),
  }),
});

const LegacyShape = z.looseObject({
  result: z.looseObject({
    deepfake_status: z.union([verdictValue, z.boolean().transform((fake) => (fake ? 'fake' : 'real'))]),
    confidence_score: confidence,
  }),
});

/** Either answer shape, normalised. The current shape wins when both are present. */
export const GlairDeepfakeSchema = z.union([
  CurrentShape.transform((b): GlairDeepfakeResult => ({ value: b.read.deepfake.value, confidence: b.read.deepfake.confidence })),
  LegacyShape.transform((b): GlairDeepfakeResult => ({
    value: b.result.deepfake_status,
    confidence: b.result.confidence_score,
  })),
]);
