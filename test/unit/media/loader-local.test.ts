import { execFileSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm, truncate, writeFile } from 'node:fs/promises';
import type * as NodeFsPromises from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { GLAIR_MAX_BYTES } from '../../../src/vendors/glair/vendor.js';
import { ErrorCodes, MediaRejectedError, MediaUnavailableError, type RescreenError } from '../../../src/errors/errors.js';
import { createMediaLoader, displayRef } from '../../../src/media/loader.js';
import { gif, jpeg, mp4, png } from './fixtures.js';

// Count the loader's file reads: "refused without reading" must mean the file was never opened.
const reads = vi.hoisted(() => ({ paths: [] as string[] }));
vi.mock('node:fs/promises', async (importOriginal) => {
  const fsp = await importOriginal<typeof NodeFsPromises>();
  const open: typeof fsp.open = (file, ...rest) => {
    reads.paths.push(String(file));
    return fsp.open(file, ...rest);
  };
  return { ...fsp, default: { ...fsp, open }, open };
});

let dir: string;
const loader = createMediaLoader({ photoMaxBytes: 4096 });

async function failure<T extends RescreenError>(promise: Promise<unknown>, type: abstract new (...args: never[]) => T): Promise<T> {
  const err: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(type);
  return err as T;
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'rescreen-media-'));
  await mkdir(path.join(dir, 'media'));
  await mkdir(path.join(dir, 'f'));
  await writeFile(path.join(dir, 'media', 'a.jpg'), jpeg());
  await writeFile(path.join(dir, 'media', 'b.png'), png());
  await writeFile(path.join(dir, 'media', 'c.mp4'), mp4());
  await writeFile(path.join(dir, 'media', 'd.mov'), mp4('qt  '));
  await writeFile(path.join(dir, 'media', 'e.gif'), gif());
  await writeFile(path.join(dir, 'media', 'empty.jpg'), Buffer.alloc(0));
  await writeFile(path.join(dir, 'media', 'big.jpg'), jpeg(4097));
  // Sparse: 7 MiB on paper, nothing on disk. Reading it would be noticed by the read counter.
  await writeFile(path.join(dir, 'media', 'huge.mp4'), mp4());
  await truncate(path.join(dir, 'media', 'huge.mp4'), GLAIR_MAX_BYTES + 1024 * 1024);
  // Three frames of 2.5 MiB each: two fit in 6 MiB, the third does not.
  for (const n of [1, 2, 3]) await writeFile(path.join(dir, 'f', `${n}.png`), png(2.5 * 1024 * 1024));
  await writeFile(path.join(dir, 'f', 'small.jpg'), jpeg());
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

beforeEach(() => {
  reads.paths.length = 0;
});

describe('references', () => {
  it('resolves a relative path against baseDir', async () => {
    const blob = await loader.loadPhoto('media/a.jpg', dir);
    expect(blob.mime).toBe('image/jpeg');
    expect(blob.filename).toBe('a.jpg');
    expect(blob.bytes.equals(jpeg())).toBe(true);
  });

  it('takes an absolute path as it is', async () => {
    const blob = await loader.loadPhoto(path.join(dir, 'media', 'b.png'), '/nonexistent-base');
    expect(blob).toMatchObject({ mime: 'image/png', filename: 'b.png' });
  });

  it('reads a file:// URL (and ignores baseDir for it)', async () => {
    const url = pathToFileURL(path.join(dir, 'media', 'c.mp4')).href;
    const blob = await loader.loadVideo(url, '/nonexistent-base');
    expect(blob).toMatchObject({ mime: 'video/mp4', filename: 'c.mp4' });
  });

  it('refuses local references when allowFileUrls is false', async () => {
    const strict = createMediaLoader({ allowFileUrls: false });
    for (const ref of ['media/a.jpg', pathToFileURL(path.join(dir, 'media', 'a.jpg')).href]) {
      const err = await failure(strict.loadPhoto(ref, dir), MediaUnavailableError);
      expect(err.code).toBe(ErrorCodes.MEDIA_UNREADABLE);
    }
    expect(reads.paths).toEqual([]);
  });

  it('refuses unknown schemes and empty references', async () => {
    const err = await failure(loader.loadPhoto('gs://bucket/a.jpg?token=SECRET', dir), MediaUnavailableError);
    expect(err.code).toBe(ErrorCodes.MEDIA_UNREADABLE);
    expect(err.message).toContain('gs:');
    expect(err.message).not.toContain('SECRET');
    expect((await failure(loader.loadPhoto('  ', dir), MediaUnavailableError)).code).toBe(ErrorCodes.MEDIA_UNREADABLE);
  });

  it('displayRef strips query, fragment and user-info from URLs only', () => {
    expect(displayRef('https://user:pw@bucket.example/x/a.jpg?X-Amz-Signature=abc#frag')).toBe('https://bucket.example/x/a.jpg');
    expect(displayRef('media/what?.jpg')).toBe('media/what?.jpg');
  });
});

describe('local files', () => {
  it('a missing file is MEDIA_NOT_FOUND', async () => {
    const err = await failure(loader.loadPhoto('media/nope.jpg', dir), MediaUnavailableError);
    expect(err.code).toBe(ErrorCodes.MEDIA_NOT_FOUND);
    expect(err.message).toContain('media/nope.jpg');
    expect((await failure(loader.loadPhoto('media/a.jpg/x.jpg', dir), MediaUnavailableError)).code).toBe(ErrorCodes.MEDIA_NOT_FOUND);
  });

  it('a directory is MEDIA_UNREADABLE', async () => {
    const err = await failure(loader.loadPhoto('media', dir), MediaUnavailableError);
    expect(err.code).toBe(ErrorCodes.MEDIA_UNREADABLE);
    expect(reads.paths).toEqual([]);
  });

  it.skipIf(process.getuid?.() === 0)('a file without read permission is MEDIA_UNREADABLE', async () => {
    const file = path.join(dir, 'media', 'locked.jpg');
    await writeFile(file, jpeg());
    await chmod(file, 0o000);
    expect((await failure(loader.loadPhoto(file, dir), MediaUnavailableError)).code).toBe(ErrorCodes.MEDIA_UNREADABLE);
  });

  it.skipIf(process.platform === 'win32')('a FIFO (or any non-regular file) is MEDIA_UNREADABLE and never opened', async () => {
    const fifo = path.join(dir, 'media', 'pipe.jpg');
    execFileSync('mkfifo', [fifo]);
    expect((await failure(loader.loadPhoto(fifo, dir), MediaUnavailableError)).code).toBe(ErrorCodes.MEDIA_UNREADABLE);
    expect(reads.paths).toEqual([]);
  });

  it('an empty file is MEDIA_EMPTY', async () => {
    expect((await failure(loader.loadPhoto('media/empty.jpg', dir), MediaRejectedError)).code).toBe(ErrorCodes.MEDIA_EMPTY);
  });

  it('a GIF photo and a QuickTime video are MEDIA_UNSUPPORTED_TYPE', async () => {
    const gifErr = await failure(loader.loadPhoto('media/e.gif', dir), MediaRejectedError);
    expect(gifErr.code).toBe(ErrorCodes.MEDIA_UNSUPPORTED_TYPE);
    expect(gifErr.message).toContain('expected JPEG or PNG, got image/gif');
    const movErr = await failure(loader.loadVideo('media/d.mov', dir), MediaRejectedError);
    expect(movErr.message).toContain('got video/quicktime');
  });

  it('sniffs the bytes, not the name', async () => {
    await writeFile(path.join(dir, 'media', 'really-a-png.jpg'), png());
    expect((await loader.loadPhoto('media/really-a-png.jpg', dir)).mime).toBe('image/png');
  });

  it('a photo over photoMaxBytes is MEDIA_TOO_LARGE, refused on stat without reading it', async () => {
    const err = await failure(loader.loadPhoto('media/big.jpg', dir), MediaRejectedError);
    expect(err.code).toBe(ErrorCodes.MEDIA_TOO_LARGE);
    expect(err.message).toContain('4097 bytes');
    expect(err.message).toContain('4096 bytes');
    expect(reads.paths).toEqual([]);
  });

  it('a video over 6 MiB is MEDIA_TOO_LARGE without reading it', async () => {
    const err = await failure(loader.loadVideo('media/huge.mp4', dir), MediaRejectedError);
    expect(err.code).toBe(ErrorCodes.MEDIA_TOO_LARGE);
    expect(err.message).toContain(String(GLAIR_MAX_BYTES));
    expect(reads.paths).toEqual([]);
  });

  it('the default photo cap is 15 MiB', async () => {
    const roomy = createMediaLoader();
    expect((await roomy.loadPhoto('media/big.jpg', dir)).bytes.length).toBe(4097);
  });

  it('an aborted signal stops before any read', async () => {
    const controller = new AbortController();
    controller.abort(new Error('shutting down'));
    await expect(loader.loadPhoto('media/a.jpg', dir, controller.signal)).rejects.toThrow('shutting down');
    expect(reads.paths).toEqual([]);
  });
});

describe('frames', () => {
  it('loads JPEG/PNG frames in order, named after their refs', async () => {
    const blobs = await loader.loadFrames(['f/1.png', 'f/small.jpg'], dir);
    expect(blobs.map((b) => [b.mime, b.filename])).toEqual([
      ['image/png', '1.png'],
      ['image/jpeg', 'small.jpg'],
    ]);
  });

  it('frames are capped at 6 MiB in total (not per photoMaxBytes) and the over-total frame is never read', async () => {
    const err = await failure(loader.loadFrames(['f/1.png', 'f/2.png', 'f/3.png', 'f/small.jpg'], dir), MediaRejectedError);
    expect(err.code).toBe(ErrorCodes.MEDIA_TOO_LARGE);
    expect(err.message).toContain('frame 3 of 4');
    expect(err.message).toContain(String(GLAIR_MAX_BYTES));
    expect(reads.paths.map((p) => path.basename(p))).toEqual(['1.png', '2.png']);
  });

  it('an empty list, a missing frame and a GIF frame are refused', async () => {
    expect((await failure(loader.loadFrames([], dir), MediaRejectedError)).code).toBe(ErrorCodes.MEDIA_EMPTY);
    expect((await failure(loader.loadFrames(['f/small.jpg', 'f/9.jpg'], dir), MediaUnavailableError)).code).toBe(
      ErrorCodes.MEDIA_NOT_FOUND,
    );
    const err = await failure(loader.loadFrames(['f/small.jpg', 'media/e.gif'], dir), MediaRejectedError);
    expect(err.message).toContain('frame 2 of 2');
    expect(err.message).toContain('got image/gif');
  });
});
