/**
 * Evidence an auditor accepts: `rescreen export` signs a batch's records with Ed25519 and
 * `rescreen verify` names the first altered file and line, whatever was tampered with.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFile, cp, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sampleJpeg } from '../../../src/simulator/sample-media.js';
import { runCli } from '../../helpers/cli.js';
import { createHarness, type Harness } from '../../helpers/pipeline.js';
import { startVendorStandIn } from '../../helpers/vendor-stand-in.js';

/** Every vendor credential the harness sets. */
const CREDENTIAL_VARS = ['OOTO_APP_ID', 'OOTO_APP_KEY', 'GLAIR_USERNAME', 'GLAIR_PASSWORD', 'GLAIR_API_KEY'];

let h: Harness;
let env: Record<string, string>;
let bundle: string;
let runLogs: string;

beforeAll(async () => {
  h = await createHarness('audit');
  for (let i = 1; i <= 4; i++) await h.file(`p${i}.jpg`, sampleJpeg({ seed: i, directives: i % 2 === 0 ? 'fake' : 'genuine' }));
  const lines = Array.from({ length: 30 }, (_, i) => ({ ref: `p${(i % 4) + 1}.jpg`, check: 'ooto-deepfake', subject: `c${i + 1}` }));
  const manifest = await h.manifest('audit.jsonl', [...lines, { ref: 'p1.jpg', check: 'nope' }]);
  // Every log line the run writes, at debug: the credentials are set and must appear nowhere.
  const run = await runCli(['run', manifest, '--batch', 'audit-1'], { ...h.env, LOG_LEVEL: 'debug' });
  expect(run.code, run.stderr).toBe(0);
  runLogs = run.stdout + run.stderr;

  const keygen = await runCli(['keygen', '--out', join(h.dir, 'signing.pem')], h.env);
  expect(keygen.code, keygen.stderr).toBe(0);
  expect(keygen.stdout).toContain('signing.pem.pub');
  env = { ...h.env, RESCREEN_SIGNING_KEY: join(h.dir, 'signing.pem') };
  bundle = join(h.dir, 'export');
  const exported = await runCli(['export', 'audit-1', '--out', bundle], env);
  expect(exported.code, exported.stderr).toBe(0);
  expect(exported.stdout).toMatch(
    /^exported batch audit-1: 31 records, \d+ review cases and 0 decisions, \d+ fraud rings?, 12 files and the manifest in .*export \(signed by key [0-9a-f]{16}\); answered by the rescreen simulator at http:\/\/127\.0\.0\.1:\d+ \(ooto\), not by a vendor\n$/,
  );
}, 90_000);
afterAll(async () => {
  await h.close();
});

const pub = () => join(h.dir, 'signing.pem.pub');

/** A copy of the export to tamper with. */
async function copy(name: string): Promise<string> {
  const dir = join(h.dir, name);
  await cp(bundle, dir, { recursive: true });
  return dir;
}

describe('export and verify', () => {
  it('an untouched export verifies, and holds every record, its line hashes, the summary and a signed manifest', async () => {
    const ok = await runCli(['verify', bundle, '--public-key', pub()], h.env);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(
      /^OK: batch audit-1, 31 records, \d+ review cases and 0 decisions, \d+ fraud rings?, exported \S+ by rescreen \S+, signed by key [0-9a-f]{16}; every file and line as signed; answered by the rescreen simulator at http:\/\/127\.0\.0\.1:\d+ \(ooto\), not by a vendor\n$/,
    );
    const manifest = JSON.parse(await readFile(join(bundle, 'manifest.json'), 'utf8')) as { files: { name: string }[]; settings: object; counts: object };
    expect(manifest.files.map((f) => f.name)).toEqual(['records.jsonl', 'records.jsonl.lines', 'attempts.jsonl', 'attempts.jsonl.lines', 'cases.jsonl', 'cases.jsonl.lines', 'decisions.jsonl', 'decisions.jsonl.lines', 'rings.jsonl', 'rings.jsonl.lines', 'summary.json', 'drift.json']);
    // The drift report is signed with the rest: the batch's histogram per check, PSI (the first batch: nothing to compare with).
    const drift = JSON.parse(await readFile(join(bundle, 'drift.json'), 'utf8')) as { batch: string; rule: string; checks: { check: string; bins: number[]; against: string | null }[] };
    expect(drift).toMatchObject({ batch: 'audit-1', rule: expect.stringMatching(/^PSI < 0\.1 stable/), checks: [{ check: 'ooto-deepfake', against: null }] });
    expect(drift.checks[0]?.bins).toHaveLength(20);
    // rings.jsonl: the fraud rings of the batch's subjects (30 subjects share 4 pictures: sha256 links), whole and signed.
    const rings = (await readFile(join(bundle, 'rings.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { id: string; subjects: string[]; links: { kind: string }[] });
    expect(rings.length).toBeGreaterThanOrEqual(1);
    const ringed = new Set(rings.flatMap((r) => r.subjects));
    for (let i = 1; i <= 30; i++) expect(ringed.has(`c${i}`)).toBe(true);
    for (const r of rings) expect(r.id).toMatch(/^r[0-9a-f]{16}$/);
    // The attempt log: one row per answered call (30 lines sent, one call each).
    expect((await readFile(join(bundle, 'attempts.jsonl'), 'utf8')).trim().split('\n')).toHaveLength(30);
    // What the batch ran with, as its workers recorded it: the simulator, not the vendors' URLs.
    expect(manifest.settings).toEqual({
      simulator: true,
      answeredBy: [
        {
          rescreenVersion: expect.any(String),
          vendor: 'ooto',
          baseUrl: h.env.OOTO_BASE_URL,
          simulator: true,
          identifyMatchThreshold: 0.75,
          keepResponse: 'minimal',
          maxResponseBytes: 65_536,
          hash: expect.stringMatching(/^[0-9a-f]{16}$/),
          firstSeenAt: expect.any(String),
        },
      ],
    });
    // Each attempt row names the origin that answered it.
    const rows = (await readFile(join(bundle, 'attempts.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { endpoint: string });
    expect(new Set(rows.map((r) => r.endpoint))).toEqual(new Set([new URL(h.env.OOTO_BASE_URL!).origin]));
    expect(manifest.counts).toMatchObject({ total: 31, byStatus: { completed: 30, failed: 1 } });
    // No secret of ours in the bundle (any file) nor in the run's logs: no vendor credential, not the signing key.
    const key = await readFile(join(h.dir, 'signing.pem'), 'utf8');
    const secrets = [key.split('\n')[1]!, ...CREDENTIAL_VARS.map((v) => h.env[v]!)];
    for (const name of await readdir(bundle)) {
      const text = await readFile(join(bundle, name), 'utf8');
      for (const secret of secrets) expect(text, name).not.toContain(secret);
    }
    expect(runLogs).toMatch(/debug|"level":20|DEBUG/i);
    for (const secret of secrets) expect(runLogs).not.toContain(secret);
  });

  it('says what the batch ran with, not what the exporting process is configured with', async () => {
    const elsewhere = join(h.dir, 'export-elsewhere');
    const exported = await runCli(['export', 'audit-1', '--out', elsewhere, '--unsigned'], { ...h.env, OOTO_BASE_URL: 'https://api.ooto.example', IDENTIFY_MATCH_THRESHOLD: '0.9' });
    expect(exported.code, exported.stderr).toBe(0);
    const manifest = JSON.parse(await readFile(join(elsewhere, 'manifest.json'), 'utf8')) as { settings: { answeredBy: { baseUrl: string; identifyMatchThreshold: number }[] } };
    expect(manifest.settings.answeredBy.map((s) => [s.baseUrl, s.identifyMatchThreshold])).toEqual([[h.env.OOTO_BASE_URL, 0.75]]);
    const status = await runCli(['status', 'audit-1'], h.env);
    expect(status.stdout).toMatch(/^answered by the rescreen simulator at http:\/\/127\.0\.0\.1:\d+ \(ooto\), not by a vendor$/m);
  });

  it('a batch answered at a configured base URL that is not the simulator names that URL, and no credential', async () => {
    const standIn = await startVendorStandIn();
    try {
      await h.file('v.jpg', sampleJpeg({ seed: 9 }));
      const manifest = await h.manifest('vendor.jsonl', [{ ref: 'v.jpg', check: 'ooto-deepfake', subject: 'v1' }]);
      const vendorEnv = { ...h.env, OOTO_BASE_URL: standIn.url, LOG_LEVEL: 'debug' };
      const run = await runCli(['run', manifest, '--batch', 'audit-vendor'], vendorEnv);
      expect(run.code, run.stderr).toBe(0);
      const out = join(h.dir, 'export-vendor');
      const exported = await runCli(['export', 'audit-vendor', '--out', out], { ...env, LOG_LEVEL: 'debug' });
      expect(exported.code, exported.stderr).toBe(0);
      expect(exported.stdout).toMatch(new RegExp(`; answered by ${standIn.url.replace(/\./g, '\\.')} \\(ooto\\)\\n$`));
      const manifest2 = JSON.parse(await readFile(join(out, 'manifest.json'), 'utf8')) as { settings: { simulator: boolean; answeredBy: { baseUrl: string; simulator: boolean }[] } };
      expect(manifest2.settings.simulator).toBe(false);
      expect(manifest2.settings.answeredBy).toMatchObject([{ baseUrl: standIn.url, simulator: false }]);
      const ok = await runCli(['verify', out, '--public-key', pub()], h.env);
      expect(ok.stdout).toMatch(new RegExp(`every file and line as signed; answered by ${standIn.url.replace(/\./g, '\\.')} \\(ooto\\)\\n$`));
      const texts = [run.stdout, run.stderr, exported.stdout, exported.stderr, ...(await Promise.all((await readdir(out)).map((f) => readFile(join(out, f), 'utf8'))))];
      for (const secret of CREDENTIAL_VARS.map((v) => h.env[v]!)) for (const text of texts) expect(text).not.toContain(secret);
    } finally {
      await standIn.close();
    }
  });

  it('names the first altered line of the records', async () => {
    const dir = await copy('tampered-line');
    const path = join(dir, 'records.jsonl');
    const lines = (await readFile(path, 'utf8')).split('\n');
    expect(lines[16]).toContain('"verdict":"genuine"');
    lines[16] = lines[16]!.replace('"verdict":"genuine"', '"verdict":"deepfake"');
    lines[20] = lines[20]!.replace(/"score":[0-9.]+/, '"score":0.99');
    await writeFile(path, lines.join('\n'));
    const bad = await runCli(['verify', dir, '--public-key', pub()], h.env);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toBe('ALTERED: records.jsonl line 17: line 17 was altered\n');
  });

  it('a removed line, an added line, an added file, an edited manifest, another key: each named', async () => {
    const cut = await copy('cut');
    const lines = (await readFile(join(cut, 'records.jsonl'), 'utf8')).split('\n');
    await writeFile(join(cut, 'records.jsonl'), [...lines.slice(0, 5), ...lines.slice(6)].join('\n'));
    expect((await runCli(['verify', cut, '--public-key', pub()], h.env)).stdout).toBe('ALTERED: records.jsonl line 6: line 6 was altered\n');

    const added = await copy('added');
    await writeFile(join(added, 'records.jsonl'), `${lines.join('\n')}{"batch":"audit-1","line":99}\n`);
    expect((await runCli(['verify', added, '--public-key', pub()], h.env)).stdout).toMatch(/^ALTERED: records\.jsonl line 32: line 32 was added/);

    const extra = await copy('extra');
    await writeFile(join(extra, 'notes.txt'), 'hello');
    expect((await runCli(['verify', extra, '--public-key', pub()], h.env)).stdout).toBe('ALTERED: notes.txt: added: not listed in the signed manifest\n');

    const edited = await copy('edited');
    const m = await readFile(join(edited, 'manifest.json'), 'utf8');
    await writeFile(join(edited, 'manifest.json'), m.replace('"total": 31', '"total": 30'));
    const sig = await runCli(['verify', edited, '--public-key', pub()], h.env);
    expect(sig.code).toBe(1);
    expect(sig.stdout).toContain('ALTERED: manifest.json: the signature does not match');

    // Both the records and their line hashes rewritten: the file is named (the hashes no longer match).
    const both = await copy('both');
    await writeFile(join(both, 'records.jsonl.lines'), 'x\n');
    await writeFile(join(both, 'records.jsonl'), 'x\n');
    expect((await runCli(['verify', both, '--public-key', pub()], h.env)).stdout).toMatch(/^ALTERED: records\.jsonl: altered/);

    // An edited ring (a subject taken out of it): named by line and ring.
    const ringEdit = await copy('ring-edit');
    const ringLines = (await readFile(join(ringEdit, 'rings.jsonl'), 'utf8')).split('\n');
    const ring = JSON.parse(ringLines[0]!) as { id: string; subjects: string[] };
    ringLines[0] = JSON.stringify({ ...ring, subjects: ring.subjects.slice(1) });
    await writeFile(join(ringEdit, 'rings.jsonl'), ringLines.join('\n'));
    expect((await runCli(['verify', ringEdit, '--public-key', pub()], h.env)).stdout).toBe(`ALTERED: rings.jsonl line 1 (ring ${ring.id}): line 1 was altered\n`);

    const other = join(h.dir, 'other.pem');
    expect((await runCli(['keygen', '--out', other], h.env)).code).toBe(0);
    expect((await runCli(['verify', bundle, '--public-key', `${other}.pub`], h.env)).stdout).toContain('the signature does not match');

    const unsigned = join(h.dir, 'unsigned');
    expect((await runCli(['export', 'audit-1', '--out', unsigned, '--unsigned'], h.env)).code).toBe(0);
    expect((await runCli(['verify', unsigned, '--public-key', pub()], h.env)).stdout).toBe('ALTERED: manifest.sig: missing: the export is not signed\n');
  });

  it("the README's offline-verification commands, run as written with openssl and sha256sum, succeed; an edited line or SHA256SUMS fails them", async () => {
    const readme = await readFile(new URL('../../../README.md', import.meta.url), 'utf8');
    const block = /<!-- offline-verification:[^\n]*-->\n```sh\n([\s\S]*?)\n```\n/.exec(readme)?.[1];
    expect(block).toContain('openssl pkeyutl -verify');
    /** Lays out what the README assumes (the export at audit/night-2, the public key beside it) and runs the block. */
    const run = async (name: string, tamper?: (dir: string) => Promise<void>) => {
      const cwd = join(h.dir, name);
      await mkdir(join(cwd, 'audit'), { recursive: true });
      await cp(bundle, join(cwd, 'audit', 'night-2'), { recursive: true });
      await copyFile(pub(), join(cwd, 'rescreen-signing.pem.pub'));
      if (tamper) await tamper(join(cwd, 'audit', 'night-2'));
      return promisify(execFile)('sh', ['-e', '-c', block!], { cwd, env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } }).then(
        ({ stdout, stderr }) => ({ code: 0, out: stdout + stderr }),
        (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, out: e.stdout + e.stderr }),
      );
    };
    const ok = await run('offline-ok');
    expect(ok.code, ok.out).toBe(0);
    expect(ok.out.match(/^Signature Verified Successfully$/gm)).toHaveLength(2);
    const listed = (await readFile(join(bundle, 'SHA256SUMS'), 'utf8')).trim().split('\n').map((l) => l.slice(66));
    expect(listed).toEqual(['records.jsonl', 'records.jsonl.lines', 'attempts.jsonl', 'attempts.jsonl.lines', 'cases.jsonl', 'cases.jsonl.lines', 'decisions.jsonl', 'decisions.jsonl.lines', 'rings.jsonl', 'rings.jsonl.lines', 'summary.json', 'drift.json', 'manifest.json']);
    for (const file of listed) expect(ok.out).toContain(`${file}: OK\n`);

    const editLine = async (dir: string) => {
      const lines = (await readFile(join(dir, 'records.jsonl'), 'utf8')).split('\n');
      lines[16] = lines[16]!.replace('"verdict":"genuine"', '"verdict":"deepfake"');
      await writeFile(join(dir, 'records.jsonl'), lines.join('\n'));
    };
    const edited = await run('offline-edited', editLine);
    expect(edited.code).not.toBe(0);
    expect(edited.out).toContain('records.jsonl: FAILED');
    // The same for a ring line: sha256sum names rings.jsonl.
    const ringEdited = await run('offline-ring', async (dir) => {
      const text = await readFile(join(dir, 'rings.jsonl'), 'utf8');
      await writeFile(join(dir, 'rings.jsonl'), text.replace(/"subjects":\["[^"]+",/, '"subjects":['));
    });
    expect(ringEdited.code).not.toBe(0);
    expect(ringEdited.out).toContain('rings.jsonl: FAILED');
    expect(ringEdited.out).toContain('records.jsonl: OK');
    // The edit and a SHA256SUMS rewritten to match it: the signature over SHA256SUMS fails first.
    const rewritten = await run('offline-rewritten', async (dir) => {
      await editLine(dir);
      const sums = await readFile(join(dir, 'SHA256SUMS'), 'utf8');
      const fresh = createHash('sha256').update(await readFile(join(dir, 'records.jsonl'))).digest('hex');
      await writeFile(join(dir, 'SHA256SUMS'), sums.replace(/^[0-9a-f]{64}(?= {2}records\.jsonl$)/m, fresh));
    });
    expect(rewritten.code).not.toBe(0);
    expect(rewritten.out).toContain('Signature Verification Failure');
    expect(rewritten.out).not.toContain('Signature Verified Successfully');
    // rescreen verify checks SHA256SUMS too.
    const verified = await runCli(['verify', join(h.dir, 'offline-rewritten', 'audit', 'night-2'), '--public-key', pub()], h.env);
    expect(verified.stdout).toBe('ALTERED: records.jsonl line 17: line 17 was altered\n');
    const sumsOnly = await copy('sums-only');
    await writeFile(join(sumsOnly, 'SHA256SUMS'), (await readFile(join(sumsOnly, 'SHA256SUMS'), 'utf8')).replace(/^[0-9a-f]/, (c) => (c === '0' ? '1' : '0')));
    expect((await runCli(['verify', sumsOnly, '--public-key', pub()], h.env)).stdout).toBe('ALTERED: SHA256SUMS: altered: it does not list the files as the signed manifest does\n');
  });

  it('refuses, in one line, what it cannot use', async () => {
    const noKey = await runCli(['export', 'audit-1', '--out', join(h.dir, 'nokey')], h.env);
    expect(noKey.code).toBe(2);
    expect(noKey.stderr).toMatch(/^rescreen: no signing key: set RESCREEN_SIGNING_KEY .* or pass --unsigned\n$/);
    const notEmpty = await runCli(['export', 'audit-1', '--out', bundle], env);
    expect(notEmpty.code).toBe(2);
    expect(notEmpty.stderr).toContain('is not empty');
    await writeFile(join(h.dir, 'garbage.pem'), 'not a key');
    const badKey = await runCli(['export', 'audit-1', '--out', join(h.dir, 'x')], { ...h.env, RESCREEN_SIGNING_KEY: join(h.dir, 'garbage.pem') });
    expect(badKey.code).toBe(2);
    expect(badKey.stderr).toBe(`rescreen: RESCREEN_SIGNING_KEY ${join(h.dir, 'garbage.pem')}: it is not a PEM private key\n`);
    const unknown = await runCli(['export', 'no-such-batch', '--out', join(h.dir, 'y')], env);
    expect(unknown.code).toBe(1);
    const notExport = await runCli(['verify', h.dir, '--public-key', pub()], h.env);
    expect(notExport.stdout).toBe('ALTERED: manifest.json: missing: this is not a rescreen export folder\n');
    const keyTwice = await runCli(['keygen', '--out', join(h.dir, 'signing.pem')], h.env);
    expect(keyTwice.code).toBe(2);
    expect(keyTwice.stderr).toBe(`rescreen: cannot write ${join(h.dir, 'signing.pem')}: it already exists\n`);
    // A missing folder is named as the problem, not the file that was never there.
    const noFolder = await runCli(['keygen', '--out', join(h.dir, 'no-such-folder', 'k.pem')], h.env);
    expect(noFolder.code).toBe(2);
    expect(noFolder.stderr).toBe(`rescreen: cannot write ${join(h.dir, 'no-such-folder', 'k.pem')}: the folder ${join(h.dir, 'no-such-folder')} does not exist (create it first)\n`);
    await rm(join(h.dir, 'x'), { recursive: true, force: true });
  });
});
