/**
 * Near-duplicate groups among a manifest's local media, for the dry run (issue 20): before any paid
 * call, every local picture a line would send is perceptually hashed (src/media/perceptual.ts) and
 * pictures within the link rule are grouped — re-encoded, resized, cropped, converted or brightened
 * copies that `--dedupe` (byte-exact) cannot see. Byte-identical files are one picture here (that is
 * `--dedupe`'s count). Pictures are indexed by the ring store's hash bands ({@link mediaBands}), so
 * only pictures sharing a band are compared, never every pair. Nothing here makes a network call.
 */
import { readFile } from 'node:fs/promises';
import { sha256Hex } from '../media/digest.js';
import { distance, hashMedia, isNear, type PictureHashes } from '../media/perceptual.js';
import { resolveRef } from '../media/refs.js';
import { fileTypeFromBuffer } from 'file-type';
import { acceptedMime } from '../media/sniff.js';
import { mediaBands } from '../store/rings.js';

/** Distinct pictures remembered; past it a picture is counted as not hashed (bounded memory). */
export const MAX_NEAR_PICTURES = 500_000;
/** Groups the estimate lists (the count covers them all). */
export const MAX_GROUPS_LISTED = 20;
/** Refs named per listed group. */
const REFS_PER_GROUP = 5;

/** One group: distinct pictures (different bytes) that are near duplicates of one another. */
export interface NearGroup {
  /** Distinct pictures (sha256) in it. */
  readonly pictures: number;
  /** Manifest lines that send one of them. */
  readonly lines: number;
  /** The first refs of its pictures (one per picture, in manifest order), at most 5. */
  readonly refs: readonly string[];
}

/** What the dry run says about near duplicates. */
export interface NearDuplicates {
  /** Groups of two or more distinct pictures. */
  readonly groups: number;
  /** Distinct pictures in those groups. */
  readonly pictures: number;
  /** Distinct local pictures hashed. */
  readonly hashed: number;
  /** Distinct local media not hashed (undecodable, no video decoder, past the bound): never grouped. */
  readonly notHashed: number;
  /** The largest groups (at most {@link MAX_GROUPS_LISTED}), biggest first. */
  readonly list: readonly NearGroup[];
}

interface Picture {
  readonly hashes: PictureHashes;
  /** The ref of its first line (the smallest `order`), whichever path was hashed first. */
  ref: string;
  order: number;
  lines: number;
  parent: number;
}

/** Collects the local pictures of a dry run and groups the near duplicates. */
export class NearDuplicateFinder {
  readonly #pictures: Picture[] = [];
  readonly #bySha = new Map<string, number>();
  readonly #byBand = new Map<string, number[]>();
  /** Each path once: the picture index, or null when not hashed. */
  readonly #byPath = new Map<string, Promise<number | null>>();
  readonly #notHashed = new Set<string>();

  constructor(private readonly options: { readonly ffmpeg?: string | null } = {}) {}

  /** Adds the media of one line that would be sent (local files only; remote refs are not fetched). */
  async add(refs: readonly string[], baseDir: string, order: number): Promise<void> {
    for (const ref of refs) {
      let source;
      try {
        source = resolveRef(ref, baseDir, true);
      } catch {
        continue;
      }
      if (source.kind !== 'file') continue;
      let pending = this.#byPath.get(source.path);
      if (pending === undefined) {
        pending = this.#hash(source.path, ref, order);
        this.#byPath.set(source.path, pending);
      }
      const index = await pending;
      if (index !== null) this.#pictures[index]!.lines++;
    }
  }

  async #hash(path: string, ref: string, order: number): Promise<number | null> {
    let bytes: Buffer;
    try {
      bytes = await readFile(path);
    } catch {
      return null;
    }
    const sha = sha256Hex(bytes);
    const known = this.#bySha.get(sha);
    if (known !== undefined) return this.#seen(known, ref, order);
    const hashed = await hashMedia(bytes, acceptedMime((await fileTypeFromBuffer(bytes))?.mime) ?? 'application/octet-stream', this.options);
    // Another path with the same bytes may have been hashed meanwhile.
    const again = this.#bySha.get(sha);
    if (again !== undefined) return this.#seen(again, ref, order);
    if ('notHashed' in hashed || this.#pictures.length >= MAX_NEAR_PICTURES) {
      if (this.#notHashed.size < MAX_NEAR_PICTURES) this.#notHashed.add(sha);
      return null;
    }
    const index = this.#pictures.length;
    this.#pictures.push({ hashes: hashed, ref, order, lines: 0, parent: index });
    this.#bySha.set(sha, index);
    // Compared with the pictures sharing a band only (synchronously: each pair once).
    const bands = mediaBands(hashed).map(([b, v]) => `${b}:${v}`);
    const seen = new Set<number>();
    for (const key of bands) {
      for (const other of this.#byBand.get(key) ?? []) {
        if (seen.has(other)) continue;
        seen.add(other);
        if (isNear(distance(hashed, this.#pictures[other]!.hashes))) this.#union(index, other);
      }
    }
    for (const key of bands) {
      const list = this.#byBand.get(key);
      if (list === undefined) this.#byBand.set(key, [index]);
      else list.push(index);
    }
    return index;
  }

  /** The same bytes under another path: the picture keeps the ref of its earliest line. */
  #seen(index: number, ref: string, order: number): number {
    const p = this.#pictures[index]!;
    if (order < p.order) {
      p.order = order;
      p.ref = ref;
    }
    return index;
  }

  #find(i: number): number {
    let root = i;
    while (this.#pictures[root]!.parent !== root) root = this.#pictures[root]!.parent;
    for (let j = i; this.#pictures[j]!.parent !== root; ) {
      const next = this.#pictures[j]!.parent;
      this.#pictures[j]!.parent = root;
      j = next;
    }
    return root;
  }

  #union(x: number, y: number): void {
    const [a, b] = [this.#find(x), this.#find(y)];
    if (a !== b) this.#pictures[Math.max(a, b)]!.parent = Math.min(a, b);
  }

  /** The groups found so far. */
  result(): NearDuplicates {
    const groups = new Map<number, number[]>();
    this.#pictures.forEach((_, i) => {
      const root = this.#find(i);
      const list = groups.get(root);
      if (list === undefined) groups.set(root, [i]);
      else list.push(i);
    });
    const found = [...groups.values()].filter((g) => g.length >= 2);
    const all = found.map((g): NearGroup & { first: number } => {
      const members = g.map((i) => this.#pictures[i]!).sort((x, y) => x.order - y.order);
      return { pictures: g.length, lines: members.reduce((n, p) => n + p.lines, 0), refs: members.slice(0, REFS_PER_GROUP).map((p) => p.ref), first: members[0]!.order };
    });
    all.sort((x, y) => y.pictures - x.pictures || x.first - y.first);
    return {
      groups: found.length,
      pictures: found.reduce((n, g) => n + g.length, 0),
      hashed: this.#pictures.length,
      notHashed: this.#notHashed.size,
      list: all.slice(0, MAX_GROUPS_LISTED).map(({ pictures, lines, refs }) => ({ pictures, lines, refs })),
    };
  }
}
