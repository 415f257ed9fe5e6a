/**
 * Erasure in the PostgreSQL result store: a subject's records and attempt rows (counts recomputed
 * for the batches they were in), and whole batches finished before a date. Each is one transaction
 * that locks the batch rows it touches in batch order, as puts do.
 */
import type pg from 'pg';
import type { EraseCounts, PurgeCounts } from '../types.js';
import { transaction } from './connection.js';

export async function forgetSubject(pool: pg.Pool, subject: string): Promise<EraseCounts> {
  if (subject === '') return { records: 0, attempts: 0 };
  return transaction(pool, async (client) => {
    const { rows: batches } = await client.query<{ batch: string }>(
      'SELECT DISTINCT batch FROM records WHERE subject = $1 ORDER BY batch',
      [subject],
    );
    const names = batches.map((b) => b.batch);
    // Lock the batch rows in one order (as puts do, one at a time): no deadlock with a running batch.
    if (names.length > 0) await client.query('SELECT 1 FROM batches WHERE batch = ANY($1::text[]) ORDER BY batch FOR UPDATE', [names]);
    const gone = await client.query<{ batch: string; line: number }>('DELETE FROM records WHERE subject = $1 RETURNING batch, line', [subject]);
    await client.query(
      `DELETE FROM tx USING unnest($1::text[], $2::int[]) AS g(b, l) WHERE tx.batch = g.b AND tx.line = g.l`,
      [gone.rows.map((r) => r.batch), gone.rows.map((r) => r.line)],
    );
    if (names.length > 0) await client.query(RECOUNT_SQL, [names]);
    const attempts = await client.query('DELETE FROM attempts WHERE subject = $1', [subject]);
    return { records: gone.rowCount ?? 0, attempts: attempts.rowCount ?? 0 };
  });
}

export async function purgeFinishedBefore(pool: pg.Pool, before: Date): Promise<PurgeCounts> {
  return transaction(pool, async (client) => {
    const { rows } = await client.query<{ batch: string }>('SELECT batch FROM batches WHERE finished_ms < $1 ORDER BY batch FOR UPDATE', [
      before.getTime(),
    ]);
    const names = rows.map((r) => r.batch);
    if (names.length === 0) return { batches: 0, records: 0, attempts: 0 };
    const records = await client.query('DELETE FROM records WHERE batch = ANY($1::text[])', [names]);
    const attempts = await client.query('DELETE FROM attempts WHERE batch = ANY($1::text[])', [names]);
    await client.query('DELETE FROM tx WHERE batch = ANY($1::text[])', [names]);
    await client.query('DELETE FROM line_calls WHERE batch = ANY($1::text[])', [names]);
    await client.query('DELETE FROM run_settings WHERE batch = ANY($1::text[])', [names]);
    await client.query('DELETE FROM batches WHERE batch = ANY($1::text[])', [names]);
    return { batches: names.length, records: records.rowCount ?? 0, attempts: attempts.rowCount ?? 0 };
  });
}



/** Recomputes `recorded` and the counts of the batches in $1 from their records (after an erasure). */
const RECOUNT_SQL = `
UPDATE batches b SET recorded = c.n, counts = c.counts
  FROM (
    SELECT x.batch, COUNT(r.line)::int AS n,
           COALESCE((SELECT jsonb_object_agg(k, v) FROM (
              SELECT 'status:' || status AS k, COUNT(*) AS v FROM records WHERE batch = x.batch GROUP BY status
              UNION ALL
              SELECT 'verdict:' || verdict, COUNT(*) FROM records WHERE batch = x.batch AND verdict IS NOT NULL GROUP BY verdict
              UNION ALL
              SELECT 'failed:' || failure, COUNT(*) FROM records WHERE batch = x.batch AND failure IS NOT NULL GROUP BY failure) kv), '{}'::jsonb) AS counts
      FROM unnest($1::text[]) AS x(batch) LEFT JOIN records r ON r.batch = x.batch
     GROUP BY x.batch) c
 WHERE b.batch = c.batch`;
