import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { validateBatchId } from '../../../src/manifest/line.js';
import { batchIdOf, buildDefinition, parseDefinition } from '../../../src/schedules/definition.js';
import { InvalidScheduleError } from '../../../src/schedules/errors.js';
import { canonicalTimeZone, describeRule, parseEvery, repeatOptionsOf, ruleFromOptions, validateCron } from '../../../src/schedules/rule.js';

describe('--every', () => {
  it('reads <n>(s|m|h|d) strictly', () => {
    expect(parseEvery('1s')).toBe(1_000);
    expect(parseEvery('90s')).toBe(90_000);
    expect(parseEvery('15m')).toBe(900_000);
    expect(parseEvery('24h')).toBe(86_400_000);
    expect(parseEvery('7d')).toBe(604_800_000);
    for (const bad of ['', '24', '1.5h', '1 h', '1H', '0s', '-1m', '1h30m', '1w', '100ms', 'PT1H', '367d']) {
      expect(() => parseEvery(bad), bad).toThrow(InvalidScheduleError);
    }
  });
});

describe('--cron and --tz', () => {
  it('accepts 5 or 6 fields and aliases, computes the next run in the zone', () => {
    const from = new Date('2025-03-01T12:00:00Z');
    expect(validateCron('0 2 * * *', 'UTC', from).toISOString()).toBe('2025-03-02T02:00:00.000Z');
    expect(validateCron('0 2 * * *', 'Europe/Paris', from).toISOString()).toBe('2025-03-02T01:00:00.000Z');
    expect(validateCron('*/30 * * * * *', 'UTC', from).toISOString()).toBe('2025-03-01T12:00:30.000Z');
    expect(validateCron('@daily', 'UTC', from).toISOString()).toBe('2025-03-02T00:00:00.000Z');
  });

  it('refuses malformed expressions and unknown zones with a message naming the option', () => {
    for (const bad of ['0 2 * *', '61 * * * *', 'every day', '0 2 * * * * *', '0 2 31 2 *']) {
      expect(() => validateCron(bad, 'UTC'), bad).toThrow(/^--cron /);
    }
    expect(() => canonicalTimeZone('Mars/Olympus')).toThrow(/^--tz "Mars\/Olympus"/);
    expect(canonicalTimeZone('europe/paris')).toBe('Europe/Paris');
  });

  it('takes exactly one of --every / --cron, and --tz only with --cron (default UTC)', () => {
    expect(ruleFromOptions({ every: '24h' })).toEqual({ kind: 'every', every: '24h', everyMs: 86_400_000 });
    expect(ruleFromOptions({ cron: '0  2 * * *' })).toEqual({ kind: 'cron', pattern: '0 2 * * *', tz: 'UTC' });
    expect(ruleFromOptions({ cron: '0 2 * * *', tz: 'Asia/Jakarta' })).toEqual({ kind: 'cron', pattern: '0 2 * * *', tz: 'Asia/Jakarta' });
    expect(() => ruleFromOptions({})).toThrow(/--every .* or --cron/);
    expect(() => ruleFromOptions({ every: '1h', cron: '0 2 * * *' })).toThrow(/not both/);
    expect(() => ruleFromOptions({ every: '1h', tz: 'UTC' })).toThrow(/--tz applies to --cron only/);
    expect(describeRule({ kind: 'cron', pattern: '0 2 * * *', tz: 'UTC' })).toBe('cron 0 2 * * * (UTC)');
    expect(repeatOptionsOf({ kind: 'every', every: '2s', everyMs: 2_000 })).toEqual({ every: 2_000 });
    expect(repeatOptionsOf({ kind: 'cron', pattern: '0 2 * * *', tz: 'UTC' })).toEqual({ pattern: '0 2 * * *', tz: 'UTC' });
  });
});

describe('schedule definition', () => {
  it('stores the manifest as an absolute path and round-trips through its schema', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rescreen-sched-'));
    await writeFile(join(dir, 'm.jsonl'), '');
    const def = await buildDefinition(
      { name: 'nightly.v2_a-b', manifest: 'm.jsonl', every: '24h', check: 'ooto-deepfake' },
      { cwd: dir, now: new Date('2025-01-01T00:00:00Z') },
    );
    expect(def).toEqual({
      version: 1,
      name: 'nightly.v2_a-b',
      manifest: join(dir, 'm.jsonl'),
      check: 'ooto-deepfake',
      rule: { kind: 'every', every: '24h', everyMs: 86_400_000 },
      overlap: 'skip',
      updatedAt: '2025-01-01T00:00:00.000Z',
    });
    expect(parseDefinition(JSON.parse(JSON.stringify(def)))).toEqual({ ok: true, definition: def });
    expect(parseDefinition({ ...def, manifest: 'relative.jsonl' }).ok).toBe(false);
    expect(parseDefinition({ ...def, rule: { kind: 'cron', pattern: '0 2 * *', tz: 'UTC' } }).ok).toBe(false);
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses bad names and missing manifests', async () => {
    for (const name of ['', 'a b', 'a:b', 'a/b', 'x'.repeat(65), 'é']) {
      await expect(buildDefinition({ name, manifest: '/', every: '1h' }), name).rejects.toThrow(/schedule name/);
    }
    await expect(buildDefinition({ name: 'n', manifest: '/no/such/manifest.jsonl', every: '1h' })).rejects.toThrow(
      '--manifest /no/such/manifest.jsonl: no such file or folder',
    );
  });

  it('names a firing\'s batch <name>-<scheduled time> (a valid batch id)', () => {
    const batch = batchIdOf('nightly', new Date('2025-03-02T01:00:00Z'));
    expect(batch).toBe('nightly-2025-03-02T01:00:00.000Z');
    expect(batchIdOf('nightly', Date.parse('2025-03-02T01:00:00Z'))).toBe(batch);
    expect(validateBatchId(batchIdOf('x'.repeat(64), new Date())).ok).toBe(true);
  });
});
