/**
 * Issue 7 acceptance: a third vendor is one folder plus one registry line. ACME (acme-*.ts beside
 * this file: its own HTTP endpoint, vendor definition and check module) is added by passing the
 * registries to the runtime — no file of src/ is edited — and a manifest line runs end to end:
 * producer → BullMQ (its own `acme` queue) → worker → store, on the real Redis.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CHECK_MODULES } from '../../../jobs/index.js';
import type { ResultRecord } from '../../../src/checks/types.js';
import { createLogger } from '../../../src/log/logger.js';
import { enqueueManifest } from '../../../src/queueing/producer.js';
import { buildRegistries, loadConfig } from '../../../src/runtime/built-ins.js';
import { openRuntime, startWorkers, type Runtime } from '../../../src/runtime/runtime.js';
import { sampleJpeg } from '../../../src/simulator/sample-media.js';
import { VENDORS } from '../../../src/vendors/registry.js';
import { eventually } from '../../helpers/pipeline.js';
import { dropPrefix, freshPrefix, redisClient, redisUrl } from '../../helpers/redis.js';
import { acmeLiveness } from './acme-check.js';
import { startAcmeServer, type AcmeServer } from './acme-server.js';
import { acmeVendor } from './acme-vendor.js';

const KEY = 'acme-very-secret-key';

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const step of cleanup.reverse()) await step();
  cleanup = [];
});

/** ACME's server (accepting {@link KEY}), a runtime whose registries add ACME (key `key`) under a fresh prefix, a temp folder. */
async function setUp(key: string): Promise<{ acme: AcmeServer; runtime: Runtime; dir: string }> {
  const acme = await startAcmeServer(KEY);
  cleanup.push(() => acme.close());
  const prefix = freshPrefix('acme');
  cleanup.push(async () => {
    const client = redisClient();
    await dropPrefix(client, prefix);
    await client.quit();
  });
  const dir = await mkdtemp(join(tmpdir(), 'rescreen-acme-'));
  cleanup.push(() => rm(dir, { recursive: true, force: true }));
  // The registry line, made here instead of in src/vendors/registry.ts and jobs/index.ts.
  const registries = buildRegistries([...VENDORS, acmeVendor], [...CHECK_MODULES, acmeLiveness]);
  const config = loadConfig(
    { REDIS_URL: redisUrl(), RESCREEN_PREFIX: prefix, ACME_BASE_URL: acme.url, ACME_KEY: key, LOG_LEVEL: 'silent', RESCREEN_BACKOFF_MS: '50' },
    registries.vendors,
  );
  expect(config.vendors.acme).toMatchObject({ baseUrl: acme.url, credentials: { key } });
  const runtime = await openRuntime(config, createLogger(config.logLevel, { pretty: false }), registries);
  cleanup.push(() => runtime.close());
  return { acme, runtime, dir };
}

describe('a third, test-only vendor', () => {
  it('runs a manifest line end to end through its own queue, with its key redacted from the record', async () => {
    const { acme, runtime, dir } = await setUp(KEY);
    expect(Object.keys(runtime.queues)).toEqual(['ooto', 'glair', 'acme']);

    const photo = sampleJpeg({ seed: 42 });
    await writeFile(join(dir, 'face.jpg'), photo);
    const manifest = join(dir, 'manifest.jsonl');
    const lines = [
      { ref: 'face.jpg', check: 'acme-liveness', subject: 'cust-acme' },
      // Validated by the module's own payload schema: ACME's check takes no frames.
      { frames: ['face.jpg'], check: 'acme-liveness', subject: 'cust-bad' },
    ];
    await writeFile(manifest, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');

    const summary = await enqueueManifest({ manifestPath: manifest, batch: 'acme-1', checks: runtime.checks, queues: runtime.queues, store: runtime.store });
    expect(summary).toMatchObject({ enqueued: 1, invalid: 1, byCheck: { 'acme-liveness': 1 } });
    expect(await runtime.queues.acme!.count()).toBe(1);
    expect(await runtime.queues.ooto!.count()).toBe(0);

    // Only ACME's worker: the built-in vendors have no credentials here.
    const workers = startWorkers(runtime, { vendors: ['acme'] });
    cleanup.push(() => workers.close());
    await eventually(() => runtime.store.summary('acme-1'), (s) => s !== null && s.producerDone && s.recorded >= s.total, 30_000);

    const records: ResultRecord[] = [];
    for await (const r of runtime.store.stream('acme-1')) records.push(r);
    expect(records).toHaveLength(2);
    const [done, invalid] = records;
    expect(done).toMatchObject({ line: 1, check: 'acme-liveness', status: 'completed', verdict: 'genuine', score: 0.91, transactionId: 'acme-tx-1', attempts: 1 });
    expect(invalid).toMatchObject({ line: 2, status: 'failed', error: { code: 'INVALID_LINE' } });
    expect(invalid?.error?.message).toContain('not a field of acme-liveness lines (it takes ref, check, subject)');
    expect(acme.received).toHaveLength(1);
    expect(acme.received[0]!.equals(photo)).toBe(true);
    // ACME echoed `Bearer <key>`: the vendor's derived secret keeps it out of the stored answer.
    expect(JSON.stringify(records)).not.toContain(KEY);
    expect((done?.response as { echo?: string }).echo).toBe('[redacted]');
    expect(await runtime.queues.acme!.count()).toBe(0);
  });

  it('a wrong ACME key stops ACME’s worker and leaves its job queued, as for a built-in vendor', async () => {
    const { runtime, dir } = await setUp('wrong-key-0000');
    await writeFile(join(dir, 'face.jpg'), sampleJpeg({ seed: 43 }));
    const manifest = join(dir, 'm.jsonl');
    await writeFile(manifest, JSON.stringify({ ref: 'face.jpg', check: 'acme-liveness' }) + '\n');
    await enqueueManifest({ manifestPath: manifest, batch: 'acme-2', checks: runtime.checks, queues: runtime.queues, store: runtime.store });
    const workers = startWorkers(runtime, { vendors: ['acme'] });
    cleanup.push(() => workers.close());
    await eventually(async () => workers.pool.stoppedVendors.has('acme'), (stopped) => stopped, 15_000);
    expect(workers.pool.stoppedVendors.get('acme')?.message).toMatch(/^ACME /);
    // The job goes back to wait (no attempt spent) just after the worker stops.
    await eventually(() => runtime.queues.acme!.count(), (n) => n === 1, 10_000);
    expect((await runtime.store.summary('acme-2'))?.recorded).toBe(0);
  });
});
