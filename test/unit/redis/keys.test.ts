/**
 * The Redis key layout (src/redis/keys.ts): the names stay exactly what earlier releases wrote
 * (data written by them must still be found), every key starts with the prefix, and a hash-tagged
 * prefix decides every key's Cluster slot, whatever the batch, subject or vendor.
 */
import { describe, expect, it } from 'vitest';
import * as keys from '../../../src/redis/keys.js';

/** The part of a key Redis Cluster hashes: the first `{…}` with something inside, else the whole key. */
function hashedPart(key: string): string {
  const open = key.indexOf('{');
  if (open < 0) return key;
  const close = key.indexOf('}', open + 1);
  return close > open + 1 ? key.slice(open + 1, close) : key;
}

/** Every key the module builds, for one prefix and awkward names (`:`, braces, newlines are not allowed in batches). */
function everyKey(prefix: string, batch = 'b:{x}', subject = 's{1}', vendor = 'ooto'): string[] {
  const b = keys.batchKeys(prefix, batch);
  return [
    b.records,
    b.idx,
    b.meta,
    keys.callsKey(prefix, batch),
    keys.dedupeKey(prefix, batch),
    keys.attemptsKey(prefix, batch),
    keys.txKey(prefix),
    keys.subjectKey(prefix, subject),
    keys.batchesKey(prefix),
    keys.attemptTxKey(prefix),
    keys.attemptSubjectKey(prefix, subject),
    keys.quotaStateKey(prefix, vendor),
    keys.quotaOverridesKey(prefix),
    keys.heartbeatsKey(prefix),
    keys.scheduleStateKey(prefix, 'nightly{a}'),
    keys.producerCursorKey(prefix, batch),
    keys.webhookDeliveriesKey(prefix),
    keys.webhookDeliveryOrderKey(prefix),
    keys.changeCountsKey(prefix),
  ];
}

describe('Redis keys', () => {
  it('are the names earlier releases wrote', () => {
    expect(everyKey('rs', 'b1', 's1', 'glair')).toEqual([
      'rs:store:batch:b1:records',
      'rs:store:batch:b1:idx',
      'rs:store:batch:b1:meta',
      'rs:store:batch:b1:calls',
      'rs:store:batch:b1:dedupe',
      'rs:store:batch:b1:attempts',
      'rs:store:tx',
      'rs:store:subject:s1',
      'rs:store:batches',
      'rs:store:attempt-tx',
      'rs:store:attempt-subject:s1',
      'rs:quota:{glair}',
      'rs:quota:overrides',
      'rs:workers',
      'rs:schedule-state:nightly{a}',
      'rs:producer:b1',
      'rs:webhook:deliveries',
      'rs:webhook:deliveries:order',
      'rs:changes:counts',
    ]);
    expect(keys.subjectKeyPrefix('rs')).toBe('rs:store:subject:');
  });

  it('all start with the prefix, and are all different', () => {
    const all = everyKey('{rescreen}');
    for (const key of all) expect(key.startsWith('{rescreen}:')).toBe(true);
    expect(new Set(all).size).toBe(all.length);
  });

  it('a hash-tagged prefix puts every key in its slot, whatever braces the names carry', () => {
    for (const prefix of ['{rescreen}', 'app-{t1}-x', '{a}{b}']) {
      const tag = hashedPart(prefix);
      for (const key of everyKey(prefix)) expect(hashedPart(key), key).toBe(tag);
    }
    // Without a tag, the vendor's braces would decide the quota key's slot: why Cluster needs one.
    expect(hashedPart(keys.quotaStateKey('plain', 'ooto'))).toBe('ooto');
  });

  it('a record member reads back, and anything else is not one', () => {
    expect(keys.parseRecordMember(keys.recordMember('b:1', 42))).toEqual({ batch: 'b:1', line: 42 });
    expect(keys.parseRecordMember('no-newline')).toBeNull();
    expect(keys.parseRecordMember('b\n0')).toBeNull();
    expect(keys.parseRecordMember('b\nx')).toBeNull();
  });
});
