/**
 * Rings on Redis (keys under `<prefix>:rings:`, ../redis/keys.ts `ringsRoot`), the contract of
 * ./rings.ts. Entries are a HASH of JSON plus one SET per sha256, per (band, value) and per template
 * id, so `candidates` reads only the sets asked for. `addLinks` holds a lock key (SET NX PX, released
 * only by its holder) while it applies {@link planLinks}: two processes never merge at once.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { ringsRoot } from '../redis/keys.js';
import { scripts } from '../redis/scripts.js';
import { linkKey, mediaBands, orderRing, planLinks, type CandidateQuery, type Candidates, type Ring, type RingHead, type RingLink, type RingErasure, type RingMedia, type RingStore, type RingTemplate } from './rings.js';

/** How long a lock holder may take before another process may take the lock. */
const LOCK_MS = 60_000;
/** Ids read per round trip. */
const CHUNK = 500;

const mediaId = (m: Pick<RingMedia, 'batch' | 'line' | 'index'>) => `${m.batch}\u0000${m.line}\u0000${m.index}`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class RedisRingStore implements RingStore {
  readonly #redis: Redis;
  readonly #root: string;

  constructor(redis: Redis, prefix: string) {
    this.#redis = redis;
    this.#root = ringsRoot(prefix);
  }

  async addEntries(media: readonly RingMedia[], templates: readonly RingTemplate[]): Promise<void> {
    const r = this.#root;
    for (let i = 0; i < media.length; i += CHUNK) {
      const multi = this.#redis.multi();
      for (const m of media.slice(i, i + CHUNK)) {
        const id = mediaId(m);
        multi.hsetnx(`${r}media`, id, JSON.stringify(m));
        multi.sadd(`${r}sha:${m.sha256}`, id);
        for (const [b, v] of mediaBands(m)) multi.sadd(`${r}band:${b}:${v}`, id);
      }
      await multi.exec();
    }
    for (let i = 0; i < templates.length; i += CHUNK) {
      const multi = this.#redis.multi();
      for (const t of templates.slice(i, i + CHUNK)) multi.hsetnx(`${r}tpl:${t.templateId}`, `${t.batch}\u0000${t.line}`, JSON.stringify(t));
      await multi.exec();
    }
  }

  async candidates(query: CandidateQuery): Promise<Candidates> {
    const r = this.#root;
    const setKeys = [...new Set([...query.sha256.map((s) => `${r}sha:${s}`), ...query.bands.map(([b, v]) => `${r}band:${b}:${v}`)])];
    const ids = new Set<string>();
    for (let i = 0; i < setKeys.length; i += CHUNK) {
      const pipe = this.#redis.pipeline();
      for (const key of setKeys.slice(i, i + CHUNK)) pipe.smembers(key);
      for (const [error, members] of (await pipe.exec()) ?? []) {
        if (error) throw error;
        for (const id of members as string[]) ids.add(id);
      }
    }
    const media: RingMedia[] = [];
    const list = [...ids];
    for (let i = 0; i < list.length; i += CHUNK) {
      const values = await this.#redis.hmget(`${r}media`, ...list.slice(i, i + CHUNK));
      for (const v of values) if (v !== null) media.push(JSON.parse(v) as RingMedia);
    }
    const templates: RingTemplate[] = [];
    const tplIds = [...new Set(query.templateIds)];
    for (let i = 0; i < tplIds.length; i += CHUNK) {
      const pipe = this.#redis.pipeline();
      for (const t of tplIds.slice(i, i + CHUNK)) pipe.hvals(`${r}tpl:${t}`);
      for (const [error, values] of (await pipe.exec()) ?? []) {
        if (error) throw error;
        for (const v of values as string[]) templates.push(JSON.parse(v) as RingTemplate);
      }
    }
    return { media, templates };
  }

  async addLinks(links: readonly RingLink[]): Promise<void> {
    if (links.length === 0) return;
    await this.#locked(() => this.#apply(links));
  }

  async eraseSubject(subject: string): Promise<RingErasure> {
    // Entries are keyed by line, not by subject: a whole scan, as `forget` is rare and Redis holds
    // only backlogs it can scan.
    return this.#locked(async () => {
      const r = this.#root;
      let entries = 0;
      for await (const fields of this.#redis.hscanStream(`${r}media`, { count: 1_000 }) as AsyncIterable<string[]>) {
        for (let i = 0; i < fields.length; i += 2) {
          const m = JSON.parse(fields[i + 1]!) as RingMedia;
          if (m.subject !== subject) continue;
          const id = fields[i]!;
          const multi = this.#redis.multi().hdel(`${r}media`, id).srem(`${r}sha:${m.sha256}`, id);
          for (const [b, v] of mediaBands(m)) multi.srem(`${r}band:${b}:${v}`, id);
          await multi.exec();
          entries += 1;
        }
      }
      for await (const keys of this.#redis.scanStream({ match: `${r}tpl:*`, count: 1_000 }) as AsyncIterable<string[]>) {
        for (const key of keys) {
          const all = await this.#redis.hgetall(key);
          const mine = Object.entries(all).filter(([, v]) => (JSON.parse(v) as RingTemplate).subject === subject).map(([k]) => k);
          if (mine.length > 0) entries += await this.#redis.hdel(key, ...mine);
        }
      }
      let links = 0;
      const ring = await this.#redis.hget(`${r}member`, subject);
      if (ring !== null) {
        const all = await this.#redis.hgetall(`${r}links:${ring}`);
        const mine = Object.entries(all).filter(([, v]) => {
          const l = JSON.parse(v) as RingLink;
          return l.a === subject || l.b === subject;
        });
        if (mine.length > 0) links = await this.#redis.hdel(`${r}links:${ring}`, ...mine.map(([k]) => k));
        await this.#redis.multi().hdel(`${r}member`, subject).srem(`${r}members:${ring}`, subject).exec();
        const left = await this.#redis.smembers(`${r}members:${ring}`);
        if (left.length < 2) {
          const multi = this.#redis.multi();
          if (left.length > 0) multi.hdel(`${r}member`, ...left);
          await multi.del(`${r}members:${ring}`, `${r}links:${ring}`, `${r}ring:${ring}`).zrem(`${r}all`, ring).exec();
        }
      }
      return { entries, links };
    });
  }

  /** Runs `work` holding the rings' lock key. */
  async #locked<T>(work: () => Promise<T>): Promise<T> {
    const token = await this.#lock();
    try {
      return await work();
    } finally {
      await scripts.lockRelease(this.#redis, { lockKey: `${this.#root}lock`, token });
    }
  }

  async #lock(): Promise<string> {
    const token = randomUUID();
    for (let wait = 5; ; wait = Math.min(wait * 2, 200)) {
      if ((await this.#redis.set(`${this.#root}lock`, token, 'PX', LOCK_MS, 'NX')) === 'OK') return token;
      await sleep(wait);
    }
  }

  async #apply(links: readonly RingLink[]): Promise<void> {
    const r = this.#root;
    const subjects = [...new Set(links.flatMap((l) => [l.a, l.b]))];
    const current = new Map<string, RingHead>();
    for (let i = 0; i < subjects.length; i += CHUNK) {
      const part = subjects.slice(i, i + CHUNK);
      const rings = await this.#redis.hmget(`${r}member`, ...part);
      const heads = await this.#heads(rings.filter((x): x is string => x !== null));
      part.forEach((s, k) => {
        const id = rings[k];
        if (id != null && heads.has(id)) current.set(s, heads.get(id)!);
      });
    }
    const plan = planLinks(links, current);
    for (const ring of plan.created) {
      await this.#redis.multi().hset(`${r}ring:${ring.id}`, 'firstSeen', ring.firstSeen, 'lastSeen', ring.firstSeen).zadd(`${r}all`, Date.parse(ring.firstSeen), ring.id).exec();
    }
    for (let i = 0; i < plan.joins.length; i += CHUNK) {
      const multi = this.#redis.multi();
      for (const j of plan.joins.slice(i, i + CHUNK)) multi.hset(`${r}member`, j.subject, j.ring).sadd(`${r}members:${j.ring}`, j.subject);
      await multi.exec();
    }
    for (const { from, into } of plan.merges) {
      const [members, fromLinks, last] = await Promise.all([
        this.#redis.smembers(`${r}members:${from}`),
        this.#redis.hgetall(`${r}links:${from}`),
        this.#redis.hget(`${r}ring:${from}`, 'lastSeen'),
      ]);
      const multi = this.#redis.multi();
      if (members.length > 0) multi.sadd(`${r}members:${into}`, ...members);
      for (const s of members) multi.hset(`${r}member`, s, into);
      for (const [k, v] of Object.entries(fromLinks)) multi.hsetnx(`${r}links:${into}`, k, v);
      multi.del(`${r}members:${from}`, `${r}links:${from}`, `${r}ring:${from}`).zrem(`${r}all`, from);
      await multi.exec();
      if (last !== null) await this.#seen(into, last);
    }
    for (let i = 0; i < plan.links.length; i += CHUNK) {
      const multi = this.#redis.multi();
      for (const { link, ring } of plan.links.slice(i, i + CHUNK)) multi.hsetnx(`${r}links:${ring}`, linkKey(link), JSON.stringify(link));
      await multi.exec();
    }
    for (const [ring, at] of plan.seen) await this.#seen(ring, at);
  }

  async #seen(ring: string, at: string): Promise<void> {
    const last = await this.#redis.hget(`${this.#root}ring:${ring}`, 'lastSeen');
    if (last === null || last < at) await this.#redis.hset(`${this.#root}ring:${ring}`, 'lastSeen', at);
  }

  async #heads(ids: readonly string[]): Promise<Map<string, RingHead>> {
    const unique = [...new Set(ids)];
    const out = new Map<string, RingHead>();
    const pipe = this.#redis.pipeline();
    for (const id of unique) pipe.hget(`${this.#root}ring:${id}`, 'firstSeen');
    const results = (await pipe.exec()) ?? [];
    unique.forEach((id, k) => {
      const first = results[k]?.[1] as string | null | undefined;
      if (first != null) out.set(id, { id, firstSeen: first });
    });
    return out;
  }

  async ringsOf(subjects: readonly string[]): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    for (let i = 0; i < subjects.length; i += CHUNK) {
      const part = subjects.slice(i, i + CHUNK);
      const rings = await this.#redis.hmget(`${this.#root}member`, ...part);
      part.forEach((s, k) => {
        if (rings[k] != null) out.set(s, rings[k]);
      });
    }
    return out;
  }

  async getRing(id: string): Promise<Ring | null> {
    const r = this.#root;
    const [head, subjects, links] = await Promise.all([this.#redis.hgetall(`${r}ring:${id}`), this.#redis.smembers(`${r}members:${id}`), this.#redis.hvals(`${r}links:${id}`)]);
    if (head.firstSeen === undefined) return null;
    return orderRing({ id, subjects, links: links.map((l) => JSON.parse(l) as RingLink), firstSeen: head.firstSeen, lastSeen: head.lastSeen ?? head.firstSeen });
  }

  async *listRings(): AsyncIterable<Ring> {
    // Oldest first: the sorted set's score is firstSeen (ms); ties by id.
    const ids = await this.#redis.zrange(`${this.#root}all`, 0, -1);
    const rings: Ring[] = [];
    for (const id of ids) {
      const ring = await this.getRing(id);
      if (ring !== null) rings.push(ring);
    }
    rings.sort((x, y) => (x.firstSeen < y.firstSeen ? -1 : x.firstSeen > y.firstSeen ? 1 : x.id < y.id ? -1 : 1));
    yield* rings;
  }
}
