/**
 * Review cases on PostgreSQL (migrations/postgres/003_cases.sql), the contract of ../cases.ts.
 * `claimNext` is one statement: `SELECT … FOR UPDATE SKIP LOCKED` picks the oldest claimable case
 * no other transaction is claiming, so concurrent reviewers never get the same one. Leases are
 * measured on the database's clock. Decision rows are append-only: a trigger refuses any UPDATE or
 * DELETE of them but an erasure's.
 */
import type pg from 'pg';
import {
  CASE_STATES,
  caseIdOf,
  casePageLimit,
  mergeOpenings,
  sortReasons,
  type CaseLine,
  type CaseOpening,
  type CasePage,
  type CaseQuery,
  type CaseReason,
  type CaseState,
  type CaseStore,
  type DecideInput,
  type DecideRefusal,
  type Decision,
  type DecisionKind,
  type ReviewCase,
  type ErasedElsewhere,
  type Tombstone,
  withoutSubject,
} from '../cases.js';
import { transaction } from './connection.js';

/** The database's clock, ms. */
const NOW_MS = `(extract(epoch from clock_timestamp()) * 1000)::bigint`;
/** A case a reviewer may claim: open, or claimed with a lapsed lease. */
const CLAIMABLE = `(state = 'open' OR (state = 'claimed' AND lease_until_ms <= ${NOW_MS}))`;

interface CaseRow {
  id: string;
  seq: string;
  batch: string;
  subject: string;
  reasons: string[];
  lines: CaseLine[];
  opened_at: string;
  state: CaseState;
  claimed_by: string | null;
  lease_until_ms: string | null;
  decision: DecisionKind | null;
  decided_by: string | null;
  decided_at: string | null;
  decisions: number;
  now_ms: string;
}

interface DecisionRow {
  case_id: string;
  seq: number;
  batch: string;
  subject: string;
  decision: DecisionKind;
  note: string;
  reviewer: string;
  at: string;
}

const COLUMNS = ['id', 'seq', 'batch', 'subject', 'reasons', 'lines', 'opened_at', 'state', 'claimed_by', 'lease_until_ms', 'decision', 'decided_by', 'decided_at', 'decisions'];
/** The columns a {@link CaseRow} is read from (qualified by `table` when given), with the clock. */
function caseColumns(table?: string): string {
  return [...COLUMNS.map((c) => (table === undefined ? c : `${table}.${c}`)), `${NOW_MS} AS now_ms`].join(', ');
}
const CASE_COLUMNS = caseColumns();

function toCase(row: CaseRow): ReviewCase {
  const lease = row.lease_until_ms === null ? null : Number(row.lease_until_ms);
  const live = row.state === 'claimed' && lease !== null && lease > Number(row.now_ms);
  return {
    id: row.id,
    batch: row.batch,
    subject: row.subject,
    reasons: sortReasons(row.reasons as CaseReason[]),
    lines: row.lines,
    openedAt: row.opened_at,
    state: row.state === 'claimed' && !live ? 'open' : row.state,
    claimedBy: live ? row.claimed_by : null,
    leaseUntil: live && lease !== null ? new Date(lease).toISOString() : null,
    decision: row.decision,
    decidedBy: row.decided_by,
    decidedAt: row.decided_at,
    decisions: row.decisions,
  };
}

function toDecision(row: DecisionRow): Decision {
  return {
    id: `${row.case_id}#${row.seq}`,
    caseId: row.case_id,
    seq: row.seq,
    batch: row.batch,
    subject: row.subject,
    decision: row.decision,
    note: row.note,
    reviewer: row.reviewer,
    at: row.at,
  };
}

/** Cursor: the seq of the last case of a page. */
function cursorSeq(after: string | undefined): string {
  return after !== undefined && /^\d{1,18}$/.test(after) ? after : '0';
}

export class PgCaseStore implements CaseStore {
  /** @param pool - a pool on the store's schema (connection.ts createPgPool); never ended here. */
  constructor(private readonly pool: pg.Pool) {}

  async openCases(openings: readonly CaseOpening[]): Promise<ReviewCase[]> {
    openings = mergeOpenings(openings);
    if (openings.length === 0) return [];
    const now = new Date().toISOString();
    // New cases are inserted; an existing one gets the reasons and lines it lacks (xmax = 0 tells a fresh row).
    const { rows } = await this.pool.query<CaseRow & { inserted: boolean }>(
      `INSERT INTO cases AS c (id, batch, subject, reasons, lines, opened_at)
       SELECT id, batch, subject, string_to_array(reasons, ','), lines, $5
         FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $6::jsonb[]) AS x(id, batch, subject, reasons, lines)
       ON CONFLICT (id) DO UPDATE SET
         reasons = ARRAY(SELECT DISTINCT r FROM unnest(c.reasons || EXCLUDED.reasons) AS r ORDER BY r),
         lines = c.lines || COALESCE((SELECT jsonb_agg(e) FROM jsonb_array_elements(EXCLUDED.lines) e
                                        WHERE NOT EXISTS (SELECT 1 FROM jsonb_array_elements(c.lines) o WHERE o -> 'line' = e -> 'line')), '[]'::jsonb)
       RETURNING ${CASE_COLUMNS}, (xmax = 0) AS inserted`,
      [
        openings.map((o) => caseIdOf(o.batch, o.subject)),
        openings.map((o) => o.batch),
        openings.map((o) => o.subject),
        openings.map((o) => sortReasons(o.reasons).join(',')),
        now,
        openings.map((o) => JSON.stringify([...o.lines].sort((a, b) => a.line - b.line))),
      ],
    );
    return rows.filter((r) => r.inserted).map(toCase).sort((a, b) => (a.openedAt < b.openedAt ? -1 : 0));
  }

  async getCase(id: string): Promise<ReviewCase | null> {
    const { rows } = await this.pool.query<CaseRow>(`SELECT ${CASE_COLUMNS} FROM cases WHERE id = $1`, [id]);
    return rows[0] ? toCase(rows[0]) : null;
  }

  async listCases(query: CaseQuery = {}): Promise<CasePage> {
    const limit = casePageLimit(query.limit);
    const where: string[] = ['seq > $1'];
    const params: unknown[] = [cursorSeq(query.after)];
    const add = (sql: string, value: unknown) => {
      params.push(value);
      where.push(sql.replace('?', `$${params.length}`));
    };
    if (query.batch !== undefined) add('batch = ?', query.batch);
    if (query.subject !== undefined) add('subject = ?', query.subject);
    if (query.reason !== undefined) add('reasons @> ARRAY[?]::text[]', query.reason);
    // The queue's partial index serves every state but `decided`.
    if (query.state === 'open') where.push(`state <> 'decided'`, CLAIMABLE);
    else if (query.state === 'claimed') where.push(`state <> 'decided'`, `state = 'claimed' AND lease_until_ms > ${NOW_MS}`);
    else if (query.state === 'decided') where.push(`state = 'decided'`);
    params.push(limit + 1);
    // Ordered as the (batch, seq) index is, meant for the planner to walk that index; measured at 10^5
    // cases it still walks the seq index and filters (40 ms p50, BENCHMARKS.md): a range query is still to do.
    const order = query.batch !== undefined ? 'batch, seq' : 'seq';
    const { rows } = await this.pool.query<CaseRow>(
      `SELECT ${CASE_COLUMNS} FROM cases WHERE ${where.join(' AND ')} ORDER BY ${order} LIMIT $${params.length}`,
      params,
    );
    const page = rows.slice(0, limit);
    return { cases: page.map(toCase), next: rows.length > limit ? page[page.length - 1]!.seq : null };
  }

  async countCases(query: { batch?: string } = {}): Promise<Record<CaseState, number>> {
    // Grouped by the columns of cases_by_state (an index-only scan over every case), or of one batch
    // through cases_by_batch; a lapsed claim is folded into `open` here, not in SQL.
    const { rows } = await this.pool.query<{ state: CaseState; lapsed: boolean | null; n: string }>(
      `SELECT state, lease_until_ms <= ${NOW_MS} AS lapsed, COUNT(*) AS n FROM cases${query.batch !== undefined ? ' WHERE batch = $1' : ''} GROUP BY 1, 2`,
      query.batch !== undefined ? [query.batch] : [],
    );
    const out = Object.fromEntries(CASE_STATES.map((s) => [s, 0])) as Record<CaseState, number>;
    for (const r of rows) out[r.state === 'claimed' && r.lapsed === true ? 'open' : r.state] += Number(r.n);
    return out;
  }

  async claimNext(reviewer: string, leaseMs: number, query: { batch?: string } = {}): Promise<ReviewCase | null> {
    const { rows } = await this.pool.query<CaseRow>(
      `WITH pick AS (
         SELECT id FROM cases
          WHERE state <> 'decided' AND ${CLAIMABLE} AND ($3::text IS NULL OR batch = $3)
          ORDER BY seq LIMIT 1 FOR UPDATE SKIP LOCKED)
       UPDATE cases SET state = 'claimed', claimed_by = $1, lease_until_ms = ${NOW_MS} + $2
         FROM pick WHERE cases.id = pick.id
       RETURNING ${caseColumns('cases')}`,
      [reviewer, Math.max(1, Math.floor(leaseMs)), query.batch ?? null],
    );
    return rows[0] ? toCase(rows[0]) : null;
  }

  async release(id: string, reviewer: string): Promise<boolean> {
    const { rowCount } = await this.pool.query(
      `UPDATE cases SET state = 'open', claimed_by = NULL, lease_until_ms = NULL
        WHERE id = $1 AND state = 'claimed' AND claimed_by = $2 AND lease_until_ms > ${NOW_MS}`,
      [id, reviewer],
    );
    return (rowCount ?? 0) > 0;
  }

  async decide(id: string, input: DecideInput): Promise<{ case: ReviewCase; decision: Decision } | DecideRefusal> {
    return transaction(this.pool, async (client) => {
      const { rows } = await client.query<CaseRow>(`SELECT ${CASE_COLUMNS} FROM cases WHERE id = $1 FOR UPDATE`, [id]);
      const row = rows[0];
      if (!row) return { refused: 'not-found' };
      const current = toCase(row);
      if (current.claimedBy !== null && current.claimedBy !== input.reviewer) {
        return { refused: 'claimed', by: current.claimedBy, leaseUntil: current.leaseUntil! };
      }
      const at = new Date().toISOString();
      const seq = row.decisions + 1;
      const inserted = await client.query<DecisionRow>(
        `INSERT INTO case_decisions (case_id, seq, batch, subject, decision, note, reviewer, at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING case_id, seq, batch, subject, decision, note, reviewer, at`,
        [id, seq, row.batch, row.subject, input.decision, input.note, input.reviewer, at],
      );
      const updated = await client.query<CaseRow>(
        `UPDATE cases SET state = 'decided', claimed_by = NULL, lease_until_ms = NULL, decision = $2, decided_by = $3, decided_at = $4, decisions = $5
          WHERE id = $1 RETURNING ${CASE_COLUMNS}`,
        [id, input.decision, input.reviewer, at, seq],
      );
      return { case: toCase(updated.rows[0]!), decision: toDecision(inserted.rows[0]!) };
    });
  }

  async decisionsOf(id: string): Promise<Decision[]> {
    const { rows } = await this.pool.query<DecisionRow>(
      'SELECT case_id, seq, batch, subject, decision, note, reviewer, at FROM case_decisions WHERE case_id = $1 ORDER BY seq',
      [id],
    );
    return rows.map(toDecision);
  }

  async *streamCases(batch?: string): AsyncGenerator<ReviewCase> {
    let after: string | undefined;
    for (;;) {
      const page = await this.listCases({ ...(batch !== undefined ? { batch } : {}), limit: 500, ...(after !== undefined ? { after } : {}) });
      yield* page.cases;
      if (page.next === null) return;
      after = page.next;
    }
  }

  async *streamDecisions(batch?: string): AsyncGenerator<Decision> {
    let after = '0';
    for (;;) {
      const { rows } = await this.pool.query<DecisionRow & { cseq: string; id: string }>(
        `SELECT d.case_id, d.seq, d.batch, d.subject, d.decision, d.note, d.reviewer, d.at, c.seq AS cseq
           FROM cases c JOIN case_decisions d ON d.case_id = c.id
          WHERE c.seq > $1 AND ($2::text IS NULL OR c.batch = $2)
            AND c.seq IN (SELECT seq FROM cases WHERE seq > $1 AND decisions > 0 AND ($2::text IS NULL OR batch = $2) ORDER BY seq LIMIT 200)
          ORDER BY c.seq, d.seq`,
        [after, batch ?? null],
      );
      if (rows.length === 0) return;
      for (const r of rows) yield toDecision(r);
      after = rows[rows.length - 1]!.cseq;
    }
  }

  async casesOfSubject(subject: string): Promise<ReviewCase[]> {
    const { rows } = await this.pool.query<CaseRow>(`SELECT ${CASE_COLUMNS} FROM cases WHERE subject = $1 ORDER BY seq`, [subject]);
    return rows.map(toCase);
  }

  async eraseSubject(subject: string, erased: ErasedElsewhere): Promise<Tombstone> {
    return transaction(this.pool, async (client) => {
      // The one DELETE the append-only trigger lets through: this transaction's erasure.
      await client.query(`SET LOCAL rescreen.erasure = 'on'`);
      const decisions = await client.query('DELETE FROM case_decisions WHERE subject = $1', [subject]);
      const cases = await client.query('DELETE FROM cases WHERE subject = $1', [subject]);
      // Other subjects' cases that name it among those sharing their media.
      const { rows } = await client.query<{ id: string; lines: CaseLine[] }>(
        `SELECT id, lines FROM cases WHERE EXISTS (SELECT 1 FROM jsonb_array_elements(lines) e WHERE e -> 'sharedWith' ? $1) FOR UPDATE`,
        [subject],
      );
      for (const row of rows) {
        const lines = withoutSubject(row.lines, subject);
        if (lines !== undefined) await client.query('UPDATE cases SET lines = $2::jsonb WHERE id = $1', [row.id, JSON.stringify(lines)]);
      }
      const tombstone: Tombstone = { ...erased, cases: cases.rowCount ?? 0, decisions: decisions.rowCount ?? 0 };
      await client.query('INSERT INTO erasures (at, records, attempts, cases, decisions) VALUES ($1, $2, $3, $4, $5)', [
        tombstone.at,
        tombstone.records,
        tombstone.attempts,
        tombstone.cases,
        tombstone.decisions,
      ]);
      return tombstone;
    });
  }

  async tombstones(limit = 100): Promise<Tombstone[]> {
    const { rows } = await this.pool.query<Tombstone>('SELECT at, records, attempts, cases, decisions FROM erasures ORDER BY id DESC LIMIT $1', [limit]);
    return rows;
  }
}
