/**
 * Exports for audit: a batch's records, summary and change counts in a folder whose manifest is
 * signed with Ed25519, and the check of such a folder (README: Exports for audit).
 */
import { createReadStream } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { generateSigningKeys, keyFingerprint, readPrivateKey, readPublicKey, verifyBundle, writeBundle, type BundleManifest, type Verification } from '../audit/bundle.js';
import { driftReport } from '../drift/report.js';
import { InvalidInputError } from '../errors/errors.js';
import { finishedBatchChanges } from '../history/change-counts.js';
import type { Runtime } from '../runtime/runtime.js';
import type { RunSettings } from '../store/types.js';
import { batchSummary, isFinished } from './batches.js';
import { describeFsError, describeWriteError } from './fs-words.js';
import { batchSubjectRings, linkBatchRings } from './rings.js';
import { packageVersion } from './version.js';

export type { BundleManifest, Verification } from '../audit/bundle.js';

export interface ExportResult {
  readonly dir: string;
  readonly manifest: BundleManifest;
  readonly signed: boolean;
}

/**
 * Writes the batch's export into `out` (created; it must not exist or be empty), atomically: the
 * files go to a temporary sibling folder renamed into place when complete.
 * @throws NotFoundError for an unknown batch; InvalidInputError for an unusable key or folder.
 */
export async function exportBatch(runtime: Runtime, batch: string, out: string, options: { unsigned?: boolean } = {}): Promise<ExportResult> {
  const summary = await batchSummary(runtime, batch);
  const key = options.unsigned === true ? null : await signingKey(runtime.config.signingKeyPath);
  const dir = resolve(out);
  await mustBeFree(dir);
  const temp = join(dirname(dir), `.${basename(dir)}.${process.pid}.${Date.now()}.partial`);
  try {
    await mkdir(temp, { recursive: true });
    const changes = isFinished(summary) ? ((await finishedBatchChanges(runtime.redis, runtime.config.prefix, runtime.store, runtime.checks, summary)) ?? null) : null;
    // What the batch's calls were answered with, as the workers that made them recorded it: never
    // this (exporting) process's configuration, which may point elsewhere.
    const answeredBy = await runtime.store.runSettings(batch);
    // rings.jsonl: a finished batch is linked into the rings first (what its review scan does; idempotent,
    // no vendor call), so the file does not depend on whether that scan has run yet.
    if (isFinished(summary)) await linkBatchRings(runtime, batch);
    const manifest = await writeBundle(
      temp,
      {
        jsonl: [
          { name: 'records.jsonl', rows: runtime.store.stream(batch) },
          // Every answered vendor call, earlier attempts of retried lines included.
          { name: 'attempts.jsonl', rows: runtime.store.streamAttempts(batch) },
          // The batch's review cases and every decision on them (append-only: superseded ones too).
          { name: 'cases.jsonl', rows: runtime.cases.streamCases(batch) },
          { name: 'decisions.jsonl', rows: runtime.cases.streamDecisions(batch) },
          // Every fraud ring one of the batch's subjects is in, whole (subjects, links), oldest first.
          { name: 'rings.jsonl', rows: batchSubjectRings(runtime, batch) },
        ],
        // drift.json: the full drift report (histograms, PSI/KS, canary table) of a finished batch; null before.
        json: [
          { name: 'summary.json', value: { summary, changes } },
          { name: 'drift.json', value: isFinished(summary) ? await driftReport(runtime.store, batch) : null },
        ],
      },
      {
        batch,
        rescreenVersion: packageVersion(),
        exportedAt: new Date().toISOString(),
        settings: { answeredBy, simulator: answeredBy.some((s) => s.simulator) },
        counts: { total: summary.total, recorded: summary.recorded, byStatus: summary.byStatus, byVerdict: summary.byVerdict, finished: isFinished(summary) },
      },
      key,
    );
    await rm(dir, { recursive: true, force: true });
    await rename(temp, dir);
    return { dir, manifest, signed: key !== null };
  } catch (error) {
    await rm(temp, { recursive: true, force: true });
    if (error instanceof InvalidInputError) throw error;
    throw new InvalidInputError(`cannot write the export to ${out}: ${await describeWriteError(dir, error)}`);
  }
}

/** Who answered: the part of a run-settings entry the words below need. */
type Answerer = Pick<RunSettings, 'vendor' | 'baseUrl' | 'simulator'>;

/**
 * Who answered a batch's calls, in words (`status`, `verify`): `answered by the rescreen simulator at
 * http://127.0.0.1:4010 (ooto), not by a vendor` or `answered by https://api.ooto.ai (ooto)`;
 * undefined when no call was answered (or an export predates the record).
 */
export function describeAnsweredBy(entries: readonly Answerer[]): string | undefined {
  const byPlace = new Map<string, { simulator: boolean; baseUrl: string; vendors: Set<string> }>();
  for (const e of entries) {
    const key = `${e.simulator}\n${e.baseUrl}`;
    const place = byPlace.get(key) ?? { simulator: e.simulator, baseUrl: e.baseUrl, vendors: new Set<string>() };
    place.vendors.add(e.vendor);
    byPlace.set(key, place);
  }
  if (byPlace.size === 0) return undefined;
  const places = [...byPlace.values()].map((p) => `${p.simulator ? 'the rescreen simulator at ' : ''}${p.baseUrl} (${[...p.vendors].join(', ')})`);
  const simulated = entries.some((e) => e.simulator);
  const real = entries.some((e) => !e.simulator);
  return `answered by ${places.join(' and ')}${simulated ? (real ? ': partly simulated answers' : ', not by a vendor') : ''}`;
}

/** The run settings a manifest's `settings.answeredBy` lists (what `export` wrote); empty for an older export. */
export function manifestAnsweredBy(manifest: BundleManifest): Answerer[] {
  const list = manifest.settings.answeredBy;
  if (!Array.isArray(list)) return [];
  return list.filter(
    (e): e is Answerer =>
      typeof e === 'object' && e !== null && typeof (e as Answerer).vendor === 'string' && typeof (e as Answerer).baseUrl === 'string' && typeof (e as Answerer).simulator === 'boolean',
  );
}

/** What `verify` found; an altered line of `cases.jsonl` or `decisions.jsonl` also names its case (and decision), one of `rings.jsonl` its ring. */
export type ExportVerification = Verification | (Extract<Verification, { ok: false }> & { readonly names?: string });

/** Checks an export folder against the public key (PEM file). @throws InvalidInputError for an unreadable key. */
export async function verifyExport(dir: string, publicKeyPath: string): Promise<ExportVerification> {
  const key = readPublicKey(await readKeyFile(publicKeyPath, '--public-key'));
  if ('error' in key) throw new InvalidInputError(`--public-key ${publicKeyPath}: ${key.error}`);
  const result = await verifyBundle(resolve(dir), key);
  if (result.ok || result.line === undefined || !['cases.jsonl', 'decisions.jsonl', 'rings.jsonl'].includes(result.file)) return result;
  const names = await nameCaseLine(join(resolve(dir), result.file), result.line);
  return names === undefined ? result : { ...result, names };
}

/**
 * `case c…, decision c…#2 by ann` for a line of `decisions.jsonl`, `case c… (subject …)` for one of
 * `cases.jsonl`: read from the line as it is now (the signed file holds only its hash), so an auditor
 * knows which decision to look at; undefined when the line is no longer such a JSON object.
 */
async function nameCaseLine(path: string, line: number): Promise<string | undefined> {
  const text = await lineOf(path, line);
  let row: Record<string, unknown>;
  try {
    row = JSON.parse(text ?? '') as Record<string, unknown>;
  } catch {
    return undefined;
  }
  if (typeof row !== 'object' || row === null) return undefined;
  const str = (v: unknown) => (typeof v === 'string' && v.length <= 200 ? v : undefined);
  if (str(row.caseId) !== undefined && str(row.id) !== undefined) return `case ${str(row.caseId)}, decision ${str(row.id)}${str(row.reviewer) !== undefined ? ` by ${str(row.reviewer)}` : ''}`;
  if (str(row.id) !== undefined && str(row.batch) !== undefined) return `case ${str(row.id)}`;
  if (str(row.id) !== undefined && /^r[0-9a-f]{16}$/.test(str(row.id)!) && Array.isArray(row.subjects)) return `ring ${str(row.id)}`;
  return undefined;
}

async function lineOf(path: string, line: number): Promise<string | undefined> {
  let n = 0;
  for await (const text of createInterface({ input: createReadStream(path), crlfDelay: Infinity })) {
    if (++n === line) return text;
  }
  return undefined;
}

/** Writes a new key pair: `<out>` (private, mode 0600) and `<out>.pub` (public). @throws InvalidInputError if either exists. */
export async function makeSigningKeys(out: string): Promise<{ privateKey: string; publicKey: string; fingerprint: string }> {
  const keys = generateSigningKeys();
  const publicPath = `${out}.pub`;
  try {
    await writeFile(out, keys.privateKey, { flag: 'wx', mode: 0o600 });
  } catch (error) {
    throw new InvalidInputError(`cannot write ${out}: ${await describeWriteError(out, error)}`);
  }
  try {
    await writeFile(publicPath, keys.publicKey, { flag: 'wx' });
  } catch (error) {
    await rm(out, { force: true });
    throw new InvalidInputError(`cannot write ${publicPath}: ${await describeWriteError(publicPath, error)}`);
  }
  const pub = readPublicKey(keys.publicKey);
  return { privateKey: out, publicKey: publicPath, fingerprint: 'error' in pub ? '' : keyFingerprint(pub) };
}

async function signingKey(path: string | undefined) {
  if (path === undefined) {
    throw new InvalidInputError('no signing key: set RESCREEN_SIGNING_KEY to an Ed25519 private key (PEM; `rescreen keygen` makes one), or pass --unsigned');
  }
  const key = readPrivateKey(await readKeyFile(path, 'RESCREEN_SIGNING_KEY'));
  // The path is named, never the key's content.
  if ('error' in key) throw new InvalidInputError(`RESCREEN_SIGNING_KEY ${path}: ${key.error}`);
  return key;
}

async function readKeyFile(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    throw new InvalidInputError(`${what} ${path}: ${describeFsError(error)}`);
  }
}

async function mustBeFree(dir: string): Promise<void> {
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw new InvalidInputError(`--out ${dir}: ${describeFsError(error)}`);
  }
  if (entries.length > 0) throw new InvalidInputError(`--out ${dir} is not empty: name a new folder`);
}
