/**
 * Checked by their own ecosystems' tools, not ours: `promtool check metrics` (Debian's prometheus
 * package; .ci/run installs it) on /metrics of `serve` and of `work --metrics-port` after real vendor
 * calls, and `redocly lint` (@redocly/cli, recommended rules) on /openapi.json: no problem at all.
 */
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sampleJpeg } from '../../../src/simulator/sample-media.js';
import { runCli, startCli } from '../../helpers/cli.js';
import { createHarness, eventually, type Harness } from '../../helpers/pipeline.js';
import { freePort } from '../../helpers/ports.js';
import { startTestServer, type TestServer } from '../../helpers/server.js';

const REDOCLY = fileURLToPath(new URL('../../../node_modules/.bin/redocly', import.meta.url));

/** Runs a tool; its exit code and everything it printed. */
function tool(file: string, args: readonly string[], stdin?: string): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    const child = execFile(file, args, { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp' }, timeout: 120_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, out: stdout + stderr }),
    );
    if (stdin !== undefined) child.stdin?.end(stdin);
  });
}

let h: Harness;
let server: TestServer;
beforeAll(async () => {
  h = await createHarness('ecolint');
  // With the queue UI mounted: its routes (Bull Board's, the login form) stay out of the document.
  server = await startTestServer(h, {}, {}, { queuesUi: true });
});
afterAll(async () => {
  await server?.close();
  await h?.close();
});

describe("the ecosystems' own linters", () => {
  it('promtool check metrics passes on /metrics of serve', async () => {
    const text = (await server.app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(text).toContain('# TYPE rescreen_vendor_requests_total counter');
    const checked = await tool('promtool', ['check', 'metrics'], text);
    expect(checked, checked.out).toEqual({ code: 0, out: '' });
  });

  it('promtool check metrics passes on /metrics of work --metrics-port, after vendor calls', async () => {
    const lines = [];
    for (let i = 0; i < 3; i++) lines.push({ ref: await h.file(`p${i}.jpg`, sampleJpeg({ seed: i + 1 })), check: 'ooto-deepfake', subject: `s${i}` });
    expect((await runCli(['enqueue', await h.manifest('m.jsonl', lines), '--batch', 'lint-1'], h.env)).code).toBe(0);
    const port = await freePort();
    const worker = startCli(['work', '--metrics-port', String(port)], h.env);
    try {
      const text = await eventually(
        async () => (await fetch(`http://127.0.0.1:${port}/metrics`).catch(() => null))?.text() ?? '',
        (t) => /^rescreen_records_written_total\{[^}]*\} 3$/m.test(t),
        90_000,
      );
      expect(text).toMatch(/^rescreen_vendor_request_duration_seconds_bucket\{/m);
      const checked = await tool('promtool', ['check', 'metrics'], text);
      expect(checked, checked.out).toEqual({ code: 0, out: '' });
    } finally {
      worker.kill('SIGTERM');
      await new Promise((r) => worker.on('close', r));
    }
  }, 150_000);

  it('redocly lint (recommended rules) finds no error and no warning in /openapi.json', async () => {
    const doc = (await server.app.inject({ method: 'GET', url: '/openapi.json' })).json<{ paths: Record<string, unknown> }>();
    expect(Object.keys(doc.paths)).toContain('/api/batches');
    expect(Object.keys(doc.paths).filter((p) => p.startsWith('/queues'))).toEqual([]);
    const path = join(h.dir, 'openapi.json');
    await writeFile(path, JSON.stringify(doc));
    const linted = await tool(REDOCLY, ['lint', path, '--extends=recommended', '--format=stylish']);
    expect(linted.code, linted.out).toBe(0);
    expect(linted.out).toContain('Your API description is valid');
    // stylish prints one `line:col  error|warning  rule  message` line per problem.
    expect(linted.out).not.toMatch(/^\s*\d+:\d+\s+(error|warning)\s/m);
    expect(linted.out).not.toMatch(/Validation failed/);
  }, 150_000);
});
