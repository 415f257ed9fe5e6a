/**
 * Per-check input schemas: what a manifest line must carry for each check, beyond the common
 * fields (`check`, `subject`). The producer validates lines with these; the processors in jobs/
 * receive payloads that passed them.
 */
import { z } from 'zod';
import type { CheckName } from './registry.js';

/** A media reference: a local path (relative to the manifest's folder), a file:// or an http(s):// URL. */
export const MediaRef = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(4096, 'is longer than 4096 characters')
  .refine((v) => !/^[a-z][a-z0-9+.-]*:\/\//i.test(v) || /^(https?|file):\/\//i.test(v), {
    message: 'must be a local path, a file:// URL or an http(s):// URL',
  });

const single = z.object({ ref: MediaRef }).strict();

/** Options of `ooto-identify`; the query flags are sent only when true. */
export const IdentifyOptionsSchema = z
  .object({ checkLiveness: z.boolean().optional(), checkDeepfake: z.boolean().optional() })
  .strict();

export const PAYLOAD_SCHEMAS = {
  'ooto-deepfake': single,
  'ooto-identify': z.object({ ref: MediaRef, options: IdentifyOptionsSchema.optional() }).strict(),
  'glair-video': single,
  'glair-frames': z
    .object({ frames: z.array(MediaRef).min(1, 'needs at least one frame').max(1000, 'has more than 1000 frames') })
    .strict(),
} as const satisfies Record<CheckName, z.ZodType>;
