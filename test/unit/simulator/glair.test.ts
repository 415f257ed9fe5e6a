import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sampleJpeg, sampleMp4, samplePng } from '../../../src/simulator/sample-media.js';
import { startSimulator, type Simulator } from '../../../src/simulator/server.js';
import { fileForm, GLAIR_AUTH, post, shapeOf, UUID, type Answer } from './helpers.js';
import { SAMPLE_JSON } from '../../fixtures/vendor-samples.js';

const { GLAIR_200_FAKE, GLAIR_200_REAL, GLAIR_400_NO_FILE } = SAMPLE_JSON;

let sim: Simulator;
beforeAll(async () => {
  sim = await startSimulator();
});
afterAll(async () => {
  await sim.close();
});

const seenRequestIds = new Set<string>();
/** Every GLAIR answer must carry a fresh UUID Request-Id header. */
function withRequestId(answer: Answer): Answer {
  const id = answer.headers.get('request-id');
  expect(id).toMatch(UUID);
  expect(seenRequestIds.has(id!)).toBe(false);
  seenRequestIds.add(id!);
  return answer;
}
const video = async (bytes: Uint8Array | null, headers = GLAIR_AUTH, field = 'video') =>
  withRequestId(await post(`${sim.url}/face/v1/deepfake`, bytes === null ? new FormData() : fileForm(field, bytes, 'video/mp4', 'v.mp4'), headers));
const frames = async (body: unknown, headers = GLAIR_AUTH) =>
  withRequestId(await post(`${sim.url}/face/v1/deepfake/images`, typeof body === 'string' ? body : JSON.stringify(body), headers));
const b64 = (bytes: Buffer) => bytes.toString('base64');

describe('GLAIR POST /face/v1/deepfake (video)', () => {
  it('answers exactly the seed shape', async () => {
    const fake = await video(sampleMp4({ directives: 'fake' }));
    expect(fake.status).toBe(200);
    expect(shapeOf(fake.json)).toEqual(shapeOf(GLAIR_200_FAKE));
    expect(fake.json).toMatchObject({ reason: 'File Successfully Read', status: 'SUCCESS', read: { deepfake: { value: 'fake' } } });
    expect(fake.json.read.deepfake.confidence).toBeGreaterThanOrEqual(0.5);
    const real = await video(sampleMp4({ directives: 'genuine' }));
    expect(shapeOf(real.json)).toEqual(shapeOf(GLAIR_200_REAL));
    expect(real.json.read.deepfake.value).toBe('real');
    expect(real.json.read.deepfake.confidence).toBeLessThan(0.1);
  });

  it('reports confidence as the fake probability: 1 − score=', async () => {
    const r = await video(sampleMp4({ directives: 'score=0.25' }));
    expect(r.json.read.deepfake).toEqual({ confidence: 0.75, value: 'fake' });
  });

  it('is deterministic without a directive', async () => {
    const a = await video(sampleMp4({ seed: 11 }));
    const b = await video(sampleMp4({ seed: 11 }));
    expect(a.json.read).toEqual(b.json.read);
  });

  it('answers 400 "No file in request body" without a video part', async () => {
    for (const r of [await video(null), await video(sampleMp4(), GLAIR_AUTH, 'file'), await video(Buffer.alloc(0))]) {
      expect(r.status).toBe(400);
      expect(r.json).toEqual(GLAIR_400_NO_FILE);
    }
  });

  it('answers 415 FILE_INVALID_FORMAT to anything but an mp4', async () => {
    const r = await video(sampleJpeg());
    expect(r.status).toBe(415);
    expect(r.json).toEqual({ status: 'FILE_INVALID_FORMAT', reason: expect.any(String) });
  });

  it('answers 400 FAILED "File too large" above 6 MB, and accepts exactly 6 MB', async () => {
    const big = await video(sampleMp4({ directives: 'genuine', padToBytes: 7 * 1024 * 1024 }));
    expect(big.status).toBe(400);
    expect(big.json).toEqual({ status: 'FAILED', reason: 'File too large' });
    const atCap = await video(sampleMp4({ directives: 'genuine', padToBytes: 6 * 1024 * 1024 }));
    expect(atCap.status).toBe(200);
  });

  it('answers 200 with status FAILED and no read when no face is found', async () => {
    const r = await video(sampleMp4({ directives: 'noface' }));
    expect(r.status).toBe(200);
    expect(r.json.status).toBe('FAILED');
    expect(r.json.read).toBeUndefined();
    expect(r.json.reason).toEqual(expect.any(String));
  });

  it('refuses missing or wrong credentials with 401 UNAUTHORIZED', async () => {
    const cases: Record<string, string>[] = [
      {},
      { Authorization: GLAIR_AUTH.Authorization! },
      { 'x-api-key': GLAIR_AUTH['x-api-key']! },
      { ...GLAIR_AUTH, Authorization: `Basic ${Buffer.from('sim-user:wrong').toString('base64')}` },
      { ...GLAIR_AUTH, 'x-api-key': 'wrong' },
    ];
    for (const headers of cases) {
      const r = await video(sampleMp4(), headers);
      expect(r.status).toBe(401);
      expect(r.json).toEqual({ status: 'UNAUTHORIZED', reason: expect.any(String) });
    }
  });
});

describe('GLAIR POST /face/v1/deepfake/images (frames)', () => {
  it('answers exactly the seed shape for JPEG and PNG frames', async () => {
    const r = await frames({ frames: [b64(sampleJpeg({ seed: 1 })), b64(samplePng({ seed: 2 })), b64(sampleJpeg({ seed: 3 }))] });
    expect(r.status).toBe(200);
    expect(shapeOf(r.json)).toEqual(shapeOf(GLAIR_200_REAL));
  });

  it('honours a directive in any frame', async () => {
    const r = await frames({ frames: [b64(sampleJpeg({ seed: 1 })), b64(sampleJpeg({ directives: 'fake' }))] });
    expect(r.json.read.deepfake.value).toBe('fake');
    const noface = await frames({ frames: [b64(samplePng({ directives: 'noface' }))] });
    expect(noface.status).toBe(200);
    expect(noface.json.status).toBe('FAILED');
  });

  it('answers 400 "No file in request body" without frames', async () => {
    for (const body of [{}, { frames: [] }, { frames: 'nope' }, '']) {
      const r = await frames(body);
      expect(r.status).toBe(400);
      expect(r.json).toEqual(GLAIR_400_NO_FILE);
    }
  });

  it('answers 415 to a frame that is not a JPEG/PNG', async () => {
    for (const bad of [b64(sampleMp4()), b64(Buffer.from('hello')), 42]) {
      const r = await frames({ frames: [b64(sampleJpeg()), bad] });
      expect(r.status).toBe(415);
      expect(r.json.status).toBe('FILE_INVALID_FORMAT');
    }
  });

  it('answers 400 FAILED "File too large" when the decoded frames exceed 6 MB in total', async () => {
    const frame = b64(samplePng({ padToBytes: 3.5 * 1024 * 1024 }));
    const r = await frames({ frames: [frame, frame] });
    expect(r.status).toBe(400);
    expect(r.json).toEqual({ status: 'FAILED', reason: 'File too large' });
  });

  it('refuses bad credentials with 401', async () => {
    const r = await frames({ frames: [b64(sampleJpeg())] }, {});
    expect(r.status).toBe(401);
    expect(r.json.status).toBe('UNAUTHORIZED');
  });
});

describe('GLAIR legacy shape', () => {
  it('answers {"status":"SUCCESS","result":{deepfake_status, confidence_score}} when asked, at start or at run time', async () => {
    const legacy = await startSimulator({ glairLegacyShape: true });
    try {
      const r = await post(`${legacy.url}/face/v1/deepfake`, fileForm('video', sampleMp4({ directives: 'score=0.1' }), 'video/mp4', 'v.mp4'), GLAIR_AUTH);
      expect(r.status).toBe(200);
      expect(r.json).toEqual({ status: 'SUCCESS', result: { deepfake_status: 'fake', confidence_score: 0.9 } });
      expect(r.headers.get('request-id')).toMatch(UUID);
      legacy.configure({ glairLegacyShape: false });
      const current = await post(`${legacy.url}/face/v1/deepfake/images`, JSON.stringify({ frames: [b64(sampleJpeg({ directives: 'genuine' }))] }), GLAIR_AUTH);
      expect(shapeOf(current.json)).toEqual(shapeOf(GLAIR_200_REAL));
    } finally {
      await legacy.close();
    }
  });
});

describe('GLAIR unknown paths', () => {
  it('answers 404 with a Request-Id', async () => {
    const r = withRequestId(await post(`${sim.url}/face/v1/nothing`, '{}', GLAIR_AUTH));
    expect(r.status).toBe(404);
  });
});
