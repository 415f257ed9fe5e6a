/**
 * The attempt log and erasure of the Redis result store (key layout in src/redis/keys.ts). Appends are one
 * pipeline; a record's removal (forget) is one Lua script (src/redis/lua/store-remove-record-4.lua), so its counts and index entries move
 * atomically with it, as a put's do.
 */
import type { Redis } from 'ioredis';
import { attemptSubjectKey, attemptsKey, attemptTxKey, batchesKey, batchKeys, callsKey, recordMember, runSettingsKey, subjectKey, txKey } from '../redis/keys.js';
import { scripts } from '../redis/scripts.js';
import { compareRunSettings, runSettingsEntry, type RunSettings, type RunSettingsEntry } from './run-settings.js';
import type { AttemptRow, EraseCounts, PurgeCounts } from './types.js';

export class RedisAttemptLog {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly chunkSize: number,
  ) {}

  async append(rows: readonly AttemptRow[]): Promise<void> {
    if (rows.length === 0) return;
    const pipeline = this.redis.pipeline();
    for (const row of rows) {
      const json = JSON.stringify(row);
      pipeline.rpush(attemptsKey(this.prefix, row.batch), json);
      if (row.transactionId) pipeline.hset(attemptTxKey(this.prefix), row.transactionId, json);
      if (row.subject) pipeline.sadd(attemptSubjectKey(this.prefix, row.subject), row.batch);
    }
    const results = (await pipeline.exec()) ?? [];
    for (const [error] of results) if (error) throw error;
  }

  async of(batch: string, line: number): Promise<AttemptRow[]> {
    const rows: AttemptRow[] = [];
    for await (const row of this.stream(batch)) if (row.line === line) rows.push(row);
    return rows;
  }

  async *stream(batch: string): AsyncGenerator<AttemptRow> {
    const key = attemptsKey(this.prefix, batch);
    for (let start = 0; ; start += this.chunkSize) {
      const chunk = await this.redis.lrange(key, start, start + this.chunkSize - 1);
      for (const json of chunk) yield JSON.parse(json) as AttemptRow;
      if (chunk.length < this.chunkSize) return;
    }
  }

  async byTransactionId(transactionId: string): Promise<AttemptRow | null> {
    if (transactionId === '') return null;
    const json = await this.redis.hget(attemptTxKey(this.prefix), transactionId);
    return json === null ? null : (JSON.parse(json) as AttemptRow);
  }

  private async removeRecord(batch: string, line: number): Promise<boolean> {
    const keys = batchKeys(this.prefix, batch);
    const removed = await scripts.storeRemoveRecord(this.redis, {
      recordsKey: keys.records,
      idxKey: keys.idx,
      metaKey: keys.meta,
      txKey: txKey(this.prefix),
      line: String(line),
      member: recordMember(batch, line),
    });
    return removed === 1;
  }

  /** Removes the rows of `batch` that `drop` picks (LREM of each exact value) and their attempt-tx entries. */
  private async dropRows(batch: string, drop: (row: AttemptRow) => boolean): Promise<number> {
    const key = attemptsKey(this.prefix, batch);
    let removed = 0;
    for (const json of await this.redis.lrange(key, 0, -1)) {
      const row = JSON.parse(json) as AttemptRow;
      if (!drop(row)) continue;
      removed += await this.redis.lrem(key, 1, json);
      if (row.transactionId && (await this.redis.hget(attemptTxKey(this.prefix), row.transactionId)) === json) {
        await this.redis.hdel(attemptTxKey(this.prefix), row.transactionId);
      }
    }
    return removed;
  }

  async forgetSubject(subject: string): Promise<EraseCounts> {
    if (subject === '') return { records: 0, attempts: 0 };
    const key = subjectKey(this.prefix, subject);
    let records = 0;
    for (const member of await this.redis.zrange(key, 0, -1)) {
      const cut = member.lastIndexOf('\n');
      if (await this.removeRecord(member.slice(0, cut), Number(member.slice(cut + 1)))) records += 1;
      await this.redis.zrem(key, member);
    }
    const batchesWithRows = await this.redis.smembers(attemptSubjectKey(this.prefix, subject));
    let attempts = 0;
    for (const batch of batchesWithRows) attempts += await this.dropRows(batch, (row) => row.subject === subject);
    await this.redis.del(attemptSubjectKey(this.prefix, subject));
    return { records, attempts };
  }

  async purgeFinishedBefore(before: Date): Promise<PurgeCounts> {
    const counts = { batches: 0, records: 0, attempts: 0 };
    for (const batch of await this.redis.zrange(batchesKey(this.prefix), 0, -1)) {
      const keys = batchKeys(this.prefix, batch);
      const finishedAt = await this.redis.hget(keys.meta, 'finishedAt');
      if (finishedAt === null || !(Date.parse(finishedAt) < before.getTime())) continue;
      let cursor = '0';
      do {
        const [next, flat] = await this.redis.hscan(keys.idx, cursor, 'COUNT', 1000);
        cursor = next;
        const pipeline = this.redis.pipeline();
        for (let i = 0; i < flat.length; i += 2) {
          const line = Number(flat[i]);
          const [, , tx, subject] = JSON.parse(flat[i + 1]!) as [string, string, string, string];
          const member = recordMember(batch, line);
          if (subject !== '') pipeline.zrem(subjectKey(this.prefix, subject), member);
          if (tx !== '') await this.hdelIf(txKey(this.prefix), tx, member);
          counts.records += 1;
        }
        await pipeline.exec();
      } while (cursor !== '0');
      counts.attempts += await this.dropRows(batch, () => true);
      await this.redis.del(keys.records, keys.idx, keys.meta, attemptsKey(this.prefix, batch), callsKey(this.prefix, batch), runSettingsKey(this.prefix, batch));
      await this.redis.zrem(batchesKey(this.prefix), batch);
      counts.batches += 1;
    }
    return counts;
  }

  async recordRunSettings(batch: string, settings: RunSettings, at: string): Promise<boolean> {
    const entry = runSettingsEntry(settings, at);
    return (await this.redis.hsetnx(runSettingsKey(this.prefix, batch), entry.hash, JSON.stringify(entry))) === 1;
  }

  async runSettings(batch: string): Promise<RunSettingsEntry[]> {
    const all = await this.redis.hvals(runSettingsKey(this.prefix, batch));
    return all.map((json) => JSON.parse(json) as RunSettingsEntry).sort(compareRunSettings);
  }

  private async hdelIf(key: string, field: string, value: string): Promise<void> {
    if ((await this.redis.hget(key, field)) === value) await this.redis.hdel(key, field);
  }
}
