/**
 * Rings on PostgreSQL (migrations/postgres/004_rings.sql), the contract of ../rings.ts. Entries go
 * in with `unnest` (one statement per chunk, ON CONFLICT DO NOTHING: adding twice adds nothing);
 * near-neighbour candidates come from the band index (ring_media_bands' primary key), exact ones
 * from the sha256 and template indexes. `addLinks` runs in one transaction under an advisory lock,
 * so concurrent callers (any process) apply their merges one after the other.
 */
import type pg from 'pg';
import { transaction } from './connection.js';
import { linkKey, mediaBands, orderRing, planLinks, type CandidateQuery, type Candidates, type Ring, type RingHead, type RingLink, type RingErasure, type RingMedia, type RingStore, type RingTemplate } from '../rings.js';

/** Rows per statement. */
const CHUNK = 1_000;
/** The advisory lock of `addLinks` (per schema: the key is the schema's tables' name space). */
const LOCK = `SELECT pg_advisory_xact_lock(hashtext(current_schema() || ':rescreen-rings'))`;

export class PgRingStore implements RingStore {
  readonly #pool: pg.Pool;

  constructor(pool: pg.Pool) {
    this.#pool = pool;
  }

  async addEntries(media: readonly RingMedia[], templates: readonly RingTemplate[]): Promise<void> {
    for (let i = 0; i < media.length; i += CHUNK) {
      const part = media.slice(i, i + CHUNK);
      await this.#pool.query(
        `INSERT INTO ring_media (batch, line, idx, subject, sha256, entry)
         SELECT * FROM unnest($1::text[], $2::int[], $3::int[], $4::text[], $5::text[], $6::jsonb[]) ON CONFLICT DO NOTHING`,
        [part.map((m) => m.batch), part.map((m) => m.line), part.map((m) => m.index), part.map((m) => m.subject), part.map((m) => m.sha256), part.map((m) => JSON.stringify(m))],
      );
      const bands = part.flatMap((m) => mediaBands(m).map(([b, v]) => [b, v, m.batch, m.line, m.index] as const));
      await this.#pool.query(
        `INSERT INTO ring_media_bands (band, value, batch, line, idx)
         SELECT * FROM unnest($1::smallint[], $2::int[], $3::text[], $4::int[], $5::int[]) ON CONFLICT DO NOTHING`,
        [bands.map((x) => x[0]), bands.map((x) => x[1]), bands.map((x) => x[2]), bands.map((x) => x[3]), bands.map((x) => x[4])],
      );
    }
    for (let i = 0; i < templates.length; i += CHUNK) {
      const part = templates.slice(i, i + CHUNK);
      await this.#pool.query(
        `INSERT INTO ring_templates (template_id, batch, line, entry)
         SELECT * FROM unnest($1::text[], $2::text[], $3::int[], $4::jsonb[]) ON CONFLICT DO NOTHING`,
        [part.map((t) => t.templateId), part.map((t) => t.batch), part.map((t) => t.line), part.map((t) => JSON.stringify(t))],
      );
    }
  }

  async candidates(query: CandidateQuery): Promise<Candidates> {
    const media = new Map<string, RingMedia>();
    const keep = (rows: { entry: RingMedia }[]) => {
      for (const { entry } of rows) media.set(`${entry.batch}\u0000${entry.line}\u0000${entry.index}`, entry);
    };
    for (let i = 0; i < query.sha256.length; i += CHUNK) {
      const { rows } = await this.#pool.query<{ entry: RingMedia }>('SELECT entry FROM ring_media WHERE sha256 = ANY($1::text[])', [query.sha256.slice(i, i + CHUNK)]);
      keep(rows);
    }
    for (let i = 0; i < query.bands.length; i += CHUNK) {
      const part = query.bands.slice(i, i + CHUNK);
      const { rows } = await this.#pool.query<{ entry: RingMedia }>(
        `SELECT m.entry FROM (SELECT DISTINCT k.batch, k.line, k.idx
             FROM unnest($1::smallint[], $2::int[]) AS q(band, value)
             JOIN ring_media_bands k ON k.band = q.band AND k.value = q.value) c
         JOIN ring_media m ON m.batch = c.batch AND m.line = c.line AND m.idx = c.idx`,
        [part.map((x) => x[0]), part.map((x) => x[1])],
      );
      keep(rows);
    }
    const templates: RingTemplate[] = [];
    const ids = [...new Set(query.templateIds)];
    for (let i = 0; i < ids.length; i += CHUNK) {
      const { rows } = await this.#pool.query<{ entry: RingTemplate }>('SELECT entry FROM ring_templates WHERE template_id = ANY($1::text[])', [ids.slice(i, i + CHUNK)]);
      templates.push(...rows.map((r) => r.entry));
    }
    return { media: [...media.values()], templates };
  }

  async eraseSubject(subject: string): Promise<RingErasure> {
    return this.#locked(async (client) => {
      const media = await client.query<{ batch: string; line: number; idx: number }>('DELETE FROM ring_media WHERE subject = $1 RETURNING batch, line, idx', [subject]);
      if (media.rows.length > 0) {
        await client.query(
          `DELETE FROM ring_media_bands k USING unnest($1::text[], $2::int[], $3::int[]) AS g(batch, line, idx)
           WHERE k.batch = g.batch AND k.line = g.line AND k.idx = g.idx`,
          [media.rows.map((m) => m.batch), media.rows.map((m) => m.line), media.rows.map((m) => m.idx)],
        );
      }
      const templates = await client.query("DELETE FROM ring_templates WHERE entry->>'subject' = $1", [subject]);
      const links = await client.query('DELETE FROM ring_links WHERE a = $1 OR b = $1', [subject]);
      const member = await client.query<{ ring_id: string }>('DELETE FROM ring_members WHERE subject = $1 RETURNING ring_id', [subject]);
      const ring = member.rows[0]?.ring_id;
      if (ring !== undefined) {
        const left = await client.query<{ n: string }>('SELECT count(*) AS n FROM ring_members WHERE ring_id = $1', [ring]);
        if (Number(left.rows[0]?.n ?? 0) < 2) {
          for (const table of ['ring_members', 'ring_links']) await client.query(`DELETE FROM ${table} WHERE ring_id = $1`, [ring]);
          await client.query('DELETE FROM rings WHERE id = $1', [ring]);
        }
      }
      return { entries: media.rows.length + (templates.rowCount ?? 0), links: links.rowCount ?? 0 };
    });
  }

  /** Runs `work` in one transaction holding the rings' advisory lock. */
  #locked<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    return transaction(this.#pool, async (client) => {
      await client.query(LOCK);
      return work(client);
    });
  }

  async addLinks(links: readonly RingLink[]): Promise<void> {
    if (links.length === 0) return;
    await this.#locked(async (client) => {
      const subjects = [...new Set(links.flatMap((l) => [l.a, l.b]))];
      const { rows } = await client.query<{ subject: string; id: string; first_seen: string }>(
        'SELECT m.subject, r.id, r.first_seen FROM ring_members m JOIN rings r ON r.id = m.ring_id WHERE m.subject = ANY($1::text[])',
        [subjects],
      );
      const current = new Map<string, RingHead>(rows.map((r) => [r.subject, { id: r.id, firstSeen: r.first_seen }]));
      const plan = planLinks(links, current);
      for (const ring of plan.created) await client.query('INSERT INTO rings (id, first_seen, last_seen) VALUES ($1, $2, $2)', [ring.id, ring.firstSeen]);
      if (plan.joins.length > 0) {
        await client.query(
          `INSERT INTO ring_members (subject, ring_id) SELECT * FROM unnest($1::text[], $2::text[])
           ON CONFLICT (subject) DO UPDATE SET ring_id = EXCLUDED.ring_id`,
          [plan.joins.map((j) => j.subject), plan.joins.map((j) => j.ring)],
        );
      }
      for (const { from, into } of plan.merges) {
        await client.query('UPDATE ring_members SET ring_id = $2 WHERE ring_id = $1', [from, into]);
        await client.query('UPDATE ring_links SET ring_id = $2 WHERE ring_id = $1', [from, into]);
        await client.query(
          `UPDATE rings SET last_seen = greatest(rings.last_seen, f.last_seen) FROM rings f WHERE rings.id = $2 AND f.id = $1`,
          [from, into],
        );
        await client.query('DELETE FROM rings WHERE id = $1', [from]);
      }
      // One row per (kind, a, b): the first link stays.
      const firsts = new Map<string, (typeof plan.links)[number]>();
      for (const l of plan.links) if (!firsts.has(linkKey(l.link))) firsts.set(linkKey(l.link), l);
      const list = [...firsts.values()];
      await client.query(
        `INSERT INTO ring_links (kind, a, b, ring_id, link) SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::jsonb[]) ON CONFLICT DO NOTHING`,
        [list.map((l) => l.link.kind), list.map((l) => l.link.a), list.map((l) => l.link.b), list.map((l) => l.ring), list.map((l) => JSON.stringify(l.link))],
      );
      for (const [ring, at] of plan.seen) await client.query('UPDATE rings SET last_seen = greatest(last_seen, $2) WHERE id = $1', [ring, at]);
    });
  }

  async ringsOf(subjects: readonly string[]): Promise<Map<string, string>> {
    const { rows } = await this.#pool.query<{ subject: string; ring_id: string }>('SELECT subject, ring_id FROM ring_members WHERE subject = ANY($1::text[])', [[...subjects]]);
    return new Map(rows.map((r) => [r.subject, r.ring_id]));
  }

  async getRing(id: string): Promise<Ring | null> {
    const [head, members, links] = await Promise.all([
      this.#pool.query<{ first_seen: string; last_seen: string }>('SELECT first_seen, last_seen FROM rings WHERE id = $1', [id]),
      this.#pool.query<{ subject: string }>('SELECT subject FROM ring_members WHERE ring_id = $1', [id]),
      this.#pool.query<{ link: RingLink }>('SELECT link FROM ring_links WHERE ring_id = $1', [id]),
    ]);
    const h = head.rows[0];
    if (h === undefined) return null;
    return orderRing({ id, subjects: members.rows.map((r) => r.subject), links: links.rows.map((r) => r.link), firstSeen: h.first_seen, lastSeen: h.last_seen });
  }

  async *listRings(): AsyncIterable<Ring> {
    let after: { first: string; id: string } | null = null;
    for (;;) {
      const { rows }: { rows: { id: string; first_seen: string }[] } = await this.#pool.query(
        after === null
          ? 'SELECT id, first_seen FROM rings ORDER BY first_seen, id LIMIT 200'
          : 'SELECT id, first_seen FROM rings WHERE (first_seen, id) > ($1, $2) ORDER BY first_seen, id LIMIT 200',
        after === null ? [] : [after.first, after.id],
      );
      for (const row of rows) {
        const ring = await this.getRing(row.id);
        if (ring !== null) yield ring;
      }
      if (rows.length < 200) return;
      after = { first: rows[rows.length - 1]!.first_seen, id: rows[rows.length - 1]!.id };
    }
  }
}
