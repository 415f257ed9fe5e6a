/**
 * Issue 8, the command line: Ctrl-C under a real terminal, closed pipes, stray traces and the small
 * things a new user meets. The built CLI in a child process, a real Redis and the simulator.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { sampleJpeg } from '../../../src/simulator/sample-media.js';
import { BIN, cleanEnv, lastScreenLine, runCli, startCli, startCliInPty } from '../../helpers/cli.js';
import { createHarness, eventually, type Harness } from '../../helpers/pipeline.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

/** A batch of `n` ooto-deepfake lines on one photo (each line is its own vendor call). */
async function slowBatch(harness: Harness, n: number): Promise<string> {
  await harness.file('a.jpg', sampleJpeg({ seed: 1, directives: 'genuine' }));
  return harness.manifest('slow.jsonl', Array.from({ length: n }, () => ({ ref: 'a.jpg', check: 'ooto-deepfake' })));
}

/** A batch of `n` invalid lines: records without any vendor call, fast. */
async function invalidBatch(harness: Harness, batch: string, n: number): Promise<void> {
  const manifest = await harness.manifest('invalid.jsonl', Array.from({ length: n }, (_, i) => `line ${i}`));
  const enq = await runCli(['enqueue', manifest, '--batch', batch], harness.env);
  expect(enq.code, enq.stderr).toBe(0);
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

describe('Ctrl-C (item 6)', () => {
  it('one Ctrl-C during run on a terminal: the bar is cleared, one last line, exit 130', async () => {
    h = await createHarness('pty-run', { latencyMs: 1_500 });
    const manifest = await slowBatch(h, 40);
    const cli = startCliInPty(['run', manifest, '--batch', 'pty', '--concurrency', '2'], h.env);
    // Wait until the bar is up (some records written), then type Ctrl-C once.
    await eventually(async () => cli.output(), (out) => /\d+% \|/.test(out) && /\| [1-9]\d*\/40 \|/.test(out), 30_000);
    cli.ctrlC();
    const started = Date.now();
    const { code } = await cli.exited;
    const out = cli.output();
    expect(code, out).toBe(130);
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(out).not.toContain('The client is destroyed');
    expect(out).not.toMatch(/\n\s+at /);
    const last = lastScreenLine(out);
    expect(last).toMatch(/^rescreen: interrupted — batch pty: \d+ of 40 lines recorded \(completed \d+, rejected 0, failed 0\); \d+ jobs stay queued/);
    // Nothing of the bar after the shutdown message: it was stopped (and cleared) first.
    const afterSignal = out.slice(out.indexOf('shutting down'));
    expect(afterSignal).not.toMatch(/\d+% \|/);
  });

  it('a second Ctrl-C cuts the shutdown of work --until-idle short: exit 130 at once', async () => {
    h = await createHarness('pty-work', { latencyMs: 20_000 });
    const manifest = await slowBatch(h, 4);
    expect((await runCli(['enqueue', manifest, '--batch', 'pty2'], h.env)).code).toBe(0);
    const cli = startCliInPty(['work', '--until-idle', '--concurrency', '2'], h.env);
    await eventually(async () => h!.sim.stats().totalCalls, (n) => n >= 1, 20_000);
    cli.ctrlC();
    await eventually(async () => cli.output(), (out) => out.includes('shutting down'), 10_000);
    cli.ctrlC();
    const started = Date.now();
    const { code } = await cli.exited;
    expect(code, cli.output()).toBe(130);
    // The calls in flight take 20 s: an immediate exit does not wait for them (10 s: a loaded box).
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(lastScreenLine(cli.output())).toMatch(/^rescreen: SIGINT again: exiting now/);
  });

  it('work --until-idle, one Ctrl-C: finishes the calls in flight, says what stays queued, exit 0 (a clean stop)', async () => {
    h = await createHarness('pty-idle', { latencyMs: 1_000 });
    const manifest = await slowBatch(h, 20);
    expect((await runCli(['enqueue', manifest, '--batch', 'pty3'], h.env)).code).toBe(0);
    const cli = startCliInPty(['work', '--until-idle', '--concurrency', '1'], h.env);
    await eventually(async () => h!.sim.stats().totalCalls, (n) => n >= 1, 20_000);
    cli.ctrlC();
    const { code } = await cli.exited;
    const out = cli.output();
    expect(code, out).toBe(0);
    expect(out).not.toContain('The client is destroyed');
    expect(lastScreenLine(out)).toMatch(/^rescreen: interrupted — \d+ records written; \d+ jobs stay queued \(ooto \d+, glair 0\)/);
  });

  it('status --watch + Ctrl-C exits 130; plain work exits 0 on SIGINT once its calls in flight are recorded', async () => {
    h = await createHarness('pty-status', { latencyMs: 2_000 });
    const manifest = await slowBatch(h, 3);
    expect((await runCli(['enqueue', manifest, '--batch', 'pty4'], h.env)).code).toBe(0);
    const watch = startCliInPty(['status', 'pty4', '--watch'], h.env);
    await eventually(async () => watch.output(), (out) => out.includes('0/3'), 20_000);
    watch.ctrlC();
    expect((await watch.exited).code, watch.output()).toBe(130);

    // Plain `work` (no terminal needed): a signal that lets the calls in flight finish is a clean stop.
    const work = startCli(['work'], h.env);
    await eventually(async () => h!.sim.stats().totalCalls, (n) => n >= 1, 20_000);
    work.kill('SIGINT');
    const code = await new Promise<number | null>((resolve) => work.on('close', (c) => resolve(c)));
    expect(code, work.output().stderr).toBe(0);
    expect(work.output().stderr).not.toContain('The client is destroyed');
  });
});

describe('pipes and stray traces (item 7)', () => {
  it('results | head -1 exits 0 with nothing on stderr', async () => {
    h = await createHarness('epipe');
    await invalidBatch(h, 'pipe', 3_000);
    for (const format of ['jsonl', 'csv']) {
      const child = spawn('bash', ['-c', `"${process.execPath}" "${BIN}" results pipe --format ${format} | head -1; echo "rc=\${PIPESTATUS[0]}" >&2`], {
        env: cleanEnv(h.env),
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      await new Promise((resolve) => child.on('close', resolve));
      expect(stdout.trim().split('\n')).toHaveLength(1);
      expect(stderr.trim()).toBe('rc=0');
    }
  });

  it('results --output into a missing folder: one error line, never a trace', async () => {
    h = await createHarness('nodir');
    await invalidBatch(h, 'nodir', 3);
    for (let i = 0; i < 4; i++) {
      const run = await runCli(['results', 'nodir', '--output', '/nonexistent/dir/x.csv'], h.env);
      expect(run.code).toBe(1);
      expect(run.stderr).toBe('rescreen: cannot write /nonexistent/dir/x.csv: the folder /nonexistent/dir does not exist (create it first)\n');
    }
  });
});

describe('small things (item 9)', () => {
  it('--version, --output by extension, plain manifest errors, LOG_LEVEL, status --watch once, folder skips at debug', async () => {
    h = await createHarness('small');
    const pkg = JSON.parse(await readFile(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
    const version = await runCli(['--version'], h.env);
    expect(version.code).toBe(0);
    expect(version.stdout.trim()).toBe(pkg.version);

    await invalidBatch(h, 'small', 2);
    const out = `${h.dir}/out.csv`;
    expect((await runCli(['results', 'small', '--output', out], h.env)).code).toBe(0);
    expect((await readFile(out, 'utf8')).split('\n')[0]).toMatch(/^batch,line,subject,ref/);
    const jsonl = `${h.dir}/out2.csv`;
    expect((await runCli(['results', 'small', '--output', jsonl, '--format', 'jsonl'], h.env)).code).toBe(0);
    expect((await readFile(jsonl, 'utf8')).startsWith('{')).toBe(true);

    const missing = await runCli(['enqueue', `${h.dir}/nope.jsonl`], h.env);
    expect(missing.stderr).toBe(`rescreen: cannot read manifest ${h.dir}/nope.jsonl: no such file\n`);

    const badLevel = await runCli(['status', 'small'], { ...h.env, LOG_LEVEL: 'verbose' });
    expect(badLevel.code).toBe(2);
    expect(badLevel.stderr).toContain('LOG_LEVEL must be one of');
    expect(badLevel.stderr).toContain('(got "verbose")');

    // A finished batch, watched without a terminal: its progress line once, then the summary.
    const watch = await runCli(['status', 'small', '--watch'], h.env);
    expect(watch.code).toBe(0);
    expect(watch.stdout.match(/^batch small: 2\/2/gm)).toHaveLength(1);

    await h.file('folder/a.jpg', sampleJpeg({ seed: 3 }));
    await h.file('folder/notes.txt', 'hello');
    const folder = await runCli(['enqueue', `${h.dir}/folder`, '--batch', 'folder', '--dry-run'], { ...h.env, LOG_LEVEL: 'debug' });
    expect(folder.code, folder.stderr).toBe(0);
    expect(folder.stderr).toMatch(/"path":"notes.txt","reason":"not-media".*folder entry skipped/);
  });

  it('the simulator prints its variables with export', async () => {
    h = await createHarness('simvars');
    const port = await freePort();
    const sim = startCli(['simulator', '--port', String(port)], h.env);
    await eventually(async () => sim.output().stdout, (out) => out.includes('stats:'), 15_000);
    sim.kill('SIGINT');
    await new Promise((resolve) => sim.on('close', resolve));
    const lines = sim.output().stdout.split('\n');
    expect(lines.find((l) => l.includes('OOTO_BASE_URL'))?.trim()).toMatch(/^export OOTO_BASE_URL=http:\/\/127\.0\.0\.1:\d+ OOTO_APP_ID=\S+ OOTO_APP_KEY=\S+$/);
    expect(lines.find((l) => l.includes('GLAIR_BASE_URL'))?.trim()).toMatch(/^export GLAIR_BASE_URL=/);
    expect(existsSync(h.dir)).toBe(true);
  });
});
