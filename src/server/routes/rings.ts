/**
 * Fraud rings over HTTP (README: Fraud rings): `GET /api/rings` lists them as `rescreen rings` does
 * (the same app-layer filter, a page at a time) and `GET /api/rings/{id}` is `rings show`.
 */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { getRing, LINK_KINDS, MAX_RING_PAGE, ringPage } from '../../app/index.js';
import { InvalidInputError } from '../../errors/errors.js';
import { errors } from './batches.js';
import type { RouteContext } from './context.js';

const LineRefSchema = z.object({ batch: z.string(), line: z.number().int() });

export const RingLinkSchema = z
  .object({
    kind: z.enum(LINK_KINDS),
    a: z.string(),
    b: z.string(),
    strength: z.number().describe('sha256: 0; phash: the pHash distance in bits (0–9); template: the weaker similarity (1 for an enrolled template)'),
    aRef: LineRefSchema.describe("the record of `a` that made the link"),
    bRef: LineRefSchema.describe("the record of `b` that made the link"),
    at: z.string(),
    collision: z.boolean().optional().describe("template links only: one end is the other subject's own enrolled templateId (an identity collision)"),
  })
  .meta({ id: 'RingLink' });

export const RingSchema = z
  .object({
    id: z.string().describe('r + 16 hex digits, stable as the ring grows'),
    subjects: z.array(z.string()).readonly(),
    links: z.array(RingLinkSchema).readonly(),
    firstSeen: z.string(),
    lastSeen: z.string(),
  })
  .meta({ id: 'Ring' });

const RingIdParam = z.object({ id: z.string().min(1).max(64).describe('The ring id (r + 16 hex digits)') });

export function ringRoutes(app: FastifyInstance, { runtime }: RouteContext): void {
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.get(
    '/rings',
    {
      schema: {
        tags: ['rings'],
        summary: 'Fraud rings across every batch, oldest first seen first, a page at a time (`next` is the cursor), as `rescreen rings`',
        querystring: z.object({
          batch: z.string().min(1).max(200).optional().describe('only rings with a link made by a record of this batch'),
          all: z.enum(['true', 'false']).optional().describe('every ring (the default); not with batch'),
          minSize: z.coerce.number().int().min(2).max(1_000_000_000).default(2).describe('smallest ring, in subjects'),
          kind: z.string().min(1).max(100).optional().describe('only links of these kinds: a comma list of sha256, phash, template'),
          limit: z.coerce.number().int().min(1).max(MAX_RING_PAGE).default(50),
          after: z.string().min(1).max(200).optional().describe('the `next` of the page before'),
        }),
        response: { 200: z.object({ rings: z.array(RingSchema), next: z.string().nullable() }), ...errors },
      },
    },
    async (req) => {
      const q = req.query;
      if (q.all === 'true' && q.batch !== undefined) throw new InvalidInputError('batch and all go one at a time');
      return ringPage(runtime, { batch: q.batch, minSize: q.minSize, kinds: q.kind, limit: q.limit, after: q.after });
    },
  );

  r.get(
    '/rings/:id',
    { schema: { tags: ['rings'], summary: 'One ring: its subjects and links (kind, strength, the records that made them), as `rescreen rings show`', params: RingIdParam, response: { 200: RingSchema, ...errors } } },
    async (req) => getRing(runtime, req.params.id),
  );
}
