/**
 * Issue 20 acceptance: the dry run of a folder with 10 near-duplicate pairs (two of each of the five
 * alterations of src/testing/faces.ts) reports exactly those 10 groups and makes no vendor call.
 * Beside them: 10 distinct faces (in no group), a byte-identical copy of one original (`--dedupe`'s,
 * one picture here) and an undecodable JPEG (not hashed, never grouped).
 */
import { basename } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { enqueueBatch } from '../../../src/app/index.js';
import { formatEstimate } from '../../../src/cli/commands/enqueue.js';
import { ALTERATIONS, alter, faceJpeg } from '../../../src/testing/faces.js';
import { createHarness, type Harness } from '../../helpers/pipeline.js';

let h: Harness;
beforeEach(async () => {
  h = await createHarness('near-dry');
});
afterEach(async () => {
  await h.close();
});

describe('dry run: near-duplicate groups among local media, before any paid call', () => {
  it('a folder with 10 near-duplicate pairs (2 per alteration) reports those 10 groups; distinct faces are in none; no vendor call', async () => {
    const pairs: [string, string][] = [];
    for (const [i, how] of ALTERATIONS.flatMap((a) => [a, a]).entries()) {
      const original = await faceJpeg(500 + i);
      const copy = await alter(original, how);
      const ext = how === 'png-jpeg' ? 'png' : 'jpg';
      await h.file(`in/p${i}-orig.jpg`, original);
      await h.file(`in/p${i}-${how}.${ext}`, copy);
      pairs.push([`p${i}-orig.jpg`, `p${i}-${how}.${ext}`]);
    }
    for (let i = 0; i < 10; i++) await h.file(`in/d${i}.jpg`, await faceJpeg(700 + i));
    // The same bytes as p0's original under another name: one picture (what --dedupe counts), no group of its own.
    await h.file('in/p0-same-bytes.jpg', await faceJpeg(500));
    const good = await faceJpeg(800);
    await h.file('in/z-truncated.jpg', good.subarray(0, Math.floor(good.length / 3)));

    const runtime = await h.openRuntime();
    try {
      const summary = await enqueueBatch(runtime, { manifest: `${h.dir}/in`, check: 'ooto-deepfake', batch: 'near-dry', dryRun: true });
      const near = summary.estimate!.nearDuplicates;
      expect(summary.lines).toBe(32);
      expect(near.groups).toBe(10);
      expect(near.pictures).toBe(20);
      // 20 pair pictures + 10 distinct faces; the identical copy is p0's picture; the truncated file is not hashed.
      expect(near.hashed).toBe(30);
      expect(near.notHashed).toBe(1);
      // Each group is exactly one original and its altered copy (and p0's identical bytes count as lines, not pictures).
      const groups = near.list.map((g) => g.refs.map((r) => basename(r)).sort());
      expect(groups.sort()).toEqual(pairs.map((p) => [...p].sort()).sort());
      expect(near.list.every((g) => g.pictures === 2)).toBe(true);
      expect(near.list.find((g) => g.refs.some((r) => r.endsWith('p0-orig.jpg')) || g.refs.some((r) => r.endsWith('p0-same-bytes.jpg')))?.lines).toBe(3);
      for (const g of near.list) expect(g.refs.some((r) => /\/d\d\.jpg$/.test(r))).toBe(false);
      // --dedupe's count sees only the identical bytes.
      expect(summary.estimate!.distinctPaidCalls).toBe(summary.estimate!.paidCalls - 1);

      const text = formatEstimate(summary.estimate!);
      expect(text).toContain('near-duplicate groups: 10 (20 distinct pictures of 30; ');
      expect(text).toContain('1 not hashed');
      expect(text.match(/^ {2}2 pictures, \d lines: /gm)).toHaveLength(10);

      expect(h.sim.stats().totalCalls).toBe(0);
      expect(await runtime.queues.ooto!.count()).toBe(0);
      expect(await runtime.store.summary('near-dry')).toBeNull();
    } finally {
      await runtime.close();
    }
  });
});
