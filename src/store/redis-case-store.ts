/**
 * Review cases on Redis (keys in ../redis/keys.ts `caseKeys`), the contract of ./cases.ts. Opening,
 * claiming, deciding and releasing are Lua scripts (atomic: two reviewers never claim one case);
 * leases are measured on Redis's clock (TIME). A case's decisions are an append-only LIST.
 */
import type { Redis } from 'ioredis';
import { batchCasesKey, caseDecisionsKey, caseKey, caseKeys, subjectCasesKey, type CaseKeys } from '../redis/keys.js';
import { scripts } from '../redis/scripts.js';
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
} from './cases.js';

/** Cases read at a time when an erased subject is taken out of the others' lines. */
const UNSHARE_PAGE = 500;

/** Tombstones kept (the oldest go). */
const MAX_TOMBSTONES = 10_000;
/** Ids read per round trip by lists and streams. */
const CHUNK = 200;

function pairs(flat: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) out[flat[i]!] = flat[i + 1]!;
  return out;
}

function toCase(id: string, f: Record<string, string>, nowMs: number): ReviewCase & { seq: number } {
  const lease = Number(f.leaseUntil ?? '');
  const live = f.state === 'claimed' && Number.isFinite(lease) && lease > nowMs;
  const state = (f.state === 'claimed' && !live ? 'open' : f.state) as CaseState;
  const lines = (JSON.parse(f.lines ?? '[]') as CaseLine[]).sort((a, b) => a.line - b.line);
  return {
    id,
    seq: Number(f.seq),
    batch: f.batch ?? '',
    subject: f.subject ?? '',
    reasons: sortReasons((f.reasons ?? '').split(',').filter((r) => r !== '') as CaseReason[]),
    lines,
    openedAt: f.openedAt ?? '',
    state,
    claimedBy: live ? (f.claimedBy ?? null) : null,
    leaseUntil: live ? new Date(lease).toISOString() : null,
    decision: (f.decision || null) as DecisionKind | null,
    decidedBy: f.decidedBy || null,
    decidedAt: f.decidedAt || null,
    decisions: Number(f.decisions ?? 0),
  };
}

function strip(c: ReviewCase & { seq: number }): ReviewCase {
  const { seq: _seq, ...rest } = c;
  return rest;
}

export class RedisCaseStore implements CaseStore {
  private readonly keys: CaseKeys;

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {
    this.keys = caseKeys(prefix);
  }

  async openCases(openings: readonly CaseOpening[]): Promise<ReviewCase[]> {
    const merged = mergeOpenings(openings);
    if (merged.length === 0) return [];
    const nowIso = new Date().toISOString();
    const calls = merged.map((o) => {
      const id = caseIdOf(o.batch, o.subject);
      return {
        caseKey: caseKey(this.prefix, id),
        allKey: this.keys.all,
        queueKey: this.keys.queue,
        batchKey: batchCasesKey(this.prefix, o.batch),
        subjectKey: subjectCasesKey(this.prefix, o.subject),
        seqKey: this.keys.seq,
        id,
        batch: o.batch,
        subject: o.subject,
        reasons: sortReasons(o.reasons).join(','),
        nowIso,
        lines: [...o.lines].sort((a, b) => a.line - b.line).flatMap((l) => [String(l.line), JSON.stringify(l)]),
      };
    });
    const replies = await scripts.caseOpen.many(this.redis, calls);
    const opened = calls.filter((_, i) => replies[i]![0] === 1).map((c) => c.id);
    return this.read(opened);
  }

  /** The cases of `ids` that exist, in the order given. */
  private async read(ids: readonly string[]): Promise<ReviewCase[]> {
    return (await this.readSeq(ids)).map(strip);
  }

  private async readSeq(ids: readonly string[]): Promise<(ReviewCase & { seq: number })[]> {
    if (ids.length === 0) return [];
    const [now, ...fields] = await scripts.caseRead(this.redis, { allKey: this.keys.all, casePrefix: this.keys.casePrefix, ids });
    const nowMs = Number(now);
    const out: (ReviewCase & { seq: number })[] = [];
    ids.forEach((id, i) => {
      const f = fields[i];
      if (f !== undefined && f.length > 0) out.push(toCase(id, pairs(f), nowMs));
    });
    return out;
  }

  async getCase(id: string): Promise<ReviewCase | null> {
    return (await this.read([id]))[0] ?? null;
  }

  async listCases(query: CaseQuery = {}): Promise<CasePage> {
    const limit = casePageLimit(query.limit);
    const source =
      query.subject !== undefined
        ? undefined
        : query.batch !== undefined
          ? batchCasesKey(this.prefix, query.batch)
          : query.state === 'decided'
            ? this.keys.decided
            : query.state !== undefined
              ? this.keys.queue
              : this.keys.all;
    const keep = (c: ReviewCase) =>
      (query.batch === undefined || c.batch === query.batch) &&
      (query.subject === undefined || c.subject === query.subject) &&
      (query.state === undefined || c.state === query.state) &&
      (query.reason === undefined || c.reasons.includes(query.reason));
    const after = query.after !== undefined && /^\d{1,15}$/.test(query.after) ? Number(query.after) : 0;
    const found: (ReviewCase & { seq: number })[] = [];
    if (source === undefined) {
      const all = (await this.readSeq(await this.redis.smembers(subjectCasesKey(this.prefix, query.subject!)))).sort((a, b) => a.seq - b.seq);
      for (const c of all) if (c.seq > after && keep(c) && found.length <= limit) found.push(c);
    } else {
      let from = `(${after}`;
      for (;;) {
        const ids = await this.redis.zrangebyscore(source, from, '+inf', 'WITHSCORES', 'LIMIT', 0, CHUNK);
        if (ids.length === 0) break;
        const chunk: string[] = [];
        for (let i = 0; i < ids.length; i += 2) chunk.push(ids[i]!);
        for (const c of await this.readSeq(chunk)) {
          if (keep(c)) found.push(c);
          if (found.length > limit) break;
        }
        if (found.length > limit || chunk.length < CHUNK) break;
        from = `(${ids[ids.length - 1]!}`;
      }
    }
    const page = found.slice(0, limit);
    return { cases: page.map(strip), next: found.length > limit ? String(page[page.length - 1]!.seq) : null };
  }

  async countCases(query: { batch?: string } = {}): Promise<Record<CaseState, number>> {
    const out = Object.fromEntries(CASE_STATES.map((s) => [s, 0])) as Record<CaseState, number>;
    if (query.batch === undefined) out.decided = await this.redis.zcard(this.keys.decided);
    const source = query.batch === undefined ? this.keys.queue : batchCasesKey(this.prefix, query.batch);
    for (let start = 0; ; start += 1000) {
      const ids = await this.redis.zrange(source, start, start + 999);
      for (const c of await this.read(ids)) out[c.state] += 1;
      if (ids.length < 1000) return out;
    }
  }

  async claimNext(reviewer: string, leaseMs: number, query: { batch?: string } = {}): Promise<ReviewCase | null> {
    const reply = await scripts.caseClaim(this.redis, {
      sourceKey: query.batch === undefined ? this.keys.queue : batchCasesKey(this.prefix, query.batch),
      casePrefix: this.keys.casePrefix,
      reviewer,
      leaseMs: Math.max(1, Math.floor(leaseMs)),
    });
    if (reply.length === 0) return null;
    return this.getCase(reply[0]);
  }

  async release(id: string, reviewer: string): Promise<boolean> {
    return (await scripts.caseRelease(this.redis, { caseKey: caseKey(this.prefix, id), reviewer })) === 1;
  }

  async decide(id: string, input: DecideInput): Promise<{ case: ReviewCase; decision: Decision } | DecideRefusal> {
    const reply = await scripts.caseDecide(this.redis, {
      caseKey: caseKey(this.prefix, id),
      decisionsKey: caseDecisionsKey(this.prefix, id),
      queueKey: this.keys.queue,
      decidedKey: this.keys.decided,
      id,
      reviewer: input.reviewer,
      decision: input.decision,
      note: input.note,
      at: new Date().toISOString(),
    });
    if (reply[0] === 'not-found') return { refused: 'not-found' };
    if (reply[0] === 'claimed') return { refused: 'claimed', by: reply[1], leaseUntil: new Date(Number(reply[2])).toISOString() };
    const decided = await this.getCase(id);
    return { case: decided!, decision: toDecision(reply[1]) };
  }

  async decisionsOf(id: string): Promise<Decision[]> {
    return (await this.redis.lrange(caseDecisionsKey(this.prefix, id), 0, -1)).map(toDecision);
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
    for await (const c of this.streamCases(batch)) {
      if (c.decisions > 0) yield* await this.decisionsOf(c.id);
    }
  }

  async casesOfSubject(subject: string): Promise<ReviewCase[]> {
    const all = await this.readSeq(await this.redis.smembers(subjectCasesKey(this.prefix, subject)));
    return all.sort((a, b) => a.seq - b.seq).map(strip);
  }

  async eraseSubject(subject: string, erased: ErasedElsewhere): Promise<Tombstone> {
    await this.#unshare(subject);
    const subjectKey = subjectCasesKey(this.prefix, subject);
    const cases = await this.read(await this.redis.smembers(subjectKey));
    let decisions = 0;
    const tx = this.redis.multi();
    for (const c of cases) {
      decisions += await this.redis.llen(caseDecisionsKey(this.prefix, c.id));
      tx.del(caseKey(this.prefix, c.id), caseDecisionsKey(this.prefix, c.id))
        .zrem(this.keys.all, c.id)
        .zrem(this.keys.queue, c.id)
        .zrem(this.keys.decided, c.id)
        .zrem(batchCasesKey(this.prefix, c.batch), c.id);
    }
    tx.del(subjectKey);
    // The tombstone goes with the deletions (MULTI): it never claims what did not happen.
    const tombstone: Tombstone = { ...erased, cases: cases.length, decisions };
    tx.lpush(this.keys.erasures, JSON.stringify(tombstone)).ltrim(this.keys.erasures, 0, MAX_TOMBSTONES - 1);
    await tx.exec();
    return tombstone;
  }

  /** Takes `subject` out of every other case's `sharedWith` (all cases are read, a page at a time). */
  async #unshare(subject: string): Promise<void> {
    const needle = JSON.stringify(subject);
    for (let start = 0; ; start += UNSHARE_PAGE) {
      const ids = await this.redis.zrange(this.keys.all, start, start + UNSHARE_PAGE - 1);
      if (ids.length === 0) return;
      const pipeline = this.redis.pipeline();
      for (const id of ids) pipeline.hget(caseKey(this.prefix, id), 'lines');
      const texts = ((await pipeline.exec()) ?? []).map(([, text]) => (typeof text === 'string' ? text : null));
      for (const [i, id] of ids.entries()) {
        let text = texts[i] ?? null;
        // A case being opened meanwhile may gain a line: read again, never overwrite it.
        for (let tries = 0; text !== null && text.includes(needle) && tries < 10; tries++) {
          const lines = withoutSubject(JSON.parse(text) as CaseLine[], subject);
          if (lines === undefined) break;
          const key = caseKey(this.prefix, id);
          if ((await scripts.hashFieldSwap(this.redis, { hashKey: key, field: 'lines', expected: text, value: JSON.stringify(lines) })) === 1) break;
          text = await this.redis.hget(key, 'lines');
        }
      }
    }
  }

  async tombstones(limit = 100): Promise<Tombstone[]> {
    return (await this.redis.lrange(this.keys.erasures, 0, Math.max(0, limit - 1))).map((t) => JSON.parse(t) as Tombstone);
  }
}

function toDecision(json: string): Decision {
  const d = JSON.parse(json) as Decision;
  return { id: d.id, caseId: d.caseId, seq: Number(d.seq), batch: d.batch, subject: d.subject, decision: d.decision, note: d.note, reviewer: d.reviewer, at: d.at };
}
