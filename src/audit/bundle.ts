/**
 * Evidence an auditor accepts: an export folder whose `manifest.json` lists every file with its size
 * and sha256 and is signed with Ed25519 (node:crypto). Each JSONL file has a companion `.lines` file
 * (the sha256 of each of its lines), so `verify` can name the first altered line, not only the file.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { hashFile, sha256Hex as sha256 } from '../media/digest.js';
import { CHECKSUMS_FILE, CHECKSUMS_SIGNATURE_FILE, checkChecksums, checksumsText, writeChecksums } from './checksums.js';

export const BUNDLE_FORMAT = 'rescreen-export/1';
export const MANIFEST_FILE = 'manifest.json';
export const SIGNATURE_FILE = 'manifest.sig';

/** One file of the bundle, as the signed manifest lists it. */
export interface BundleFile {
  readonly name: string;
  readonly bytes: number;
  readonly sha256: string;
  /** Lines, for JSONL files and their `.lines` companions. */
  readonly lines?: number;
  /** For a JSONL file: its companion listing each line's sha256. */
  readonly lineHashes?: string;
}

/** The signed manifest. */
export interface BundleManifest {
  readonly format: typeof BUNDLE_FORMAT;
  readonly batch: string;
  readonly rescreenVersion: string;
  readonly exportedAt: string;
  /** Settings that shaped the verdicts (thresholds, vendors' base URLs; never a secret). */
  readonly settings: Readonly<Record<string, unknown>>;
  readonly counts: Readonly<Record<string, unknown>>;
  readonly files: readonly BundleFile[];
  /** sha256 of the public key (SPKI DER) that verifies the signature; null for an unsigned bundle. */
  readonly publicKeySha256: string | null;
}

/** What goes into a bundle: JSONL streams and JSON documents. */
export interface BundleContent {
  readonly jsonl: readonly { readonly name: string; readonly rows: AsyncIterable<unknown> }[];
  readonly json: readonly { readonly name: string; readonly value: unknown }[];
}

/** Writes the bundle into `dir` (which must exist and be empty). `key` null: unsigned. */
export async function writeBundle(
  dir: string,
  content: BundleContent,
  header: Omit<BundleManifest, 'format' | 'files' | 'publicKeySha256'>,
  key: KeyObject | null,
): Promise<BundleManifest> {
  const files: BundleFile[] = [];
  for (const { name, rows } of content.jsonl) {
    const companion = `${name}.lines`;
    const out = createWriteStream(join(dir, name), { flags: 'wx' });
    const hashes = createWriteStream(join(dir, companion), { flags: 'wx' });
    const whole = createHash('sha256');
    const wholeHashes = createHash('sha256');
    let bytes = 0;
    let hashBytes = 0;
    let lines = 0;
    for await (const row of rows) {
      const text = `${JSON.stringify(row)}\n`;
      const lineHash = `${sha256(text.slice(0, -1))}\n`;
      whole.update(text);
      wholeHashes.update(lineHash);
      bytes += Buffer.byteLength(text);
      hashBytes += lineHash.length;
      lines++;
      const a = out.write(text);
      const b = hashes.write(lineHash);
      if (!a) await once(out, 'drain');
      if (!b) await once(hashes, 'drain');
    }
    await Promise.all([end(out), end(hashes)]);
    files.push({ name, bytes, sha256: whole.digest('hex'), lines, lineHashes: companion });
    files.push({ name: companion, bytes: hashBytes, sha256: wholeHashes.digest('hex'), lines });
  }
  for (const { name, value } of content.json) {
    const text = `${JSON.stringify(value, null, 2)}\n`;
    await writeFile(join(dir, name), text, { flag: 'wx' });
    files.push({ name, bytes: Buffer.byteLength(text), sha256: sha256(text) });
  }
  const manifest: BundleManifest = { format: BUNDLE_FORMAT, ...header, files, publicKeySha256: key ? keyFingerprint(createPublicKey(key)) : null };
  const text = `${JSON.stringify(manifest, null, 2)}\n`;
  await writeFile(join(dir, MANIFEST_FILE), text, { flag: 'wx' });
  if (key) await writeFile(join(dir, SIGNATURE_FILE), `${sign(null, Buffer.from(text), key).toString('base64')}\n`, { flag: 'wx' });
  // For auditors without rescreen: sha256sum -c and openssl pkeyutl -verify read these directly.
  await writeChecksums(dir, checksumsText(files, sha256(text)), key);
  return manifest;
}

/** What `verify` found. */
export type Verification =
  | { readonly ok: true; readonly manifest: BundleManifest }
  | { readonly ok: false; readonly file: string; readonly line?: number; readonly problem: string };

/** Checks the signature, then every listed file, then that nothing unlisted was added. Never throws on a damaged bundle. */
export async function verifyBundle(dir: string, publicKey: KeyObject): Promise<Verification> {
  let text: Buffer;
  try {
    text = await readFile(join(dir, MANIFEST_FILE));
  } catch {
    return { ok: false, file: MANIFEST_FILE, problem: 'missing: this is not a rescreen export folder' };
  }
  let signature: Buffer;
  try {
    signature = Buffer.from((await readFile(join(dir, SIGNATURE_FILE), 'utf8')).trim(), 'base64');
  } catch {
    return { ok: false, file: SIGNATURE_FILE, problem: 'missing: the export is not signed' };
  }
  if (!verify(null, text, publicKey, signature)) {
    return { ok: false, file: MANIFEST_FILE, problem: 'the signature does not match: the manifest was altered, or signed with another key' };
  }
  const manifest = JSON.parse(text.toString('utf8')) as BundleManifest;
  const byName = new Map(manifest.files.map((f) => [f.name, f]));
  for (const file of manifest.files) {
    const found = await digestFile(join(dir, file.name));
    if (found === null) return { ok: false, file: file.name, problem: 'missing' };
    if (found.sha256 === file.sha256 && found.bytes === file.bytes) continue;
    const companion = file.lineHashes === undefined ? undefined : byName.get(file.lineHashes);
    if (companion !== undefined) {
      const ok = await digestFile(join(dir, companion.name));
      if (ok !== null && ok.sha256 === companion.sha256) return firstAlteredLine(dir, file, companion);
    }
    return { ok: false, file: file.name, problem: `altered (sha256 ${found.sha256.slice(0, 12)}…, signed ${file.sha256.slice(0, 12)}…)` };
  }
  const sums = await checkChecksums(dir, checksumsText(manifest.files, sha256(text)), publicKey);
  if (sums !== null) return { ok: false, ...sums };
  const listed = new Set([...byName.keys(), MANIFEST_FILE, SIGNATURE_FILE, CHECKSUMS_FILE, CHECKSUMS_SIGNATURE_FILE]);
  for (const name of (await readdir(dir)).sort()) {
    if (!listed.has(name)) return { ok: false, file: name, problem: 'added: not listed in the signed manifest' };
  }
  return { ok: true, manifest };
}

/** A new Ed25519 key pair, as PEM (PKCS#8 private, SPKI public). */
export function generateSigningKeys(): { privateKey: string; publicKey: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return {
    privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKey: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

/** Reads an Ed25519 private key; `{error}` with the reason when the PEM is not one. */
export function readPrivateKey(pem: string): KeyObject | { error: string } {
  return readEd25519(() => createPrivateKey(pem), 'private');
}

/** Reads an Ed25519 public key (or the public half of a private key's PEM). */
export function readPublicKey(pem: string): KeyObject | { error: string } {
  return readEd25519(() => createPublicKey(pem), 'public');
}

function readEd25519(read: () => KeyObject, kind: 'private' | 'public'): KeyObject | { error: string } {
  try {
    const key = read();
    return key.asymmetricKeyType === 'ed25519' ? key : { error: `it is an ${key.asymmetricKeyType ?? 'unknown'} key, not Ed25519` };
  } catch {
    return { error: `it is not a PEM ${kind} key` };
  }
}

/** sha256 (hex) of the key's SPKI DER: what the manifest names the signer by. */
export function keyFingerprint(publicKey: KeyObject): string {
  return createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('hex');
}

async function firstAlteredLine(dir: string, file: BundleFile, companion: BundleFile): Promise<Verification> {
  const expected = lines(join(dir, companion.name))[Symbol.asyncIterator]();
  let n = 0;
  for await (const line of lines(join(dir, file.name))) {
    n++;
    const want = await expected.next();
    if (want.done === true) return { ok: false, file: file.name, line: n, problem: `line ${n} was added (the signed file has ${file.lines ?? n - 1} lines)` };
    if (sha256(line) !== want.value) return { ok: false, file: file.name, line: n, problem: `line ${n} was altered` };
  }
  const more = await expected.next();
  if (more.done !== true) return { ok: false, file: file.name, line: n + 1, problem: `ends after line ${n}; the signed file has ${file.lines ?? '?'} lines` };
  // Same lines, other bytes: line endings or a final newline changed.
  return { ok: false, file: file.name, problem: 'altered (line endings or the final newline)' };
}

function lines(path: string): AsyncIterable<string> {
  return createInterface({ input: createReadStream(path), crlfDelay: Infinity });
}

async function digestFile(path: string): Promise<{ sha256: string; bytes: number } | null> {
  try {
    if (!(await stat(path)).isFile()) return null;
  } catch {
    return null;
  }
  return hashFile(path);
}

async function end(stream: NodeJS.WritableStream): Promise<void> {
  stream.end();
  await once(stream, 'finish');
}
