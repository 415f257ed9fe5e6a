/**
 * The four processors with injected fakes: verdict and score mapping exactly as the README's table of checks says.
 */
import { describe, expect, it } from 'vitest';
import type { ProcessorDeps } from '../../../src/checks/processor.js';
import type { JobPayload } from '../../../src/checks/types.js';
import type { MediaBlob, MediaLoader } from '../../../src/media/types.js';
import type { GlairClient, OotoClient } from '../../../src/vendors/types.js';
import { CHECK_MODULES } from '../../../jobs/index.js';
import { CheckRegistry, type AnyCheckModule } from '../../../src/checks/registry.js';
import { BUILT_INS, buildRegistries } from '../../../src/runtime/built-ins.js';
import { VENDORS } from '../../../src/vendors/registry.js';

const processor = (name: string) => BUILT_INS.checks.get(name).processor;

const blob: MediaBlob = { bytes: Buffer.from('x'), mime: 'image/jpeg', filename: 'a.jpg' };
const media: MediaLoader = {
  loadPhoto: async () => blob,
  loadVideo: async () => ({ ...blob, mime: 'video/mp4' }),
  loadFrames: async (refs) => refs.map(() => blob),
};

// The processor gets its vendor's client (the runner looks it up in the vendor registry).
function deps(over: { ooto?: Partial<OotoClient>; glair?: Partial<GlairClient> }): ProcessorDeps<OotoClient & GlairClient> {
  return { media, client: (over.ooto ?? over.glair) as OotoClient & GlairClient, identifyMatchThreshold: 0.75 };
}

const base = { batch: 'b', line: 1, subject: null, baseDir: '/' } as const;
const payload = (p: Partial<JobPayload>): JobPayload => ({ ...base, check: 'ooto-deepfake', ref: 'a.jpg', ...p });

describe('processors', () => {
  it('every check has one', () => {
    expect(() => buildRegistries()).not.toThrow();
    // Start-up refuses a check module without a processor, naming it.
    const broken = CHECK_MODULES.map((m) => (m.name === 'ooto-identify' ? ({ ...m, processor: undefined } as unknown as AnyCheckModule) : m));
    expect(() => new CheckRegistry(broken, VENDORS)).toThrow(/ooto-identify/);
  });

  it.each([
    [true, 0.95, 'genuine'],
    [false, 0.42, 'deepfake'],
  ])('ooto-deepfake: fine=%s → %s', async (fine, score, verdict) => {
    const ooto = { deepfake: async () => ({ transactionId: 't', status: 200, result: { fine, score }, body: { raw: 1 } }) };
    expect(await processor('ooto-deepfake')(payload({}), deps({ ooto }))).toEqual({
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
    const out = await processor('ooto-identify')(
      payload({ check: 'ooto-identify', options: { checkLiveness: true } }),
      deps({ ooto }),
    );
    expect(out).toMatchObject({ verdict, score: similarity, fields: { templateId: 'tmpl' } });
    expect(flags).toEqual({ checkLiveness: true });
  });

  it.each([
    ['real', 0.06415167450904846, 'genuine'],
    ['fake', 0.99768, 'deepfake'],
  ] as const)('glair: %s with confidence %s → %s, score = 1 − confidence', async (value, confidence, verdict) => {
    const answer = { transactionId: 'req-1', status: 200, result: { value, confidence }, body: {} };
    const glair = { video: async () => answer, frames: async () => answer };
    const video = await processor('glair-video')(payload({ check: 'glair-video', ref: 'v.mp4' }), deps({ glair }));
    const frames = await processor('glair-frames')(payload({ check: 'glair-frames', frames: ['1.jpg', '2.jpg'] }), deps({ glair }));
    for (const out of [video, frames]) {
      expect(out.verdict).toBe(verdict);
      expect(out.score).toBeCloseTo(1 - confidence, 10);
      expect(out.transactionId).toBe('req-1');
    }
  });
});
