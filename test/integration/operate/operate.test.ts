/**
 * Operating a batch: second chances (retry), filtered and atomic results, the batch list, and a
 * progress bar in a real pseudo-terminal.
 */
import { spawn } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { hashImage } from '../../../src/media/perceptual.js';
import { sampleJpeg, sampleMp4 } from '../../../src/simulator/sample-media.js';
import { BIN, cleanEnv, runCli, startCli } from '../../helpers/cli.js';
import { STORE_KINDS, createHarness, sha256, type Harness } from '../../helpers/pipeline.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe.each(STORE_KINDS)('rescreen retry (%s store)', (store) => {
  it('re-runs exactly the failed lines; rejected lines are never re-sent', async () => {
    h = await createHarness('retry', {}, { RESCREEN_ATTEMPTS: '1', RESCREEN_CALL_RETRIES: '0' }, { store });
    const a = sampleJpeg({ seed: 1 });
    const noFace = sampleJpeg({ seed: 2, directives: 'noface' });
    const late = sampleJpeg({ seed: 3 });
    await h.file('a.jpg', a);
    await h.file('noface.jpg', noFace);
    await h.file('v.mp4', sampleMp4({ seed: 4 }));
    const manifest = await h.manifest('m.jsonl', [
      { ref: 'a.jpg', check: 'ooto-deepfake', subject: 'one' },
      { ref: 'late.jpg', check: 'ooto-identify', subject: 'two', options: { checkLiveness: true } },
      { ref: 'noface.jpg', check: 'ooto-deepfake', subject: 'three' },
      { ref: 'a.jpg', check: 'nope' },
      { ref: 'v.mp4', check: 'glair-video', subject: 'five' },
    ]);
    // A 500 (not a gateway's 502/503/504, which would only hold the vendor) fails its line at once (1 attempt).
    h.sim.failNext(1, '500', 'glair');
    const first = await runCli(['run', manifest, '--batch', 'r1'], h.env);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/completed 1, rejected 1, failed 3/);

    const failedOnly = await runCli(['results', 'r1', '--status', 'failed'], h.env);
    const failed = failedOnly.stdout.trim().split('\n').map((l) => JSON.parse(l) as { line: number; error: { code: string } });
    expect(failed.map((r) => [r.line, r.error.code])).toEqual([
      [2, 'MEDIA_NOT_FOUND'],
      [4, 'INVALID_LINE'],
      [5, 'HTTP_500'],
    ]);

    // The missing photo turns up; the vendor is healthy again.
    await h.file('late.jpg', late);
    const retry = await runCli(['retry', 'r1'], h.env);
    expect(retry.code, retry.stderr).toBe(0);
    expect(retry.stdout).toMatch(/re-enqueued 2 failed lines \(HTTP_500 1, MEDIA_NOT_FOUND 1; glair 1, ooto 1\); 1 invalid manifest line cannot be retried.*; 1 rejected line left alone/);
    expect((await runCli(['work', '--until-idle'], h.env)).code).toBe(0);

    const all = (await runCli(['results', 'r1'], h.env)).stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(all.map((r) => [r.line, r.status])).toEqual([
      [1, 'completed'],
      [2, 'completed'],
      [3, 'rejected'],
      [4, 'failed'],
      [5, 'completed'],
    ]);
    expect(all[1]).toMatchObject({ check: 'ooto-identify', options: { checkLiveness: true } });
    const calls = h.sim.stats().callsByMediaSha256;
    expect(calls[sha256(noFace)]).toBe(1);
    expect(calls[sha256(a)]).toBe(1);
    expect(calls[sha256(late)]).toBe(1);
    const status = await runCli(['status', 'r1'], h.env);
    expect(status.stdout).toMatch(/completed 3, rejected 1, failed 1/);

    // The attempt log keeps both answered calls of the retried line; the first call's id finds the record.
    const log = (await runCli(['results', 'r1', '--attempts'], h.env)).stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const line5 = log.filter((r) => r.line === 5);
    expect(line5.map((r) => r.httpStatus)).toEqual([500, 200]);
    expect(line5.map((r) => r.code)).toEqual(['HTTP_500', null]);
    const [firstTx, secondTx] = line5.map((r) => r.transactionId as string);
    expect(firstTx).toMatch(/\S/);
    expect(secondTx).not.toBe(firstTx);
    expect(all[4]?.transactionId).toBe(secondTx);
    expect(line5[0]).toMatchObject({ vendor: 'glair', check: 'glair-video', attempt: 1, subject: 'five', worker: expect.stringMatching(/:\d+$/), endpoint: new URL(h.env.GLAIR_BASE_URL!).origin });
    const found = await runCli(['result', firstTx!], h.env);
    expect(found.code, found.stderr).toBe(0);
    expect(JSON.parse(found.stdout)).toMatchObject({ batch: 'r1', line: 5, status: 'completed', transactionId: secondTx });
    // No call for a missing file or an invalid line; the rejected photo's answer is logged with its engine code.
    expect(log.filter((r) => r.line === 4)).toEqual([]);
    expect(log.find((r) => r.line === 3)).toMatchObject({ httpStatus: 400, code: expect.anything() });
    // What was screened: the exact bytes sent, and the picture's perceptual hashes (src/media/perceptual.ts).
    expect(all[0]?.media).toEqual([{ sha256: sha256(a), bytes: a.length, type: 'image/jpeg', ...(await hashImage(a)) }]);
    const csv = (await runCli(['results', 'r1', '--attempts', '--format', 'csv'], h.env)).stdout.trim().split('\n');
    expect(csv[0]).toBe('batch,line,subject,check,vendor,attempt,transactionId,httpStatus,code,durationMs,at,worker,endpoint');
    // Each row names the origin that answered: the simulator's, no path.
    expect(csv[1]).toMatch(/,http:\/\/127\.0\.0\.1:\d+$/);
    expect(csv).toHaveLength(log.length + 1);
  });
});

describe('results --output and batches', () => {
  it('writes atomically and lists batches newest first', async () => {
    h = await createHarness('output');
    await h.file('a.jpg', sampleJpeg({ seed: 1 }));
    const manifest = await h.manifest('m.jsonl', [{ ref: 'a.jpg', check: 'ooto-deepfake' }, { ref: 'gone.jpg', check: 'ooto-deepfake' }]);
    expect((await runCli(['run', manifest, '--batch', 'older'], h.env)).code).toBe(0);
    await new Promise((r) => setTimeout(r, 20));
    expect((await runCli(['run', manifest, '--batch', 'newer'], h.env)).code).toBe(0);

    const out = `${h.dir}/out/results.csv`;
    await runCli(['results', 'newer', '--format', 'csv', '--output', `${h.dir}/nope/x.csv`], h.env).then((r) => {
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/cannot write/);
    });
    await h.file('out/.keep', '');
    const wrote = await runCli(['results', 'newer', '--format', 'csv', '--status', 'completed', '--output', out], h.env);
    expect(wrote.code, wrote.stderr).toBe(0);
    expect(wrote.stdout).toBe('');
    const csv = (await readFile(out, 'utf8')).trim().split('\n');
    expect(csv).toHaveLength(2);
    expect(csv[1]).toMatch(/^newer,1,/);
    expect((await readdir(`${h.dir}/out`)).sort()).toEqual(['.keep', 'results.csv']);

    const list = await runCli(['batches'], h.env);
    const rows = list.stdout.trim().split('\n').slice(2);
    expect(rows.map((r) => r.split(/\s+/)[0])).toEqual(['newer', 'older']);
    expect(rows[0]).toMatch(/newer\s+\S+\s+2\s+2\s+1\s+0\s+1\s+finished/);
  });
});

describe('status --watch', () => {
  it('draws a bar in a real pseudo-terminal that ends at 100 %', async () => {
    h = await createHarness('watch', { latencyMs: 150 });
    const lines = [];
    for (let i = 1; i <= 24; i++) {
      await h.file(`p${i}.jpg`, sampleJpeg({ seed: i }));
      lines.push({ ref: `p${i}.jpg`, check: 'ooto-deepfake' });
    }
    const manifest = await h.manifest('m.jsonl', lines);
    expect((await runCli(['enqueue', manifest, '--batch', 'w'], h.env)).code).toBe(0);
    const worker = startCli(['work', '--concurrency', '2'], h.env);
    try {
      // `script` gives the command a pseudo-terminal, as a person's terminal would.
      const watched = await new Promise<{ code: number | null; out: string }>((resolve) => {
        const child = spawn('script', ['-qfec', `${process.execPath} ${BIN} status w --watch`, '/dev/null'], {
          env: cleanEnv({ ...h!.env, TERM: 'xterm' }),
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let out = '';
        child.stdout.on('data', (d: Buffer) => (out += d.toString()));
        child.on('close', (code) => resolve({ code, out }));
      });
      expect(watched.code, watched.out).toBe(0);
      expect(watched.out).toMatch(/█/);
      expect(watched.out).toMatch(/100% \| 24\/24/);
      expect(watched.out).toMatch(/completed 24/);
    } finally {
      worker.kill('SIGTERM');
      await new Promise((r) => worker.once('close', r));
    }
  });

  it('prints plain lines without a terminal', async () => {
    h = await createHarness('plain');
    await h.file('a.jpg', sampleJpeg({ seed: 1 }));
    const manifest = await h.manifest('m.jsonl', [{ ref: 'a.jpg', check: 'ooto-deepfake' }]);
    const run = await runCli(['run', manifest, '--batch', 'p'], h.env);
    expect(run.stderr).toMatch(/^batch p: 1\/1 \(100%\)/m);
    expect(run.stderr).not.toContain('\u001b[');
    const watch = await runCli(['status', 'p', '--watch'], h.env);
    expect(watch.code).toBe(0);
    expect(watch.stdout).toMatch(/^batch p: 1\/1 \(100%\)/m);
  });
});
