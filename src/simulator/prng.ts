import { createHash } from 'node:crypto';

/**
 * A small deterministic pseudo-random generator (mulberry32). The simulator derives every "measured"
 * number from the media's sha256 through it, so the same bytes always get the same answer.
 */
export class Prng {
  #state: number;

  constructor(seed: number) {
    this.#state = seed >>> 0;
  }

  /** Seeded from the first four bytes of a digest (e.g. a sha256). */
  static fromDigest(digest: Uint8Array, salt = 0): Prng {
    const a = ((digest[0] ?? 0) << 24) | ((digest[1] ?? 0) << 16) | ((digest[2] ?? 0) << 8) | (digest[3] ?? 0);
    return new Prng((a ^ Math.imul(salt, 0x9e3779b1)) >>> 0);
  }

  /** Seeded from the sha256 of a text. */
  static fromText(text: string): Prng {
    return Prng.fromDigest(createHash('sha256').update(text).digest());
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  }

  /** Uniform in [min, max). */
  between(min: number, max: number): number {
    return min + (max - min) * this.next();
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** One element of a non-empty list. */
  pick<T>(items: readonly [T, ...T[]]): T {
    return items[this.int(items.length)] ?? items[0];
  }
}
