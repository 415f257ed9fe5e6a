/**
 * Issue 16, item 3 (bounded reads), end to end: lines sent to a bare node:http vendor stand-in (not
 * the simulator) that answers 60 MB, with a Content-Length and chunked. Each line ends
 * VENDOR_ANSWER_TOO_LARGE after one paid call, the stand-in sees its connection closed long before
 * its answer was out, and a real `rescreen work` process taking four such answers at once stays
 * far below the memory the whole answers would take. A real Redis; the worker as a user runs it.
 */
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import type { ResultRecord } from '../../../src/checks/types.js';
import type { Runtime } from '../../../src/runtime/runtime.js';
import { sampleJpeg } from '../../../src/simulator/sample-media.js';
import { startBigAnswerServer, type BigAnswerServer } from '../../helpers/big-answer-server.js';
import { runCli, startCli } from '../../helpers/cli.js';
import { createHarness, eventually, runToEnd, type Harness } from '../../helpers/pipeline.js';

const MB = 1024 * 1024;
/** What a cut-off 60 MB answer may have pushed out: the 1 MiB cap, plus loopback socket buffers on both sides. */
const FAR_BELOW = 16 * MB;

let h: Harness | undefined;
let server: BigAnswerServer | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
  await server?.close();
  server = undefined;
});

/** A harness whose OOTO is the stand-in; `n` ooto-deepfake lines, each on its own photo. */
async function linesTo(standIn: BigAnswerServer, label: string, n: number, env: Record<string, string> = {}): Promise<{ harness: Harness; manifest: string }> {
  const harness = await createHarness(label, {}, { OOTO_BASE_URL: standIn.url, ...env });
  const lines = [];
  for (let i = 0; i < n; i++) {
    await harness.file(`p${i}.jpg`, sampleJpeg({ seed: i + 1 }));
    lines.push({ ref: `p${i}.jpg`, check: 'ooto-deepfake' });
  }
  return { harness, manifest: await harness.manifest('m.jsonl', lines) };
}

async function records(runtime: Runtime, batch: string): Promise<ResultRecord[]> {
  const out: ResultRecord[] = [];
  for await (const r of runtime.store.stream(batch)) out.push(r);
  return out;
}

describe('a vendor answering 60 MB', () => {
  it.each(['length', 'chunked'] as const)('(%s) the line ends VENDOR_ANSWER_TOO_LARGE after one paid call; the connection closed early', async (framing) => {
    server = await startBigAnswerServer({ bytes: 60 * MB, framing });
    const { harness, manifest } = await linesTo(server, `big-${framing}`, 1, { RESCREEN_ATTEMPTS: '5', RESCREEN_CALL_RETRIES: '2' });
    h = harness;
    const runtime = await h.openRuntime();
    await runToEnd(runtime, manifest, 'big');

    const [record] = await records(runtime, 'big');
    expect(record).toMatchObject({ status: 'failed', check: 'ooto-deepfake', verdict: null, response: null, attempts: 1, error: { code: 'VENDOR_ANSWER_TOO_LARGE' } });
    expect(record!.error!.message).toContain('RESCREEN_MAX_ANSWER_BYTES=1048576');
    expect(record!.possiblyBilled).toBeUndefined();
    // Not retried (5 attempts, 2 quick retries allowed): one request reached the stand-in.
    expect(server.requests).toBe(1);
    const [answer] = await eventually(async () => [...server!.answers], (a) => a.length === 1, 10_000);
    expect(answer!.closedEarly).toBe(true);
    expect(answer!.bytesSent).toBeLessThan(FAR_BELOW);
    // The attempt log keeps the answered call with its status; `status` counts it as one paid call.
    expect(await runtime.store.attemptsOf('big', 1)).toEqual([expect.objectContaining({ httpStatus: 200, code: 'VENDOR_ANSWER_TOO_LARGE', attempt: 1 })]);
    const status = await runCli(['status', 'big'], h.env);
    expect(status.stdout).toMatch(/paid calls 1 \(ooto 1, glair 0\)/);
  });

  it.each(['length', 'chunked'] as const)('(%s) an answer just under the 1 MiB cap is read and parsed as before', async (framing) => {
    server = await startBigAnswerServer({ bytes: MB - 64, framing });
    const { harness, manifest } = await linesTo(server, `under-${framing}`, 1);
    h = harness;
    const runtime = await h.openRuntime();
    await runToEnd(runtime, manifest, 'under');
    const [record] = await records(runtime, 'under');
    expect(record).toMatchObject({ status: 'completed', verdict: 'genuine', score: 0.9, transactionId: 'tx-big', error: null });
    // The stored copy is still cut at RESCREEN_MAX_RESPONSE_BYTES, with the size of the whole.
    expect(record).toMatchObject({ responseTruncated: true });
    expect(record!.responseBytes).toBeGreaterThan(MB - 200);
    expect(server.answers.every((a) => !a.closedEarly)).toBe(true);
  });
});

/** VmHWM (peak resident set) of a live process, bytes. */
function peakRss(pid: number): number {
  const kb = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  if (kb === undefined) throw new Error(`no VmHWM for ${pid}`);
  return Number(kb) * 1024;
}

describe('rescreen work taking four 60 MB answers at once', () => {
  it.each(['length', 'chunked'] as const)('(%s) peak RSS stays under 300 MB; each line ends VENDOR_ANSWER_TOO_LARGE', async (framing) => {
    // The stand-in holds its answers until all four requests are in: they stream at the same time.
    server = await startBigAnswerServer({ bytes: 60 * MB, framing, together: 4 });
    // A generous time limit: the first requests wait for the last one at the stand-in (a loaded box).
    const { harness, manifest } = await linesTo(server, `rss-${framing}`, 4, { RESCREEN_REQUEST_TIMEOUT_MS: '30000' });
    h = harness;
    expect((await runCli(['enqueue', manifest, '--batch', 'rss'], h.env)).code).toBe(0);
    const runtime = await h.openRuntime();

    const worker = startCli(['work', '--concurrency', '4'], { ...h.env, LOG_LEVEL: 'warn' });
    const exited = new Promise<number | null>((resolve) => worker.on('close', (code) => resolve(code)));
    try {
      await eventually(() => runtime.store.summary('rss'), (s) => s !== null && s.recorded >= 4, 60_000);
      // Read while the worker still runs: VmHWM is its peak so far, the four answers included.
      const peak = peakRss(worker.pid!);
      expect(peak, `peak RSS ${Math.round(peak / MB)} MB`).toBeLessThan(300 * MB);
    } finally {
      worker.kill('SIGTERM');
    }
    expect(await exited, worker.output().stderr).toBe(0);

    const lines = await records(runtime, 'rss');
    expect(lines.map((r) => [r.status, r.error?.code])).toEqual(Array.from({ length: 4 }, () => ['failed', 'VENDOR_ANSWER_TOO_LARGE']));
    expect(server.requests).toBe(4);
    expect(server.mostAtOnce).toBe(4);
    await eventually(async () => server!.answers.length, (n) => n === 4, 10_000);
    for (const answer of server.answers) {
      expect(answer.closedEarly).toBe(true);
      expect(answer.bytesSent).toBeLessThan(FAR_BELOW);
    }
  });
});
