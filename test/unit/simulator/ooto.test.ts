import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { sampleJpeg, sampleMp4, samplePng } from '../../../src/simulator/sample-media.js';
import { startSimulator, type Simulator } from '../../../src/simulator/server.js';
import { fileForm, OOTO_AUTH, post, shapeOf, UUID } from './helpers.js';
import { OOTO_ENGINE_TABLE, SAMPLE_JSON } from '../../fixtures/vendor-samples.js';

const { OOTO_DEEPFAKE_200, OOTO_ENGINE_ERROR_400, OOTO_IDENTIFY_200 } = SAMPLE_JSON;

let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator({ seedTemplates: [{ face: 'dora', templateId: 'tmpl-dora' }] });
});
afterAll(async () => {
  await sim.close();
});
beforeEach(() => sim.resetStats());

const deepfake = (form: FormData | undefined, headers = OOTO_AUTH) => post(`${sim.url}/api/v1.0/deepfake`, form, headers);
const identify = (form: FormData, query = '') => post(`${sim.url}/api/v1.0/identify${query}`, form, OOTO_AUTH);
const photo = (bytes: Uint8Array, type = 'image/jpeg') => fileForm('photo', bytes, type, type === 'image/png' ? 'p.png' : 'p.jpg');

describe('OOTO POST /api/v1.0/deepfake', () => {
  it('answers exactly the seed shape, with a fresh transaction id each time', async () => {
    const a = await deepfake(photo(sampleJpeg({ directives: 'genuine' })));
    const b = await deepfake(photo(sampleJpeg({ directives: 'genuine' })));
    expect(a.status).toBe(200);
    expect(a.headers.get('content-type')).toMatch(/^application\/json/);
    expect(shapeOf(a.json)).toEqual(shapeOf(OOTO_DEEPFAKE_200));
    expect(a.json.transactionId).toMatch(UUID);
    expect(b.json.transactionId).not.toBe(a.json.transactionId);
    expect(a.json.result.deepfake.score).toBe(b.json.result.deepfake.score);
  });

  it('honours genuine / fake / score= and sets fine at 0.9', async () => {
    const genuine = await deepfake(photo(samplePng({ directives: 'genuine' }), 'image/png'));
    expect(genuine.json.result.deepfake.score).toBeGreaterThanOrEqual(0.9);
    expect(genuine.json.result.deepfake.fine).toBe(true);
    const fake = await deepfake(photo(samplePng({ directives: 'fake' }), 'image/png'));
    expect(fake.json.result.deepfake.score).toBeLessThan(0.5);
    expect(fake.json.result.deepfake.fine).toBe(false);
    const exact = await deepfake(photo(sampleJpeg({ directives: 'score=0.9' })));
    expect(exact.json.result.deepfake).toEqual({ score: 0.9, fine: true });
    const below = await deepfake(photo(sampleJpeg({ directives: 'score=0.8999' })));
    expect(below.json.result.deepfake).toEqual({ score: 0.8999, fine: false });
  });

  it('derives the outcome from the hash without a directive: deterministic, mostly genuine', async () => {
    const scores: number[] = [];
    for (let seed = 0; seed < 60; seed += 1) {
      const r = await deepfake(photo(sampleJpeg({ seed })));
      expect(r.status).toBe(200);
      scores.push(r.json.result.deepfake.score as number);
    }
    const fakes = scores.filter((s) => s < 0.9).length;
    expect(fakes).toBeGreaterThan(0);
    expect(fakes).toBeLessThan(25);
    const again = await deepfake(photo(sampleJpeg({ seed: 7 })));
    expect(again.json.result.deepfake.score).toBe(scores[7]);
  });

  it('puts the box and landmarks inside the picture', async () => {
    const r = await deepfake(photo(samplePng({ width: 200, height: 160 }), 'image/png'));
    const { x, y, w, h } = r.json.result.box as { x: number; y: number; w: number; h: number };
    expect(x + w).toBeLessThanOrEqual(200);
    expect(y + h).toBeLessThanOrEqual(160);
    expect(r.json.result.landmarks).toHaveLength(5);
  });

  const engineCases: [string, () => FormData, number][] = [
    ['no photo field', () => fileForm('picture', sampleJpeg(), 'image/jpeg'), 1],
    ['an empty form', () => new FormData(), 1],
    ['an mp4', () => photo(sampleMp4(), 'application/octet-stream'), 2],
    ['a JPEG declared as video/mp4', () => photo(sampleJpeg(), 'video/mp4'), 2],
    ['text bytes', () => photo(Buffer.from('hello, world'), 'image/jpeg'), 2],
    ['0 bytes', () => photo(Buffer.alloc(0)), 3],
    ['a truncated PNG (no IEND)', () => photo(samplePng().subarray(0, 300), 'image/png'), 4],
    ['a truncated JPEG (no FFD9)', () => photo(sampleJpeg().subarray(0, 400)), 4],
    ['noface', () => photo(sampleJpeg({ directives: 'noface' })), 5],
    ['faces=2', () => photo(samplePng({ directives: 'faces=2' }), 'image/png'), 6],
    ['small', () => photo(sampleJpeg({ directives: 'small' })), 9],
  ];
  it.each(engineCases)('%s → engine code %i, with the seed shape and text', async (_name, form, code) => {
    const r = await deepfake(form());
    expect(r.status).toBe(400);
    expect(shapeOf(r.json)).toEqual(shapeOf(OOTO_ENGINE_ERROR_400));
    expect(r.json.transactionId).toMatch(UUID);
    expect(r.json.result).toEqual({ status: 'error', code, info: OOTO_ENGINE_TABLE[code] });
  });

  it('answers engine code 1 to a request without a body or with a JSON one', async () => {
    expect((await deepfake(undefined)).json.result.code).toBe(1);
    const json = await post(`${sim.url}/api/v1.0/deepfake`, '{"photo":"abc"}', OOTO_AUTH);
    expect(json.status).toBe(400);
    expect(json.json.result.code).toBe(1);
  });

  it('refuses missing or wrong credentials with 401 and a transaction id', async () => {
    for (const headers of [{}, { 'APP-ID': 'sim-app-id' }, { ...OOTO_AUTH, 'APP-KEY': 'nope' }]) {
      const r = await deepfake(photo(sampleJpeg()), headers);
      expect(r.status).toBe(401);
      expect(r.json.transactionId).toMatch(UUID);
      expect(r.json.result.status).toBe('error');
      expect(r.json.result.code).toBeUndefined();
    }
  });
});

describe('OOTO POST /api/v1.0/identify', () => {
  it('answers the seed shape with liveness and deepfake when both flags are true', async () => {
    const r = await identify(photo(sampleJpeg({ directives: 'face=dora' })), '?check_liveness=true&check_deepfake=true');
    expect(r.status).toBe(200);
    expect(shapeOf(r.json)).toEqual(shapeOf(OOTO_IDENTIFY_200));
    expect(r.json.transactionId).toMatch(UUID);
    expect(r.json.result.templateId).toBe('tmpl-dora');
    expect(r.json.result.similarity).toBeGreaterThanOrEqual(0.9);
    expect(r.json.result.similarity).toBeLessThanOrEqual(1);
  });

  it('leaves liveness / deepfake out unless asked', async () => {
    const bytes = sampleJpeg({ directives: 'face=dora' });
    const none = await identify(photo(bytes));
    expect(Object.keys(none.json.result.face as object)).toEqual(['box', 'landmarks', 'quality']);
    const { liveness: _l, deepfake: _d, ...bare } = OOTO_IDENTIFY_200.result.face;
    expect(shapeOf(none.json.result.face)).toEqual(shapeOf(bare));
    const live = await identify(photo(bytes), '?check_liveness=true&check_deepfake=false');
    expect(Object.keys(live.json.result.face as object)).toEqual(['box', 'landmarks', 'liveness', 'quality']);
    const deep = await identify(photo(bytes), '?check_deepfake=true');
    expect(Object.keys(deep.json.result.face as object)).toEqual(['box', 'landmarks', 'deepfake', 'quality']);
  });

  it('the deepfake flag reports the same score as /deepfake, and fake media fail liveness', async () => {
    const bytes = sampleJpeg({ directives: 'fake,face=eve' });
    const viaIdentify = await identify(photo(bytes), '?check_liveness=true&check_deepfake=true');
    const viaDeepfake = await deepfake(photo(bytes));
    expect(viaIdentify.json.result.face.deepfake).toEqual(viaDeepfake.json.result.deepfake);
    expect(viaIdentify.json.result.face.liveness.fine).toBe(false);
  });

  it('scores a different or absent identity below 0.5', async () => {
    const other = await identify(photo(sampleJpeg({ directives: 'face=mallory' })));
    expect(other.json.result.templateId).toEqual(expect.any(String));
    expect(other.json.result.similarity).toBeLessThan(0.5);
    const absent = await identify(photo(sampleJpeg({ seed: 42 })));
    expect(absent.json.result.similarity).toBeLessThan(0.5);
    const again = await identify(photo(sampleJpeg({ seed: 42 })));
    expect(again.json.result).toMatchObject({ templateId: absent.json.result.templateId, similarity: absent.json.result.similarity });
  });

  it('finds templates enrolled by POST /add (the same photo scores 1) and by addTemplate()', async () => {
    const form = photo(samplePng({ seed: 77 }), 'image/png');
    form.append('templateId', 'tmpl-77');
    const added = await post(`${sim.url}/api/v1.0/add`, form, OOTO_AUTH);
    expect(added.status).toBe(200);
    expect(added.json).toEqual({ transactionId: expect.stringMatching(UUID), result: { templateId: 'tmpl-77' } });
    const same = await identify(photo(samplePng({ seed: 77 }), 'image/png'));
    expect(same.json.result).toMatchObject({ templateId: 'tmpl-77', similarity: 1 });

    const generated = await post(`${sim.url}/api/v1.0/add`, photo(sampleJpeg({ directives: 'face=frank' })), OOTO_AUTH);
    expect(generated.json.result.templateId).toMatch(UUID);
    const frank = await identify(photo(samplePng({ seed: 3, directives: 'face=frank' }), 'image/png'));
    expect(frank.json.result.templateId).toBe(generated.json.result.templateId);
    expect(frank.json.result.similarity).toBeGreaterThanOrEqual(0.9);
    expect(frank.json.result.similarity).toBeLessThan(1);

    const id = sim.addTemplate(sampleJpeg({ directives: 'face=grace' }));
    const grace = await identify(photo(sampleJpeg({ seed: 1, directives: 'face=grace' })));
    expect(grace.json.result.templateId).toBe(id);
    expect(sim.stats().callsByEndpoint['ooto-add']).toBe(2);
  });

  it('refuses to enrol a photo without a face', async () => {
    const r = await post(`${sim.url}/api/v1.0/add`, photo(sampleJpeg({ directives: 'noface' })), OOTO_AUTH);
    expect(r.status).toBe(400);
    expect(r.json.result.code).toBe(5);
  });

  it('answers the engine errors too', async () => {
    const r = await identify(photo(sampleJpeg({ directives: 'faces=2,face=dora' })), '?check_liveness=true');
    expect(r.status).toBe(400);
    expect(r.json.result).toEqual({ status: 'error', code: 6, info: OOTO_ENGINE_TABLE[6] });
  });
});

describe('OOTO identify against an empty database', () => {
  it('answers similarity 0 and templateId null', async () => {
    const empty = await startSimulator();
    try {
      const r = await post(`${empty.url}/api/v1.0/identify`, photo(sampleJpeg({ directives: 'face=nobody' })), OOTO_AUTH);
      expect(r.status).toBe(200);
      expect(r.json.result.templateId).toBeNull();
      expect(r.json.result.similarity).toBe(0);
    } finally {
      await empty.close();
    }
  });
});
