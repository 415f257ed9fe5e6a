/**
 * Importing `rescreen` and `rescreen/testing` activates nothing (no server, no connection, no timer):
 * a child process that imports both, by package name through the `exports` map of the built package,
 * has no open handle afterwards and exits at once on its own.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../..', import.meta.url));

describe('importing the package', () => {
  it('starts nothing: no active handle after import, and the process exits by itself', () => {
    const script = `
      const before = process.getActiveResourcesInfo();
      const api = await import('rescreen');
      const kit = await import('rescreen/testing');
      const names = [typeof api.createRescreen, typeof kit.createTestEnv, typeof kit.startSimulator, typeof kit.photo];
      // Let pending file closes of the module loader settle, then compare with what the bare process had.
      await new Promise((resolve) => setImmediate(resolve));
      const after = process.getActiveResourcesInfo();
      const added = after.filter((r) => { const i = before.indexOf(r); if (i < 0) return true; before.splice(i, 1); return false; });
      process.stdout.write(JSON.stringify({ names, added }));
    `;
    // No REDIS_URL and nothing listening matters: importing must not try.
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      cwd: root,
      env: { PATH: process.env.PATH ?? '', REDIS_URL: 'redis://127.0.0.1:1' },
      encoding: 'utf8',
      timeout: 10_000,
    });
    expect(child.error).toBeUndefined();
    expect(child.signal, 'the child had to be killed: something kept it alive').toBeNull();
    expect(child.status, child.stderr).toBe(0);
    const out = JSON.parse(child.stdout) as { names: string[]; added: string[] };
    expect(out.names).toEqual(['function', 'function', 'function', 'function']);
    // The process's own stdio (created when a library asks whether stderr is a terminal) and file
    // reads of the module loader are not activity; a socket, server, timer or child process would be.
    const STDIO_AND_LOADER = new Set(['PipeWrap', 'TTYWrap', 'FSReqCallback', 'CloseReq']);
    expect(out.added.filter((r) => !STDIO_AND_LOADER.has(r))).toEqual([]);
  });
});
