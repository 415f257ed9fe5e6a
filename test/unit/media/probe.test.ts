/**
 * The dry-run probe must say exactly what the loader would do: every case is run through both and
 * compared (outcome, error code and message), plus a check that the probe reads only a file's head.
 */
import { mkdir, mkdtemp, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { MockAgent } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CheckInput } from '../../../src/checks/registry.js';
import { GLAIR_MAX_BYTES } from '../../../src/vendors/glair/vendor.js';
import { MediaRejectedError, MediaUnavailableError, RescreenError } from '../../../src/errors/errors.js';
import { createMediaLoader } from '../../../src/media/loader.js';
import { createMediaProbe, type ProbeResult } from '../../../src/media/probe.js';
import { detectFileMime, SNIFF_HEAD_BYTES } from '../../../src/media/sniff.js';
import { sampleJpeg, sampleMp4, samplePng } from '../../../src/simulator/sample-media.js';
import { gif, jpeg, mp4, png } from './fixtures.js';

const PHOTO_MAX = 100_000;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'rescreen-probe-'));
  const files: Record<string, Buffer | string> = {
    'a.jpg': sampleJpeg({ seed: 1 }),
    'b.png': samplePng({ seed: 2 }),
    'c.mp4': sampleMp4({ seed: 3 }),
    'tiny.jpg': jpeg(),
    'tiny.png': png(),
    'm4v.mp4': mp4('M4V '),
    'qt.mov': mp4('qt  '),
    'empty.jpg': '',
    'one-byte.jpg': Buffer.from([0xff]),
    'anim.gif': gif(),
    'text.jpg': 'hello, not a photo',
    // Larger than the sniffed head, within the cap: the type comes from the file tokenizer.
    'padded.png': samplePng({ seed: 4, padToBytes: 60_000 }),
    'padded.jpg': sampleJpeg({ seed: 5, padToBytes: 60_000 }),
    'big-text-chunk.png': png(50_000),
    'exactly-cap.png': samplePng({ seed: 6, padToBytes: PHOTO_MAX }),
    'over-cap.png': samplePng({ seed: 7, padToBytes: PHOTO_MAX + 1 }),
    'big.mp4': sampleMp4({ seed: 8, padToBytes: 7 * 1024 * 1024 }),
    'exactly-6mb.mp4': sampleMp4({ seed: 9, padToBytes: GLAIR_MAX_BYTES }),
    'f/1.jpg': sampleJpeg({ seed: 10, padToBytes: 4 * 1024 * 1024 }),
    'f/2.jpg': sampleJpeg({ seed: 11, padToBytes: 3 * 1024 * 1024 }),
    'f/3.png': samplePng({ seed: 12 }),
  };
  for (const [name, bytes] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, name)), { recursive: true });
    await writeFile(path.join(dir, name), bytes);
  }
  await mkdir(path.join(dir, 'a-folder'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** What the loader does, as a ProbeResult (remote references are not compared: the probe never fetches). */
async function viaLoader(input: CheckInput, refs: readonly string[]): Promise<ProbeResult> {
  const agent = new MockAgent();
  agent.disableNetConnect();
  const loader = createMediaLoader({ photoMaxBytes: PHOTO_MAX, dispatcher: agent });
  try {
    if (input === 'photo') await loader.loadPhoto(refs[0]!, dir);
    else if (input === 'video') await loader.loadVideo(refs[0]!, dir);
    else await loader.loadFrames(refs, dir);
    return { outcome: 'sent' };
  } catch (error) {
    if (error instanceof MediaRejectedError) return { outcome: 'rejected', code: error.code as 'MEDIA_EMPTY', message: error.message };
    if (error instanceof MediaUnavailableError) return { outcome: 'failed', code: String(error.code), message: error.message };
    throw error;
  } finally {
    await agent.close();
  }
}

const probe = createMediaProbe({ photoMaxBytes: PHOTO_MAX });

const LOCAL_CASES: [CheckInput, string[]][] = [
  ['photo', ['a.jpg']],
  ['photo', ['b.png']],
  ['photo', ['tiny.jpg']],
  ['photo', ['tiny.png']],
  ['photo', ['padded.png']],
  ['photo', ['padded.jpg']],
  ['photo', ['big-text-chunk.png']],
  ['photo', ['exactly-cap.png']],
  ['photo', ['over-cap.png']],
  ['photo', ['empty.jpg']],
  ['photo', ['one-byte.jpg']],
  ['photo', ['anim.gif']],
  ['photo', ['text.jpg']],
  ['photo', ['c.mp4']],
  ['photo', ['missing.jpg']],
  ['photo', ['a-folder']],
  ['photo', ['a.jpg/child.jpg']],
  ['photo', ['   ']],
  ['photo', ['ftp://example.com/a.jpg']],
  ['photo', ['file:///definitely/not/here.jpg']],
  ['video', ['c.mp4']],
  ['video', ['m4v.mp4']],
  ['video', ['qt.mov']],
  ['video', ['big.mp4']],
  ['video', ['exactly-6mb.mp4']],
  ['video', ['a.jpg']],
  ['video', ['empty.jpg']],
  ['video', ['missing.mp4']],
  ['frames', ['f/1.jpg', 'f/3.png']],
  ['frames', ['f/1.jpg', 'f/2.jpg']],
  ['frames', ['f/3.png', 'empty.jpg']],
  ['frames', ['f/3.png', 'anim.gif']],
  ['frames', ['f/3.png', 'missing.jpg']],
  ['frames', ['f/3.png', 'ftp://x/y.jpg']],
  ['frames', []],
];

describe('createMediaProbe', () => {
  it.each(LOCAL_CASES)('%s %j: the same outcome, code and message as the loader', async (input, refs) => {
    const expected = await viaLoader(input, refs);
    expect(await probe.probe(input, refs, dir)).toEqual(expected);
  });

  it('gives the loader verdicts these cases are about (a guard against both being wrong alike)', async () => {
    const outcome = async (input: CheckInput, refs: string[]) => {
      const r = await probe.probe(input, refs, dir);
      return r.outcome === 'sent' || r.outcome === 'remote' ? r.outcome : r.code;
    };
    expect(await outcome('photo', ['padded.png'])).toBe('sent');
    expect(await outcome('photo', ['exactly-cap.png'])).toBe('sent');
    expect(await outcome('photo', ['over-cap.png'])).toBe('MEDIA_TOO_LARGE');
    expect(await outcome('photo', ['empty.jpg'])).toBe('MEDIA_EMPTY');
    expect(await outcome('photo', ['anim.gif'])).toBe('MEDIA_UNSUPPORTED_TYPE');
    expect(await outcome('photo', ['missing.jpg'])).toBe('MEDIA_NOT_FOUND');
    expect(await outcome('photo', ['a-folder'])).toBe('MEDIA_UNREADABLE');
    expect(await outcome('video', ['big.mp4'])).toBe('MEDIA_TOO_LARGE');
    expect(await outcome('video', ['exactly-6mb.mp4'])).toBe('sent');
    expect(await outcome('video', ['qt.mov'])).toBe('MEDIA_UNSUPPORTED_TYPE');
    expect(await outcome('frames', ['f/1.jpg', 'f/2.jpg'])).toBe('MEDIA_TOO_LARGE');
  });

  it('applies the host policy to http(s) references, as the loader would: refused hosts end failed MEDIA_HOST_REFUSED', async () => {
    for (const ref of ['http://127.0.0.1/a.jpg', 'http://169.254.169.254/latest/a.jpg', 'http://localhost:9/a.jpg', 'http://[::ffff:10.0.0.1]/a.jpg']) {
      expect(await probe.probe('photo', [ref], dir), ref).toMatchObject({ outcome: 'failed', code: 'MEDIA_HOST_REFUSED' });
    }
    const refused = await probe.probe('photo', ['http://127.0.0.1/a.jpg?sig=secret'], dir);
    expect(refused).toMatchObject({ message: expect.stringContaining('RESCREEN_MEDIA_ALLOW_HOSTS') as unknown });
    expect(JSON.stringify(refused)).not.toContain('secret');
    // A refused frame fails the line, as the loader's first failing frame does.
    expect(await probe.probe('frames', ['f/3.png', 'http://10.1.2.3/2.jpg'], dir)).toMatchObject({ outcome: 'failed', code: 'MEDIA_HOST_REFUSED' });
    // What the operator allows is a paid call again.
    const allowing = createMediaProbe({ hostPolicy: { allowHosts: ['127.0.0.1', 'localhost'], allowPrivate: false } });
    expect(await allowing.probe('photo', ['http://127.0.0.1/a.jpg'], dir)).toEqual({ outcome: 'remote' });
    expect(await allowing.probe('photo', ['http://localhost:9/a.jpg'], dir)).toEqual({ outcome: 'remote' });
    expect(await createMediaProbe({ hostPolicy: { allowHosts: [], allowPrivate: true } }).probe('photo', ['http://169.254.169.254/a.jpg'], dir)).toEqual({ outcome: 'remote' });
  });

  it('does not fetch http(s) references: they are remote', async () => {
    expect(await probe.probe('photo', ['https://bucket.example/a.jpg?sig=secret'], dir)).toEqual({ outcome: 'remote' });
    expect(await probe.probe('video', ['http://bucket.example/a.mp4'], dir)).toEqual({ outcome: 'remote' });
    expect(await probe.probe('frames', ['https://x.example/1.jpg', 'f/3.png'], dir)).toEqual({ outcome: 'remote' });
    // A local frame that fails decides, whatever the remote ones hold.
    expect(await probe.probe('frames', ['https://x.example/1.jpg', 'empty.jpg'], dir)).toMatchObject({
      outcome: 'rejected',
      code: 'MEDIA_EMPTY',
    });
  });

  it('takes file:// URLs and absolute paths as local files, like the loader', async () => {
    const abs = path.join(dir, 'a.jpg');
    expect(await probe.probe('photo', [pathToFileURL(abs).href], dir)).toEqual({ outcome: 'sent' });
    expect(await probe.probe('photo', [abs], '/elsewhere')).toEqual({ outcome: 'sent' });
  });

  it('with local files refused, answers as the loader does', async () => {
    const remoteOnly = createMediaProbe({ allowFileUrls: false });
    const result = await remoteOnly.probe('photo', ['a.jpg'], dir);
    expect(result).toMatchObject({ outcome: 'failed', code: 'MEDIA_UNREADABLE' });
    const loaderError: unknown = await createMediaLoader({ allowFileUrls: false })
      .loadPhoto('a.jpg', dir)
      .catch((e: unknown) => e);
    expect(loaderError).toBeInstanceOf(RescreenError);
    expect(result).toMatchObject({ message: (loaderError as Error).message });
  });
});

describe('detectFileMime', () => {
  it('agrees with sniffing the whole file in memory, and reads only the head of a large file', async () => {
    expect(await detectFileMime(path.join(dir, 'big.mp4'), 7 * 1024 * 1024)).toBe('video/mp4');
    expect(await detectFileMime(path.join(dir, 'padded.png'), 60_000)).toBe('image/png');
    expect(await detectFileMime(path.join(dir, 'tiny.jpg'), 64)).toBe('image/jpeg');
    expect(await detectFileMime(path.join(dir, 'text.jpg'), 18)).toBeUndefined();
    expect(SNIFF_HEAD_BYTES).toBeLessThanOrEqual(64 * 1024);

    // A 5 GB (sparse) file cannot even be held in one Buffer: detection reads its first bytes only.
    const huge = path.join(dir, 'huge.mp4');
    await writeFile(huge, mp4('isom', 64));
    await truncate(huge, 5 * 1024 ** 3);
    expect(await detectFileMime(huge, 5 * 1024 ** 3)).toBe('video/mp4');
    expect(await probe.probe('video', ['huge.mp4'], dir)).toMatchObject({ outcome: 'rejected', code: 'MEDIA_TOO_LARGE' });
  });
});
