/**
 * The export's `SHA256SUMS` (in `sha256sum`'s own format) and its Ed25519 signature `SHA256SUMS.sig`:
 * what lets an auditor check an export with openssl and coreutils alone, without rescreen. The file
 * lists every file of the manifest and `manifest.json` itself, so its signature covers the whole
 * export; `manifest.json` cannot list it back (each would hold the other's hash).
 */
import { sign, verify, type KeyObject } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export const CHECKSUMS_FILE = 'SHA256SUMS';
export const CHECKSUMS_SIGNATURE_FILE = 'SHA256SUMS.sig';

/** `<sha256>  <name>` per file (sha256sum's text-mode line), the manifest's files then the manifest. */
export function checksumsText(files: readonly { readonly name: string; readonly sha256: string }[], manifestSha256: string): string {
  return [...files, { name: 'manifest.json', sha256: manifestSha256 }].map((f) => `${f.sha256}  ${f.name}\n`).join('');
}

/** Writes `SHA256SUMS`, and its signature (base64, like `manifest.sig`) when `key` is given. */
export async function writeChecksums(dir: string, text: string, key: KeyObject | null): Promise<void> {
  await writeFile(join(dir, CHECKSUMS_FILE), text, { flag: 'wx' });
  if (key) await writeFile(join(dir, CHECKSUMS_SIGNATURE_FILE), `${sign(null, Buffer.from(text), key).toString('base64')}\n`, { flag: 'wx' });
}

/**
 * Checks `SHA256SUMS` against what the (already verified) manifest says it must hold, and its
 * signature. An export written before these files existed has neither: nothing to check (null).
 * @returns null when fine, else the file and the problem.
 */
export async function checkChecksums(dir: string, expected: string, publicKey: KeyObject): Promise<{ file: string; problem: string } | null> {
  const sums = await readOptional(join(dir, CHECKSUMS_FILE));
  const signature = await readOptional(join(dir, CHECKSUMS_SIGNATURE_FILE));
  if (sums === null && signature === null) return null;
  if (sums === null) return { file: CHECKSUMS_FILE, problem: 'missing (its signature is there)' };
  if (sums.toString('utf8') !== expected) return { file: CHECKSUMS_FILE, problem: 'altered: it does not list the files as the signed manifest does' };
  if (signature === null) return { file: CHECKSUMS_SIGNATURE_FILE, problem: 'missing: SHA256SUMS is not signed' };
  if (!verify(null, sums, publicKey, Buffer.from(signature.toString('utf8').trim(), 'base64'))) {
    return { file: CHECKSUMS_SIGNATURE_FILE, problem: 'the signature does not match SHA256SUMS' };
  }
  return null;
}

async function readOptional(path: string): Promise<Buffer | null> {
  try {
    return await readFile(path);
  } catch {
    return null;
  }
}
