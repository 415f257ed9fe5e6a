/**
 * What `rescreen store copy` (src/app/store-ops.ts) needs of the PostgreSQL store beyond the store
 * contract: a copied batch keeps the source's times and counts, and a second copy skips the attempt
 * rows an earlier one wrote (the log is append-only).
 */
import type pg from 'pg';
import type { BatchSummary } from '../types.js';

/** Sets the batch's summary times, possibly-billed count and producer state to the source's (the batch row exists: beginBatch made it). */
export async function keepSourceSummary(pool: pg.Pool, summary: BatchSummary): Promise<void> {
  await pool.query(
    `UPDATE batches SET created_at = $2, created_ms = $3, finished_at = $4, finished_ms = $5, possibly_billed = $6,
       producer_done = $7 WHERE batch = $1`,
    [
      summary.batch,
      summary.createdAt,
      Date.parse(summary.createdAt),
      summary.finishedAt,
      summary.finishedAt === null ? null : Date.parse(summary.finishedAt),
      summary.possiblyBilled ?? 0,
      summary.producerDone,
    ],
  );
}

/** Attempt rows the store holds for the batch. */
export async function countAttempts(pool: pg.Pool, batch: string): Promise<number> {
  const { rows } = await pool.query<{ n: string }>('SELECT count(*) AS n FROM attempts WHERE batch = $1', [batch]);
  return Number(rows[0]?.n ?? 0);
}
