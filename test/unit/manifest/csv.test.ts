import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { NewlineNormaliser, innerNewlines } from '../../../src/manifest/csv.js';
import { readManifest, type RawLine } from '../../../src/manifest/reader.js';

async function normalise(chunks: string[]): Promise<string> {
  const out: Buffer[] = [];
  for await (const chunk of Readable.from(chunks.map((c) => Buffer.from(c))).pipe(new NewlineNormaliser())) {
    out.push(chunk as Buffer);
  }
  return Buffer.concat(out).toString('utf8');
}

describe('NewlineNormaliser', () => {
  it('turns CRLF and lone CR into LF, also across chunk boundaries', async () => {
    expect(await normalise(['a\r', '\nb\r', 'c\r\n', 'd\r'])).toBe('a\nb\nc\nd\n');
    expect(await normalise(['no carriage returns\n'])).toBe('no carriage returns\n');
    expect(await normalise(['é\r\nü'])).toBe('é\nü');
  });
});

describe('innerNewlines', () => {
  it('ignores blank lines in front of the record and the delimiter that ends it', () => {
    expect(innerNewlines('a,1\n')).toBe(0);
    expect(innerNewlines('\n  \n"a\nb",1\n')).toBe(1);
    expect(innerNewlines('"a\n\nb",1')).toBe(2);
  });
});

describe('readCsv on a large file with scattered bad records', () => {
  it('reports every record and every error in line order', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rescreen-csv-'));
    try {
      const rows = ['ref,check,subject'];
      for (let i = 2; i <= 20_001; i++) rows.push(i % 997 === 0 ? `bad"quote${i},x,s` : `m/${i}.jpg,ooto-deepfake,s${i}`);
      const path = join(dir, 'big.csv');
      await writeFile(path, rows.join('\n'));
      const seen: RawLine[] = [];
      for await (const raw of readManifest(path)) seen.push(raw);
      expect(seen).toHaveLength(20_000);
      expect(seen.map((r) => r.line)).toEqual(Array.from({ length: 20_000 }, (_, i) => i + 2));
      for (const raw of seen) {
        if (raw.line % 997 === 0) expect(raw.error).toMatch(/^CSV: /);
        else expect(raw.value).toEqual({ ref: `m/${raw.line}.jpg`, check: 'ooto-deepfake', subject: `s${raw.line}` });
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
