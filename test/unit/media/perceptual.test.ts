/**
 * Perceptual hashes (issue 20): every alteration of a photo links to it, distinct faces never link,
 * and what cannot be decoded is `notHashed` with its reason. A 200-face set here (fast); the bench
 * measures the full 2,000 + 300 (BENCHMARKS.md).
 */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { distance, hamming, hashMedia, isNear, type PictureHashes } from '../../../src/media/perceptual.js';
import { ALTERATIONS, alter, faceJpeg } from '../../../src/testing/faces.js';
import { sampleMp4 } from '../../../src/simulator/sample-media.js';

const DISTINCT = 200;

async function hashed(bytes: Buffer, mime = 'image/jpeg'): Promise<PictureHashes> {
  const h = await hashMedia(bytes, mime);
  if ('notHashed' in h) throw new Error(h.notHashed);
  return h;
}

function hasFfmpeg(): boolean {
  try {
    execFileSync('ffmpeg', ['-version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('perceptual hashes', () => {
  it('hamming counts differing bits', () => {
    expect(hamming('0000000000000000', '0000000000000000')).toBe(0);
    expect(hamming('ffffffffffffffff', '0000000000000000')).toBe(64);
    expect(hamming('8000000000000001', '0000000000000000')).toBe(2);
  });

  it('every altered copy links to its original; distinct faces do not link', async () => {
    const originals = await Promise.all(Array.from({ length: DISTINCT }, (_, i) => faceJpeg(i)));
    const hashes = await Promise.all(originals.map((b) => hashed(b)));
    for (const how of ALTERATIONS) {
      for (let i = 0; i < 20; i += 1) {
        const copy = await hashed(await alter(originals[i]!, how), how === 'png-jpeg' ? 'image/png' : 'image/jpeg');
        const d = distance(copy, hashes[i]!);
        expect(isNear(d), `${how} copy of face ${i}: pHash ${d.phash}, dHash ${d.dhash}`).toBe(true);
      }
    }
    let falseLinks = 0;
    for (let i = 0; i < DISTINCT; i += 1) for (let j = i + 1; j < DISTINCT; j += 1) if (isNear(distance(hashes[i]!, hashes[j]!))) falseLinks += 1;
    expect(falseLinks).toBe(0);
  }, 120_000);

  it('an undecodable or truncated image is notHashed with the reason', async () => {
    const jpeg = await faceJpeg(7);
    const truncated = await hashMedia(jpeg.subarray(0, 200), 'image/jpeg');
    expect(truncated).toEqual({ notHashed: expect.stringMatching(/^undecodable image: /) as string });
    expect(await hashMedia(Buffer.from('not a picture'), 'image/png')).toEqual({ notHashed: expect.stringMatching(/^undecodable image: /) as string });
  });

  it('mp4: the first keyframe through ffmpeg, else notHashed naming the missing decoder', async () => {
    const mp4 = sampleMp4({ seed: 3 });
    expect(await hashMedia(mp4, 'video/mp4', { ffmpeg: null })).toEqual({ notHashed: expect.stringMatching(/no video decoder/) as string });
    expect(await hashMedia(mp4, 'video/mp4', { ffmpeg: '/nonexistent/ffmpeg' })).toEqual({ notHashed: expect.stringMatching(/not on PATH/) as string });
    if (!hasFfmpeg()) return;
    const h = await hashMedia(mp4, 'video/mp4');
    expect(h).toMatchObject({ phash: expect.stringMatching(/^[0-9a-f]{16}$/) as string, dhash: expect.stringMatching(/^[0-9a-f]{16}$/) as string });
  });
});
