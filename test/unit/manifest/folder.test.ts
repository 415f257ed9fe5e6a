import { mkdir, mkdtemp, realpath, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defaultBatchId } from '../../../src/app/batch-id.js';
import type { CheckName } from '../../../src/checks/registry.js';
import { readFolder as readFolderOf, refOf, subjectOf, walkFolder as walkFolderOf, type FolderOptions, type FolderSkip } from '../../../src/manifest/folder.js';
import { validateLine as validate, type ValidateLineOptions } from '../../../src/manifest/line.js';
import { BUILT_INS } from '../../../src/runtime/built-ins.js';

// Against the built-in checks (the registry the runtime passes).
const { checks } = BUILT_INS;
const readFolder = (root: string, options: Partial<FolderOptions> = {}) => readFolderOf(root, { checks, ...options });
const walkFolder = (root: string, options: Partial<FolderOptions> = {}) => walkFolderOf(root, { checks, ...options });
const validateLine = (raw: RawLine, options: Partial<ValidateLineOptions> = {}) => validate(raw, { checks, ...options });
import { readManifest, type RawLine } from '../../../src/manifest/reader.js';
import { sampleJpeg, sampleMp4, samplePng } from '../../../src/simulator/sample-media.js';

let base: string;
let root: string;
beforeEach(async () => {
  base = await realpath(await mkdtemp(join(tmpdir(), 'rescreen-folder-')));
  root = join(base, 'selfies');
  await mkdir(root);
});
afterEach(async () => {
  await rm(base, { recursive: true, force: true });
});

async function put(rel: string, bytes: Buffer | string): Promise<string> {
  const path = join(root, rel);
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, bytes);
  return path;
}

async function lines(options: { check?: CheckName } = {}): Promise<{ lines: RawLine[]; skips: FolderSkip[] }> {
  const skips: FolderSkip[] = [];
  const out: RawLine[] = [];
  for await (const line of readFolder(root, { ...options, onSkip: (s) => skips.push(s) })) out.push(line);
  return { lines: out, skips };
}

describe('walkFolder / readFolder', () => {
  it('walks depth-first, each folder sorted by name in byte order, and numbers the lines 1, 2, 3…', async () => {
    // Byte order: upper case before lower case, "a" before "a.jpg" before "a0", digits before letters.
    await put('b.jpg', sampleJpeg({ seed: 1 }));
    await put('a/z.png', samplePng({ seed: 2 }));
    await put('a/B/x.jpg', sampleJpeg({ seed: 3 }));
    await put('a.jpg', sampleJpeg({ seed: 4 }));
    await put('a0.jpg', sampleJpeg({ seed: 5 }));
    await put('Z.mp4', sampleMp4({ seed: 6 }));
    await put('10.jpg', sampleJpeg({ seed: 7 }));
    await put('2.jpg', sampleJpeg({ seed: 8 }));
    const { lines: got } = await lines();
    expect(got.map((l) => [l.line, l.value?.ref])).toEqual([
      [1, '10.jpg'],
      [2, '2.jpg'],
      [3, 'Z.mp4'],
      [4, 'a/B/x.jpg'],
      [5, 'a/z.png'],
      [6, 'a.jpg'],
      [7, 'a0.jpg'],
      [8, 'b.jpg'],
    ]);
    expect(got[3]).toEqual({ line: 4, value: { ref: 'a/B/x.jpg', subject: 'a/B/x', check: 'ooto-deepfake' } });
    expect(got[2]?.value).toEqual({ ref: 'Z.mp4', subject: 'Z', check: 'glair-video' });
  });

  it('takes media by content, not by extension, and reports what it skips', async () => {
    await put('photo.txt', sampleJpeg({ seed: 1 })); // a JPEG under a wrong name: taken
    await put('fake.jpg', 'not a jpeg at all'); // a text under a photo name: skipped
    await put('empty.png', '');
    await put('anim.gif', Buffer.from('GIF89a\x01\x00\x01\x00\x00\x00\x00;', 'latin1'));
    await put('notes/readme.md', '# hello');
    await put('clip.bin', sampleMp4({ seed: 2 }));
    const { lines: got, skips } = await lines();
    expect(got.map((l) => l.value)).toEqual([
      { ref: 'clip.bin', subject: 'clip', check: 'glair-video' },
      { ref: 'photo.txt', subject: 'photo', check: 'ooto-deepfake' },
    ]);
    expect(skips.map((s) => [s.path, s.reason]).sort()).toEqual(
      [
        ['anim.gif', 'not-media'],
        ['empty.png', 'not-media'],
        ['fake.jpg', 'not-media'],
        ['notes/readme.md', 'not-media'],
      ].sort(),
    );
  });

  it('--check sets every line and skips files of a type it does not take', async () => {
    await put('a.jpg', sampleJpeg({ seed: 1 }));
    await put('b.png', samplePng({ seed: 2 }));
    await put('c.mp4', sampleMp4({ seed: 3 }));
    const identify = await lines({ check: 'ooto-identify' });
    expect(identify.lines.map((l) => l.value)).toEqual([
      { ref: 'a.jpg', subject: 'a', check: 'ooto-identify' },
      { ref: 'b.png', subject: 'b', check: 'ooto-identify' },
    ]);
    expect(identify.skips).toEqual([{ path: 'c.mp4', reason: 'not-for-check' }]);

    const video = await lines({ check: 'glair-video' });
    expect(video.lines.map((l) => [l.line, l.value?.ref])).toEqual([[1, 'c.mp4']]);
    expect(video.skips.map((s) => s.reason)).toEqual(['not-for-check', 'not-for-check']);

    const frames = await lines({ check: 'glair-frames' });
    expect(frames.lines[0]?.value).toEqual({ frames: ['a.jpg'], subject: 'a', check: 'glair-frames' });
    for (const line of frames.lines) expect(validateLine(line).ok).toBe(true);
  });

  it('refuses a link that leaves the folder, naming the link and its target; the failed line keeps ref and subject', async () => {
    const outside = join(base, 'outside.jpg');
    await writeFile(outside, sampleJpeg({ seed: 9 }));
    await mkdir(join(root, 'a'));
    await symlink(outside, join(root, 'a', 'evil.jpg'));
    await symlink('../../outside.jpg', join(root, 'a', 'relative-evil.jpg'));
    await symlink(base, join(root, 'up')); // a folder outside
    await put('ok.jpg', sampleJpeg({ seed: 1 }));
    const { lines: got } = await lines();
    expect(got.map((l) => [l.line, l.error ?? l.value?.ref])).toEqual([
      [1, `links outside the folder are refused: a/evil.jpg → ${outside}`],
      [2, `links outside the folder are refused: a/relative-evil.jpg → ${outside}`],
      [3, 'ok.jpg'],
      [4, `links outside the folder are refused: up → ${base}`],
    ]);
    const invalid = validateLine(got[0]!, { checkOverride: 'ooto-deepfake' });
    expect(invalid).toEqual({
      ok: false,
      line: 1,
      check: 'ooto-deepfake',
      subject: 'a/evil',
      ref: 'a/evil.jpg',
      reason: `links outside the folder are refused: a/evil.jpg → ${outside}`,
    });
  });

  it('follows links inside the folder, walks each folder once (no loops), and refuses broken links', async () => {
    await put('real/a.jpg', sampleJpeg({ seed: 1 }));
    await symlink(join(root, 'real', 'a.jpg'), join(root, 'alias.jpg'));
    await symlink('real', join(root, 'zz-real-again')); // the same folder once more: walked once only
    await symlink('..', join(root, 'real', 'loop')); // back to the top: a loop
    await symlink('gone.jpg', join(root, 'broken.jpg'));
    const skips: FolderSkip[] = [];
    const got: RawLine[] = [];
    for await (const line of readFolder(root, { onSkip: (s) => skips.push(s) })) got.push(line);
    expect(got.map((l) => l.error ?? l.value?.ref)).toEqual([
      'alias.jpg',
      expect.stringMatching(/^the link's target cannot be reached \(not found\): broken\.jpg → gone\.jpg$/),
      'real/a.jpg',
    ]);
    expect(skips).toEqual([
      { path: 'real/loop', reason: 'folder-walked' },
      { path: 'zz-real-again', reason: 'folder-walked' },
    ]);
  });

  it('gives a file whose path looks like a URL a ./ ref, so the loader reads it as a path', () => {
    expect(refOf('ab:c.jpg')).toBe('./ab:c.jpg');
    expect(refOf('a/b:c.jpg')).toBe('a/b:c.jpg');
    expect(subjectOf('a/b.tar.gz')).toBe('a/b.tar');
    expect(subjectOf('a/.hidden')).toBe('a/.hidden');
    expect(subjectOf('noext')).toBe('noext');
  });

  it('readManifest reads a folder path as a folder of media', async () => {
    await put('x/1.jpg', sampleJpeg({ seed: 1 }));
    const got: RawLine[] = [];
    for await (const line of readManifest(root, { checks })) got.push(line);
    expect(got).toEqual([{ line: 1, value: { ref: 'x/1.jpg', subject: 'x/1', check: 'ooto-deepfake' } }]);
  });

  it('walkFolder reports size and modification time', async () => {
    const bytes = sampleJpeg({ seed: 1 });
    const path = await put('a.jpg', bytes);
    await utimes(path, 1_700_000_000, 1_700_000_000);
    const entries = [];
    for await (const entry of walkFolder(root)) entries.push(entry);
    expect(entries).toEqual([
      { kind: 'media', path: 'a.jpg', mime: 'image/jpeg', check: 'ooto-deepfake', size: bytes.length, mtimeMs: 1_700_000_000_000 },
    ]);
  });
});

describe('defaultBatchId of a folder', () => {
  it('is the folder name plus a hash of the media listing: stable, new when media changes, not when other files do', async () => {
    const a = await put('a.jpg', sampleJpeg({ seed: 1 }));
    await put('sub/b.mp4', sampleMp4({ seed: 2 }));
    await utimes(a, 1_700_000_000, 1_700_000_000);
    const first = await defaultBatchId(root);
    expect(first).toMatch(/^selfies-[0-9a-f]{12}$/);
    expect(await defaultBatchId(`${root}/`)).toBe(first);

    await put('.DS_Store', 'finder junk');
    expect(await defaultBatchId(root)).toBe(first);

    // --check changes which files are lines (and their check): another batch.
    expect(await defaultBatchId(root, { check: 'glair-video' })).not.toBe(first);

    await utimes(a, 1_700_000_001, 1_700_000_001);
    const touched = await defaultBatchId(root);
    expect(touched).not.toBe(first);

    await put('c.png', samplePng({ seed: 3 }));
    expect(await defaultBatchId(root)).not.toBe(touched);
  });
});
