import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUILT_INS } from '../../../src/runtime/built-ins.js';
import { ManifestUnreadableError } from '../../../src/manifest/errors.js';
import { readManifest, type RawLine } from '../../../src/manifest/reader.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rescreen-reader-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function file(name: string, content: string | Buffer): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, content);
  return path;
}

async function read(path: string, format?: 'jsonl' | 'csv'): Promise<RawLine[]> {
  const out: RawLine[] = [];
  for await (const raw of readManifest(path, { checks: BUILT_INS.checks, ...(format === undefined ? {} : { format }) })) out.push(raw);
  return out;
}

describe('readManifest: JSONL', () => {
  it('yields one object per line with its 1-based physical line, skipping blank lines', async () => {
    const path = await file(
      'basic.jsonl',
      '{"ref":"a.jpg","check":"ooto-deepfake"}\n\n   \t\n{"ref":"b.jpg"}\r\n{"frames":["x","y"]}',
    );
    expect(await read(path)).toEqual([
      { line: 1, value: { ref: 'a.jpg', check: 'ooto-deepfake' } },
      { line: 4, value: { ref: 'b.jpg' } },
      { line: 5, value: { frames: ['x', 'y'] } },
    ]);
  });

  it('ignores a UTF-8 BOM', async () => {
    const path = await file('bom.jsonl', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"ref":"a.jpg"}\n')]));
    expect(await read(path)).toEqual([{ line: 1, value: { ref: 'a.jpg' } }]);
  });

  it('turns garbage lines into errors for those lines and keeps reading', async () => {
    const path = await file('garbage.jsonl', '{"ref":"a"}\nnot json\n[1,2]\n42\nnull\n"str"\n{"ref":"b"\n{"ref":"c"}\n');
    const lines = await read(path);
    expect(lines.map((l) => l.line)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(lines[0]).toEqual({ line: 1, value: { ref: 'a' } });
    expect(lines[1]!.value).toBeNull();
    expect(lines[1]!.error).toMatch(/^the line is not valid JSON/);
    expect(lines[2]!.error).toBe('the line must be a JSON object, got an array');
    expect(lines[3]!.error).toBe('the line must be a JSON object, got a number');
    expect(lines[4]!.error).toBe('the line must be a JSON object, got null');
    expect(lines[5]!.error).toBe('the line must be a JSON object, got a string');
    expect(lines[6]!.error).toMatch(/not valid JSON/);
    expect(lines[7]).toEqual({ line: 8, value: { ref: 'c' } });
  });

  it('reads .ndjson and .json as JSONL, sniffs unknown extensions, and honours a format override', async () => {
    const body = '{"ref":"a"}\n';
    expect(await read(await file('m.ndjson', body))).toHaveLength(1);
    expect(await read(await file('m.json', body))).toHaveLength(1);
    expect(await read(await file('m.txt', `\n  ${body}`))).toEqual([{ line: 2, value: { ref: 'a' } }]);
    expect(await read(await file('m2.txt', 'ref,check\na.jpg,glair-video\n'))).toEqual([
      { line: 2, value: { ref: 'a.jpg', check: 'glair-video' } },
    ]);
    expect(await read(await file('really-jsonl.csv', body), 'jsonl')).toEqual([{ line: 1, value: { ref: 'a' } }]);
  });

  it('an empty file has no records', async () => {
    expect(await read(await file('empty.jsonl', ''))).toEqual([]);
    expect(await read(await file('empty.csv', ''))).toEqual([]);
  });
});

describe('readManifest: unreadable manifests', () => {
  it('a missing file throws ManifestUnreadableError saying so', async () => {
    const error: unknown = await read(join(dir, 'nope.jsonl')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ManifestUnreadableError);
    expect((error as Error).message).toMatch(/does not exist/);
    expect((error as ManifestUnreadableError).code).toBe('MANIFEST_UNREADABLE');
  });

  it('a folder is read as a folder of media, whatever its name (see folder.test.ts)', async () => {
    const folder = join(dir, 'a-folder.jsonl');
    await mkdir(folder);
    await writeFile(join(folder, 'notes.txt'), 'not media');
    expect(await read(folder)).toEqual([]);
  });

  it.skipIf(process.getuid?.() === 0)('a file without read permission throws ManifestUnreadableError', async () => {
    const path = await file('secret.jsonl', '{"ref":"a"}\n');
    await chmod(path, 0o000);
    const error: unknown = await read(path).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ManifestUnreadableError);
    expect((error as Error).message).toMatch(/no permission/);
  });
});

describe('readManifest: CSV', () => {
  it('treats row 1 as the header, numbers lines physically, maps frames, options and flags', async () => {
    const path = await file(
      'basic.csv',
      [
        'ref,frames,check,subject,options,checkLiveness,checkDeepfake',
        'a.jpg,,ooto-deepfake,cust-1,,,',
        '',
        ',f/1.jpg| f/2.jpg |f/3.jpg,glair-frames,cust-2,,,',
        'b.png,,ooto-identify,cust-3,"{""checkLiveness"":false}",,TRUE',
        'c.png,,ooto-identify,,,false,',
        '   ',
        'v.mp4,,glair-video,42,,,',
      ].join('\n'),
    );
    expect(await read(path)).toEqual([
      { line: 2, value: { ref: 'a.jpg', check: 'ooto-deepfake', subject: 'cust-1' } },
      { line: 4, value: { frames: ['f/1.jpg', 'f/2.jpg', 'f/3.jpg'], check: 'glair-frames', subject: 'cust-2' } },
      {
        line: 5,
        value: { ref: 'b.png', check: 'ooto-identify', subject: 'cust-3', options: { checkLiveness: false, checkDeepfake: true } },
      },
      { line: 6, value: { ref: 'c.png', check: 'ooto-identify', options: { checkLiveness: false } } },
      { line: 8, value: { ref: 'v.mp4', check: 'glair-video', subject: '42' } },
    ]);
  });

  it('handles a BOM, CRLF, header names in any case, and fewer cells than columns', async () => {
    const path = await file('bom.csv', '\uFEFFRef,Check,SUBJECT\r\na.jpg,ooto-deepfake\r\nb.jpg,glair-video,s2\r\n');
    expect(await read(path)).toEqual([
      { line: 2, value: { ref: 'a.jpg', check: 'ooto-deepfake' } },
      { line: 3, value: { ref: 'b.jpg', check: 'glair-video', subject: 's2' } },
    ]);
  });

  it('gives a record spanning lines the line where it starts (LF, CRLF, lone CR)', async () => {
    const lf = await file('multi.csv', 'ref,subject\n\n"a\nb.jpg",s1\n  \nc.jpg,s2\n');
    expect(await read(lf)).toEqual([
      { line: 3, value: { ref: 'a\nb.jpg', subject: 's1' } },
      { line: 6, value: { ref: 'c.jpg', subject: 's2' } },
    ]);
    const crlf = await file('multi-crlf.csv', 'ref,subject\r\n"a\r\nb.jpg",s1\r\n\r\n  \r\nc.jpg,s2\r\n"d\r\n\r\ne",s3');
    expect(await read(crlf)).toEqual([
      { line: 2, value: { ref: 'a\nb.jpg', subject: 's1' } },
      { line: 6, value: { ref: 'c.jpg', subject: 's2' } },
      { line: 7, value: { ref: 'd\n\ne', subject: 's3' } },
    ]);
    const cr = await file('multi-cr.csv', 'ref,subject\ra.jpg,s1\r\rb.jpg,s2\r');
    expect(await read(cr)).toEqual([
      { line: 2, value: { ref: 'a.jpg', subject: 's1' } },
      { line: 4, value: { ref: 'b.jpg', subject: 's2' } },
    ]);
  });

  it('turns a badly quoted record into an error for its line and keeps reading', async () => {
    const path = await file('badquote.csv', 'ref,check\na.jpg,x\nb"c.jpg,x\n"d.jpg"e,x\nf.jpg,y\n');
    const lines = await read(path);
    expect(lines[0]).toEqual({ line: 2, value: { ref: 'a.jpg', check: 'x' } });
    expect(lines[1]).toMatchObject({ line: 3, value: null });
    expect(lines[1]!.error).toMatch(/^CSV: Invalid Opening Quote/);
    expect(lines[2]).toMatchObject({ line: 4, value: null });
    expect(lines[2]!.error).toMatch(/^CSV: /);
  });

  it('an unclosed quote becomes one error naming the lines that could not be read', async () => {
    const path = await file('unclosed.csv', 'ref,check\na.jpg,x\n"b.jpg,x\nc.jpg,x\nd.jpg,x\n');
    const lines = await read(path);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toEqual({ line: 2, value: { ref: 'a.jpg', check: 'x' } });
    expect(lines[1]).toEqual({ line: 3, value: null, error: expect.stringMatching(/never closed, so lines 3–5 could not be read/) });
  });

  it('more cells than header columns is an error for that line', async () => {
    const path = await file('extra.csv', 'ref,check\na.jpg,x,surprise\nb.jpg,y\n');
    const lines = await read(path);
    expect(lines[0]).toEqual({ line: 2, value: null, error: 'CSV: the row has 3 cells but the header has 2 columns' });
    expect(lines[1]).toEqual({ line: 3, value: { ref: 'b.jpg', check: 'y' } });
  });

  it('an options cell that is not a JSON object is an error naming the column', async () => {
    const path = await file('opts.csv', 'ref,check,options\na.jpg,ooto-identify,{nope\nb.jpg,ooto-identify,[1]\n');
    const lines = await read(path);
    expect(lines.map((l) => l.error)).toEqual([
      expect.stringMatching(/^the options column must hold a JSON object/),
      expect.stringMatching(/^the options column must hold a JSON object/),
    ]);
  });

  it('passes unknown columns through (validation names them) and ignores empty header cells', async () => {
    const path = await file('unknown.csv', 'ref,check,notes,\na.jpg,ooto-deepfake,,ignored\nb.jpg,ooto-deepfake,hello,\n');
    expect(await read(path)).toEqual([
      { line: 2, value: { ref: 'a.jpg', check: 'ooto-deepfake' } },
      { line: 3, value: { ref: 'b.jpg', check: 'ooto-deepfake', notes: 'hello' } },
    ]);
  });

  it('a repeated header column or a header naming no known column makes the file unreadable', async () => {
    const repeated = await read(await file('dup.csv', 'ref,REF\na,b\n')).catch((e: unknown) => e);
    expect(repeated).toBeInstanceOf(ManifestUnreadableError);
    expect((repeated as Error).message).toMatch(/repeats the column "ref"/);
    const headless = await read(await file('headless.csv', 'a.jpg,ooto-deepfake,cust-1\n')).catch((e: unknown) => e);
    expect(headless).toBeInstanceOf(ManifestUnreadableError);
    expect((headless as Error).message).toMatch(/header/);
  });
});
