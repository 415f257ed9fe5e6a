/** Pieces of the check modules' payload schemas (jobs/*.ts): what a media reference may be. */
import { z } from 'zod';
import { isS3Problem, isS3Ref, parseS3Ref } from '../config/s3.js';

/** A media reference: a local path (relative to the manifest's folder), a file://, an http(s):// or an s3://bucket/key URL. */
export const MediaRef = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(4096, 'is longer than 4096 characters')
  .refine((v) => !/^[a-z][a-z0-9+.-]*:\/\//i.test(v) || /^(https?|file|s3):\/\//i.test(v), {
    message: 'must be a local path, a file:// URL, an http(s):// URL or s3://bucket/key',
  })
  .superRefine((v, ctx) => {
    if (!isS3Ref(v)) return;
    const parsed = parseS3Ref(v);
    if (isS3Problem(parsed)) ctx.addIssue({ code: 'custom', message: `${parsed.problem}: ${JSON.stringify(v.slice(0, 200))}` });
  });

/** The payload of a check of one photo or one video: `{ref}`. */
export const SingleRefPayload = z.object({ ref: MediaRef }).strict();

/** The payload of a frames check: `{frames: [ref, …]}` (1 to 1000). */
export const FramesPayload = z
  .object({ frames: z.array(MediaRef).min(1, 'needs at least one frame').max(1000, 'has more than 1000 frames') })
  .strict();
