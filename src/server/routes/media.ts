/**
 * What the dashboard's pages need besides the data routes: a record's media (read through the media
 * loader, checked against the record's sha256), the meaning of every failure code, and who the
 * caller is (its token's name and role, so the page shows only the buttons the role may use).
 */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { recordMedia, vendorCodeMeanings } from '../../app/index.js';
import { RescreenError } from '../../errors/errors.js';
import { CODE_MEANINGS } from '../../errors/meanings.js';
import { problem, sendProblem } from '../problem.js';
import { BatchIdParam } from '../schemas.js';
import { errors } from './batches.js';
import type { RouteContext } from './context.js';

/** HTTP statuses of the media codes: why a picture cannot be shown, not a server fault. */
const MEDIA_STATUS: Readonly<Record<string, number>> = {
  MEDIA_NOT_FOUND: 404,
  MEDIA_CHANGED: 409,
  MEDIA_HOST_REFUSED: 422,
  MEDIA_ACCESS_DENIED: 422,
  MEDIA_UNREADABLE: 422,
  MEDIA_EMPTY: 422,
  MEDIA_UNSUPPORTED_TYPE: 422,
  MEDIA_TOO_LARGE: 422,
  MEDIA_FETCH: 502,
};

export function mediaRoutes(app: FastifyInstance, { runtime }: RouteContext): void {
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.get(
    '/batches/:id/lines/:line/media',
    {
      schema: {
        tags: ['records'],
        summary:
          "A record's media (photo, video, or frame `item`), read again through the media loader (host policy, size caps, type sniffing) and served only when its sha256 is the record's; else a problem: MEDIA_NOT_FOUND 404, MEDIA_CHANGED 409, MEDIA_HOST_REFUSED and other refusals 422, MEDIA_FETCH 502",
        params: BatchIdParam.extend({ line: z.coerce.number().int().min(1) }),
        querystring: z.object({ item: z.coerce.number().int().min(1).max(1000).default(1).describe('1-based: which frame of a frame set') }),
        response: { 200: { description: 'the bytes (image/jpeg, image/png or video/mp4)', content: { 'image/jpeg': { schema: z.string() }, 'image/png': { schema: z.string() }, 'video/mp4': { schema: z.string() } } }, ...errors },
      },
    },
    async (req, reply) => {
      const abort = new AbortController();
      req.raw.once('close', () => abort.abort(new Error('client gone')));
      try {
        const media = await recordMedia(runtime, req.params.id, req.params.line, req.query.item, abort.signal);
        return reply
          .type(media.mime)
          .header('cache-control', 'private, no-store')
          // Bytes from outside: never a document of this origin.
          .header('content-security-policy', "default-src 'none'; sandbox")
          .header('x-rescreen-sha256', media.sha256)
          .header('x-rescreen-verified', String(media.verified))
          .send(media.bytes as unknown as string);
      } catch (error) {
        const status = error instanceof RescreenError ? MEDIA_STATUS[String(error.code)] : undefined;
        if (status === undefined || !(error instanceof RescreenError)) throw error;
        return sendProblem(reply, problem(status, error.code, error.message));
      }
    },
  );

  r.get(
    '/meanings',
    {
      schema: {
        tags: ['operations'],
        summary: 'What every failure code means: local codes, the vendors’ engine codes (HTTP_<status> is read from its number)',
        response: { 200: z.object({ codes: z.record(z.string(), z.string()) }), ...errors },
      },
    },
    () => Promise.resolve({ codes: { ...vendorCodeMeanings(runtime), ...CODE_MEANINGS } }),
  );

  r.get(
    '/me',
    { schema: { tags: ['operations'], summary: "The caller: its token's name (never the token) and role", response: { 200: z.object({ name: z.string(), role: z.enum(['read', 'reviewer', 'operator']) }), ...errors } } },
    (req) => Promise.resolve({ name: req.caller?.name ?? 'anonymous', role: req.caller?.role ?? 'operator' }),
  );
}
