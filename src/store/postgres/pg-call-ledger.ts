/**
 * The per-line vendor call ledger (src/money/call-budget.ts) in PostgreSQL, next to the records,
 * for the PostgreSQL result store: a finished line then leaves nothing in Redis. Table `line_calls`
 * (migrations/postgres/); the batch's possibly-billed total goes to `batches.possibly_billed`.
 */
import type pg from 'pg';
import type { BatchGate, BatchHold, ChargeReply } from '../../money/batch-budget.js';
import { lineField, type CallLedger, type LineCalls, type LineKey } from '../../money/call-budget.js';
import type { Vendor } from '../../vendors/types.js';

/** The batch's gate (its caps, state, store and paid counters) stays in Redis: it is per batch, not per line. */
export class PgCallLedger implements CallLedger {
  constructor(
    private readonly pool: pg.Pool,
    private readonly gate?: BatchGate,
  ) {}

  async charge(key: LineKey, vendor: Vendor): Promise<ChargeReply> {
    if (this.gate) {
      const reply = await this.gate.charge(key.batch, vendor);
      if ('refused' in reply) return reply;
    }
    return this.chargeLine(key);
  }

  look(batch: string): Promise<BatchHold | null> {
    return this.gate?.look(batch) ?? Promise.resolve(null);
  }

  private async chargeLine(key: LineKey): Promise<LineCalls> {
    const { rows } = await this.pool.query<{ calls: number; possibly_billed: number }>(
      `INSERT INTO line_calls (batch, line_run, calls) VALUES ($1, $2, 1)
       ON CONFLICT (batch, line_run) DO UPDATE SET calls = line_calls.calls + 1
       RETURNING calls, possibly_billed`,
      [key.batch, lineField(key)],
    );
    return { calls: rows[0]?.calls ?? 1, possiblyBilled: rows[0]?.possibly_billed ?? 0 };
  }

  async refund(key: LineKey, vendor: Vendor): Promise<void> {
    if (this.gate) await this.gate.refund(key.batch, vendor);
    await this.pool.query('UPDATE line_calls SET calls = calls - 1 WHERE batch = $1 AND line_run = $2', [key.batch, lineField(key)]);
  }

  async markPossiblyBilled(key: LineKey): Promise<void> {
    await this.pool.query(
      `WITH l AS (UPDATE line_calls SET possibly_billed = possibly_billed + 1 WHERE batch = $1 AND line_run = $2)
       UPDATE batches SET possibly_billed = possibly_billed + 1 WHERE batch = $1`,
      [key.batch, lineField(key)],
    );
  }

  async read(key: LineKey): Promise<LineCalls> {
    const { rows } = await this.pool.query<{ calls: number; possibly_billed: number }>(
      'SELECT calls, possibly_billed FROM line_calls WHERE batch = $1 AND line_run = $2',
      [key.batch, lineField(key)],
    );
    return { calls: rows[0]?.calls ?? 0, possiblyBilled: rows[0]?.possibly_billed ?? 0 };
  }
}
