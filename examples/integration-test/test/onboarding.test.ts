import { afterAll, beforeAll, expect, test } from 'vitest';
import { assertOneRecordPerLine, createTestEnv, frames, outcomesOf, photo, startSimulator, video } from 'rescreen/testing';
import type { TestEnv, TestSimulator } from 'rescreen/testing';

// A photo whose first vendor call fails with a 503: the pipeline retries it and it still ends genuine.
const flaky = photo({ seed: 9 });

let simulator: TestSimulator;
let env: TestEnv;

beforeAll(async () => {
  simulator = await startSimulator({ outcomes: [{ media: flaky, outcome: { fail: '503', times: 1 } }] });
  env = await createTestEnv({ simulator, label: 'example' });
});

afterAll(async () => {
  await env?.cleanup(); // every key under env.prefix, and env.dir
  await simulator?.close();
});

test('a 10-line onboarding batch gets the verdicts its samples ask for', async () => {
  simulator.enrol('alice'); // Alice is in the 1:N database
  await env.file('alice.jpg', photo({ face: 'alice', seed: 1 }));
  await env.file('mallory.png', photo({ outcome: 'deepfake', format: 'png', seed: 2 }));
  await env.file('blank.jpg', photo({ outcome: 'noface', seed: 3 }));
  await env.file('alice-again.jpg', photo({ face: 'alice', seed: 4 }));
  await env.file('stranger.jpg', photo({ face: 'stranger', seed: 5 }));
  await env.file('live.mp4', video({ seed: 6 }));
  await env.file('fake.mp4', video({ outcome: 'deepfake', seed: 7 }));
  const [f1, f2, f3] = frames(3, { seed: 8 });
  await env.file('frames/1.jpg', f1!);
  await env.file('frames/2.jpg', f2!);
  await env.file('frames/3.jpg', f3!);
  await env.file('flaky.jpg', flaky);

  const lines = [
    { ref: 'alice.jpg', check: 'ooto-deepfake', subject: 'alice' },
    { ref: 'mallory.png', check: 'ooto-deepfake', subject: 'mallory' },
    { ref: 'blank.jpg', check: 'ooto-deepfake', subject: 'blank' },
    { ref: 'alice-again.jpg', check: 'ooto-identify', subject: 'alice' },
    { ref: 'stranger.jpg', check: 'ooto-identify', subject: 'stranger' },
    { ref: 'live.mp4', check: 'glair-video', subject: 'alice' },
    { ref: 'fake.mp4', check: 'glair-video', subject: 'mallory' },
    { frames: ['frames/1.jpg', 'frames/2.jpg', 'frames/3.jpg'], check: 'glair-frames', subject: 'alice' },
    { ref: 'flaky.jpg', check: 'ooto-deepfake', subject: 'flaky' },
    { ref: 'missing.jpg', check: 'ooto-deepfake', subject: 'ghost' },
  ];

  const rescreen = await env.rescreen(); // closed by env.cleanup()
  await rescreen.work(); // workers in this process, pointed at the simulator
  const { batch } = await rescreen.enqueue({ lines, baseDir: env.dir }, { batch: 'onboarding' });
  await env.waitForBatch(batch, { timeoutMs: 30_000 });

  const records = await env.records(batch);
  assertOneRecordPerLine(records, 10);
  expect(outcomesOf(records)).toEqual([
    'genuine',
    'deepfake',
    'rejected:5', // OOTO engine error 5: no face
    'match',
    'no-match',
    'genuine',
    'deepfake',
    'genuine',
    'genuine', // after one 503
    'failed:MEDIA_NOT_FOUND',
  ]);
  expect(simulator.callsFor(flaky).map((call) => call.status)).toEqual([503, 200]);
});
