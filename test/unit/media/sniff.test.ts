import { describe, expect, it } from 'vitest';
import { ErrorCodes, MediaRejectedError } from '../../../src/errors/errors.js';
import { formatBytes, sniffMedia, sniffPhoto, sniffVideo } from '../../../src/media/sniff.js';
import { gif, jpeg, mp4, png } from './fixtures.js';

async function rejection(promise: Promise<unknown>): Promise<MediaRejectedError> {
  const err: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(MediaRejectedError);
  return err as MediaRejectedError;
}

describe('sniffPhoto', () => {
  it('recognises JPEG and PNG by their bytes', async () => {
    await expect(sniffPhoto(jpeg())).resolves.toBe('image/jpeg');
    await expect(sniffPhoto(png())).resolves.toBe('image/png');
  });

  it('refuses a GIF and names the detected type', async () => {
    const err = await rejection(sniffPhoto(gif(), { label: 'a.gif' }));
    expect(err.code).toBe(ErrorCodes.MEDIA_UNSUPPORTED_TYPE);
    expect(err.message).toContain('expected JPEG or PNG, got image/gif');
    expect(err.message).toContain('a.gif');
  });

  it('refuses an mp4 and bytes of no known type', async () => {
    expect((await rejection(sniffPhoto(mp4()))).message).toContain('got video/mp4');
    const err = await rejection(sniffPhoto(Buffer.from('just some text, not an image')));
    expect(err.code).toBe(ErrorCodes.MEDIA_UNSUPPORTED_TYPE);
    expect(err.message).toContain('unrecognised');
  });

  it('refuses empty bytes as MEDIA_EMPTY', async () => {
    expect((await rejection(sniffPhoto(Buffer.alloc(0)))).code).toBe(ErrorCodes.MEDIA_EMPTY);
  });

  it('refuses more than maxBytes as MEDIA_TOO_LARGE, with both sizes', async () => {
    const err = await rejection(sniffPhoto(jpeg(2048), { maxBytes: 1024 }));
    expect(err.code).toBe(ErrorCodes.MEDIA_TOO_LARGE);
    expect(err.message).toContain('2048 bytes');
    expect(err.message).toContain('1024 bytes');
    await expect(sniffPhoto(jpeg(1024), { maxBytes: 1024 })).resolves.toBe('image/jpeg');
  });
});

describe('sniffVideo', () => {
  it('accepts ISO-BMFF mp4 (isom, mp42) and m4v as video/mp4', async () => {
    await expect(sniffVideo(mp4('isom'))).resolves.toBe('video/mp4');
    await expect(sniffVideo(mp4('mp42'))).resolves.toBe('video/mp4');
    await expect(sniffVideo(mp4('M4V '))).resolves.toBe('video/mp4');
  });

  it('refuses QuickTime, 3GP and images', async () => {
    for (const [bytes, got] of [
      [mp4('qt  '), 'video/quicktime'],
      [mp4('3gp4'), 'video/3gpp'],
      [jpeg(), 'image/jpeg'],
    ] as const) {
      const err = await rejection(sniffVideo(bytes));
      expect(err.code).toBe(ErrorCodes.MEDIA_UNSUPPORTED_TYPE);
      expect(err.message).toContain(`expected an mp4 video, got ${got}`);
    }
  });

  it('checks emptiness and size before the type', async () => {
    expect((await rejection(sniffVideo(new Uint8Array(0)))).code).toBe(ErrorCodes.MEDIA_EMPTY);
    expect((await rejection(sniffVideo(mp4('isom', 4096), { maxBytes: 4095 }))).code).toBe(ErrorCodes.MEDIA_TOO_LARGE);
  });
});

describe('sniffMedia / formatBytes', () => {
  it('dispatches by kind', async () => {
    await expect(sniffMedia(png(), 'photo')).resolves.toBe('image/png');
    await expect(sniffMedia(mp4(), 'video')).resolves.toBe('video/mp4');
  });

  it('formats sizes for people', () => {
    expect(formatBytes(512)).toBe('512 bytes');
    expect(formatBytes(2048)).toBe('2048 bytes (2.0 KiB)');
    expect(formatBytes(6 * 1024 * 1024)).toBe('6291456 bytes (6.0 MiB)');
  });
});
