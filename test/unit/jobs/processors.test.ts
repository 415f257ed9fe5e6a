/**
 * The four processors with injected fakes: verdict and score mapping exactly as the README's table of checks says.
 */
import { describe, expect, it } from 'vitest';
import type { ProcessorDeps } from '../../../src/checks/processor.js';
import type { JobPayload } from '../../../src/checks/types.js';
import type { MediaBlob, MediaLoader } from '../../../src/media/types.js';
import type { GlairClient, OotoClient } from '../../../src/vendors/types.js';
import { PROCESSORS, assertEveryCheckHasProcessor } from '../../../jobs/index.js';

const blob: MediaBlob = { bytes: Buffer.from('x'), mime: 'image/jpeg', filename: 'a.jpg' };
const media: MediaLoader = {
  loadPhoto: async () => blob,
  loadVideo: async () => ({ ...blob, mime: 'video/mp4' }),
  loadFrames: async (refs) => refs.map(() => blob),
};

function deps(over: { ooto?: Partial<OotoClient>; glair?: Partial<GlairClient> }): ProcessorDeps {
  return { media, ooto: over.ooto as OotoClient, glair: over.glair as GlairClient, identifyMatchThreshold: 0.75 };
}

const base = { batch: 'b', line: 1, subject: null, baseDir: '/' } as const;
const payload = (p: Partial<JobPayload>): JobPayload => ({ ...base, check: 'ooto-deepfake', ref: 'a.jpg', ...p });

describe('processors', () => {
  it('every check has one', () => {
    expect(() => assertEveryCheckHasProcessor()).not.toThrow();
    expect(() => assertEveryCheckHasProcessor({ 'ooto-deepfake': PROCESSORS['ooto-deepfake'] })).toThrow(/ooto-identify/);
  });

  it.each([
    [true, 0.95, 'genuine'],
    [false, 0.42, 'deepfake'],
  ])('ooto-deepfake: fine=%s → %s', async (fine, score, verdict) => {
    const ooto = { deepfake: async () => ({ transactionId: 't', status: 200, result: { fine, score }, body: { raw: 1 } }) };
    expect(await PROCESSORS['ooto-deepfake'](payload({}), deps({ ooto }))).toEqual({
      verdict,
      score,
      transactionId: 't',
      response: { raw: 1 },
    });
  });

  it.each([
    [0.75, 'match'],
    [0.7499, 'no-match'],
    [1, 'match'],
  ])('ooto-identify: similarity %s → %s, template kept, flags passed through', async (similarity, verdict) => {
    let flags: unknown;
    const ooto = {
      identify: async (_p: MediaBlob, f: unknown) => {
        flags = f;
        return { transactionId: 't', status: 200, result: { similarity, templateId: 'tmpl' }, body: {} };
      },
    };
    const out = await PROCESSORS['ooto-identify'](
      payload({ check: 'ooto-identify', options: { checkLiveness: true } }),
      deps({ ooto }),
    );
    expect(out).toMatchObject({ verdict, score: similarity, templateId: 'tmpl' });
    expect(flags).toEqual({ checkLiveness: true });
  });

  it.each([
    ['real', 0.06415167450904846, 'genuine'],
    ['fake', 0.99768, 'deepfake'],
  ] as const)('glair: %s with confidence %s → %s, score = 1 − confidence', async (value, confidence, verdict) => {
    const answer = { transactionId: 'req-1', status: 200, result: { value, confidence }, body: {} };
    const glair = { video: async () => answer, frames: async () => answer };
    const video = await PROCESSORS['glair-video'](payload({ check: 'glair-video', ref: 'v.mp4' }), deps({ glair }));
    const frames = await PROCESSORS['glair-frames'](payload({ check: 'glair-frames', frames: ['1.jpg', '2.jpg'] }), deps({ glair }));
    for (const out of [video, frames]) {
      expect(out.verdict).toBe(verdict);
      expect(out.score).toBeCloseTo(1 - confidence, 10);
      expect(out.transactionId).toBe('req-1');
    }
  });
});
