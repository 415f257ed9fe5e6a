import { afterEach, describe, expect, it } from 'vitest';
import { sampleJpeg, sampleMp4 } from '../../../src/simulator/sample-media.js';
import { startSimulator, type Simulator } from '../../../src/simulator/server.js';
import { startSimulator as startKit, type TestSimulator } from '../../../src/testing/simulator.js';
import { fileForm, GLAIR_AUTH, OOTO_AUTH, post } from './helpers.js';

const started: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((s) => s.close()));
});

const ootoScore = async (url: string, bytes: Buffer): Promise<number> =>
  (await post(`${url}/api/v1.0/deepfake`, fileForm('photo', bytes, 'image/jpeg', 'p.jpg'), OOTO_AUTH)).json.result.deepfake.score as number;
const glairConfidence = async (url: string, bytes: Buffer): Promise<number> =>
  (await post(`${url}/face/v1/deepfake`, fileForm('video', bytes, 'video/mp4', 'v.mp4'), GLAIR_AUTH)).json.read.deepfake.confidence as number;

describe('scripted score drift', () => {
  it('shifts OOTO scores and GLAIR confidences by the vendor shift, clamped to [0, 1]', async () => {
    const s: Simulator = await startSimulator({ scoreShift: { ooto: -0.1, glair: 0.2 } });
    started.push(s);
    expect(await ootoScore(s.url, sampleJpeg({ directives: 'score=0.95' }))).toBeCloseTo(0.85, 9);
    expect(await ootoScore(s.url, sampleJpeg({ directives: 'score=0.05' }))).toBe(0);
    // GLAIR's confidence is the fake probability: a +0.2 genuine shift lowers it by 0.2.
    expect(await glairConfidence(s.url, sampleMp4({ directives: 'score=0.6' }))).toBeCloseTo(0.2, 9);
    s.configure({ scoreShift: {} });
    expect(await ootoScore(s.url, sampleJpeg({ directives: 'score=0.95' }))).toBe(0.95);
  });

  it('noise moves each call within ±noise, a fresh draw per call, reproducible with a seed', async () => {
    const draws = async (seed: number): Promise<number[]> => {
      const s = await startSimulator({ scoreNoise: 0.02, randomSeed: seed });
      started.push(s);
      const out: number[] = [];
      for (let i = 0; i < 20; i++) out.push(await ootoScore(s.url, sampleJpeg({ directives: 'score=0.5' })));
      return out;
    };
    const a = await draws(7);
    for (const v of a) expect(Math.abs(v - 0.5)).toBeLessThanOrEqual(0.02);
    expect(new Set(a).size).toBeGreaterThan(10);
    expect(await draws(7)).toEqual(a);
  });

  it('refuses out-of-range settings', async () => {
    await expect(startSimulator({ scoreShift: { ooto: 2 } })).rejects.toThrow(/scoreShift.ooto must be from −1 to 1/);
    await expect(startSimulator({ scoreNoise: -1 })).rejects.toThrow(/scoreNoise must be 0–0.5/);
  });

  it('the testing kit takes a scoreDrift and changes it between nights', async () => {
    const kit: TestSimulator = await startKit({ scoreDrift: { noise: 0 } });
    started.push(kit);
    const photo = sampleJpeg({ directives: 'score=0.93' });
    expect(await ootoScore(kit.url, photo)).toBe(0.93);
    kit.setScoreDrift({ shift: { ooto: -0.1 } });
    expect(await ootoScore(kit.url, photo)).toBeCloseTo(0.83, 9);
    kit.setScoreDrift({ shift: { glair: 0.1 } });
    // OOTO's shift is kept when only GLAIR's is given.
    expect(await ootoScore(kit.url, photo)).toBeCloseTo(0.83, 9);
  });
});
