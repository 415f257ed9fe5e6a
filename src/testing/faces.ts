/**
 * A generated set of distinct face-like pictures and altered copies of them (issue 20: the
 * near-duplicate acceptance set). Each face has its own seeded geometry (position, size, eyes, brows,
 * nose, mouth, hair) over a seeded gradient-and-blob background, drawn as raw grey pixels and encoded
 * by sharp from the raw buffer (fast). Deterministic per seed.
 */
import sharp from 'sharp';
import { Prng } from '../simulator/prng.js';

/** The five alterations a copy of a photo must survive. */
export const ALTERATIONS = ['jpeg-q60', 'resize-80', 'crop-5', 'png-jpeg', 'brightness'] as const;
export type Alteration = (typeof ALTERATIONS)[number];

/** Raw 3-channel pixels of face `seed`, `side`×`side`. */
export function facePixels(seed: number, side = 96): Buffer {
  const rng = new Prng((seed * 2654435761) >>> 0);
  const r = () => rng.int(1_000_000) / 1_000_000;
  const px = Buffer.alloc(side * side * 3);
  const g0 = 40 + r() * 170;
  const gx = (r() - 0.5) * 160;
  const gy = (r() - 0.5) * 160;
  const blobs = Array.from({ length: 9 }, () => ({ x: r() * side, y: r() * side, rad: side * (0.08 + r() * 0.3), v: (r() - 0.5) * 200 }));
  const wave = { fx: (r() * 6) / side, fy: (r() * 6) / side, a: 20 + r() * 50, ph: r() * 6.3 };
  const cx = side * (0.35 + r() * 0.3);
  const cy = side * (0.38 + r() * 0.24);
  const rx = side * (0.18 + r() * 0.14);
  const ry = rx * (1.15 + r() * 0.35);
  const skin = 110 + r() * 130;
  const eyeY = cy - ry * (0.1 + r() * 0.25);
  const eyeDx = rx * (0.3 + r() * 0.25);
  const eyeR = Math.max(1.5, rx * (0.08 + r() * 0.1));
  const mouthY = cy + ry * (0.35 + r() * 0.3);
  const mouthW = rx * (0.25 + r() * 0.4);
  const hair = r() < 0.7 ? 10 + r() * 80 : -1;
  const hairTop = cy - ry * (0.55 + r() * 0.4);
  for (let y = 0; y < side; y += 1) {
    for (let x = 0; x < side; x += 1) {
      let v = g0 + (gx * x) / side + (gy * y) / side + wave.a * Math.sin(wave.fx * x * 6.3 + wave.fy * y * 6.3 + wave.ph);
      for (const b of blobs) if ((x - b.x) ** 2 + (y - b.y) ** 2 < b.rad ** 2) v += b.v;
      const dx = (x - cx) / rx;
      const dy = (y - cy) / ry;
      if (dx * dx + dy * dy <= 1) {
        v = skin - dy * 20 + (blobs[0]!.v * dx) / 3;
        if (hair >= 0 && y < hairTop + ry * 0.25) v = hair;
        const eye = (x - (cx - eyeDx)) ** 2 + (y - eyeY) ** 2 <= eyeR ** 2 || (x - (cx + eyeDx)) ** 2 + (y - eyeY) ** 2 <= eyeR ** 2;
        const brow = Math.abs(y - (eyeY - eyeR * 2)) < 1.2 && Math.abs(Math.abs(x - cx) - eyeDx) < eyeR * 1.6;
        const nose = Math.abs(x - cx) < 1.5 && y > eyeY && y < mouthY - ry * 0.15;
        const mouth = Math.abs(y - mouthY) < Math.max(1, ry * 0.05) && Math.abs(x - cx) < mouthW;
        if (eye || brow || mouth) v = 25;
        else if (nose) v = skin - 45;
      }
      const c = Math.max(0, Math.min(255, Math.round(v)));
      const i = (y * side + x) * 3;
      px[i] = c;
      px[i + 1] = Math.max(0, Math.min(255, c - 10));
      px[i + 2] = Math.max(0, Math.min(255, c - 25));
    }
  }
  return px;
}

/** Face `seed` as a JPEG (quality 92), from raw pixels. */
export function faceJpeg(seed: number, side = 96): Promise<Buffer> {
  return sharp(facePixels(seed, side), { raw: { width: side, height: side, channels: 3 } }).jpeg({ quality: 92 }).toBuffer();
}

/** A copy of `original` (a JPEG of `side`×`side`) with one alteration. */
export async function alter(original: Buffer, how: Alteration, side = 96): Promise<Buffer> {
  const img = sharp(original);
  switch (how) {
    case 'jpeg-q60':
      return img.jpeg({ quality: 60 }).toBuffer();
    case 'resize-80':
      return img.resize(Math.round(side * 0.8), Math.round(side * 0.8)).jpeg({ quality: 85 }).toBuffer();
    case 'crop-5': {
      // 5 % off the picture: 2.5 % off each side.
      const cut = Math.round(side * 0.025);
      return img.extract({ left: cut, top: cut, width: side - 2 * cut, height: side - 2 * cut }).jpeg({ quality: 90 }).toBuffer();
    }
    case 'png-jpeg':
      return img.png().toBuffer();
    case 'brightness':
      // +20 grey levels on every channel (clipped at white).
      return img.linear(1, 20).jpeg({ quality: 90 }).toBuffer();
  }
}
