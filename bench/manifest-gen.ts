/**
 * A synthetic but realistic manifest for the enqueue scenario: mixed checks, refs shaped like a KYC
 * archive's (relative paths, signed https URLs with long query strings, file:// URLs), subjects,
 * identify options, multi-frame lines. Deterministic (seeded). The media need not exist: enqueue
 * validates lines but never reads media.
 */
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { Prng } from '../src/simulator/prng.js';

/** Share of each check in the generated manifest. */
export const CHECK_MIX = { 'ooto-deepfake': 0.5, 'ooto-identify': 0.25, 'glair-video': 0.15, 'glair-frames': 0.1 } as const;

function hex(rng: Prng, chars: number): string {
  let out = '';
  while (out.length < chars) out += Math.floor(rng.next() * 0x1_0000_0000).toString(16).padStart(8, '0');
  return out.slice(0, chars);
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

/** A photo/video reference in one of three shapes. */
function mediaRef(rng: Prng, customer: string, kind: string, ext: string): string {
  const year = 2019 + rng.int(6);
  const month = pad(1 + rng.int(12), 2);
  const day = pad(1 + rng.int(28), 2);
  const name = `${kind}-${hex(rng, 16)}.${ext}`;
  const shape = rng.next();
  if (shape < 0.6) return `media/${year}/${month}/${day}/${customer}/${name}`;
  if (shape < 0.9) {
    const date = `${year}${month}${day}T${pad(rng.int(24), 2)}${pad(rng.int(60), 2)}00Z`;
    return (
      `https://kyc-archive-prod.s3.ap-southeast-1.amazonaws.com/onboarding/${year}/${month}/${customer}/${name}` +
      `?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIA${hex(rng, 16).toUpperCase()}%2F${year}${month}${day}` +
      `%2Fap-southeast-1%2Fs3%2Faws4_request&X-Amz-Date=${date}&X-Amz-Expires=604800&X-Amz-SignedHeaders=host` +
      `&X-Amz-Signature=${hex(rng, 64)}`
    );
  }
  return `file:///srv/kyc/archive/${year}/${month}/${customer}/${name}`;
}

/** One manifest line (as an object, before JSON). Field order is the one a producer would write. */
export function manifestLine(rng: Prng): Record<string, unknown> {
  const customer = `cust-${pad(rng.int(2_000_000), 7)}`;
  const pick = rng.next();
  if (pick < CHECK_MIX['ooto-deepfake']) {
    return { ref: mediaRef(rng, customer, 'selfie', rng.next() < 0.8 ? 'jpg' : 'png'), check: 'ooto-deepfake', subject: customer };
  }
  if (pick < CHECK_MIX['ooto-deepfake'] + CHECK_MIX['ooto-identify']) {
    const line: Record<string, unknown> = { ref: mediaRef(rng, customer, 'selfie', 'jpg'), check: 'ooto-identify', subject: customer };
    const opts = rng.next();
    if (opts < 0.4) line.options = { checkLiveness: true, checkDeepfake: true };
    else if (opts < 0.6) line.options = { checkLiveness: true };
    return line;
  }
  if (pick < 1 - CHECK_MIX['glair-frames']) {
    return { ref: mediaRef(rng, customer, 'liveness', 'mp4'), check: 'glair-video', subject: customer };
  }
  const frames: string[] = [];
  const base = `media/frames/${customer}/${hex(rng, 12)}`;
  const count = 2 + rng.int(4);
  for (let i = 1; i <= count; i++) frames.push(`${base}/frame-${pad(i, 3)}.jpg`);
  return { frames, check: 'glair-frames', subject: customer };
}

/** Writes `lines` JSONL lines to `path` (streamed, flat memory). */
export async function writeManifest(path: string, lines: number, seed = 20_240_501): Promise<void> {
  const rng = new Prng(seed);
  const out = createWriteStream(path, { encoding: 'utf8' });
  let buffer = '';
  for (let i = 0; i < lines; i++) {
    buffer += `${JSON.stringify(manifestLine(rng))}\n`;
    if (buffer.length > 256 * 1024) {
      if (!out.write(buffer)) await once(out, 'drain');
      buffer = '';
    }
  }
  out.end(buffer);
  await once(out, 'finish');
}
