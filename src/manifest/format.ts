import { open } from 'node:fs/promises';
import { extname } from 'node:path';

/** Manifest formats: JSON Lines (one JSON object per line) or CSV with a header row. */
export type ManifestFormat = 'jsonl' | 'csv';

/** The format a file name implies: `.jsonl` / `.ndjson` / `.json` → JSONL, `.csv` → CSV, else `null`. */
export function formatFromPath(path: string): ManifestFormat | null {
  switch (extname(path).toLowerCase()) {
    case '.jsonl':
    case '.ndjson':
    case '.json':
      return 'jsonl';
    case '.csv':
      return 'csv';
    default:
      return null;
  }
}

/**
 * Guesses the format of a file whose name says nothing: JSONL when the first character that is not
 * whitespace (or a BOM) is `{`, CSV otherwise. Reads at most the first 64 KiB.
 */
export async function sniffFormat(path: string): Promise<ManifestFormat> {
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(64 * 1024);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    const head = buffer.subarray(0, bytesRead).toString('utf8').replace(/^\uFEFF/, '').trimStart();
    return head.startsWith('{') ? 'jsonl' : 'csv';
  } finally {
    await handle.close();
  }
}
