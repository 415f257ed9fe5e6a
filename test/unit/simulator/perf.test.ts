import { it } from 'vitest';
import { sampleJpeg, samplePng, sampleMp4 } from '../../../src/simulator/sample-media.js';
import { startSimulator } from '../../../src/simulator/server.js';
import { OOTO_AUTH, GLAIR_AUTH } from './helpers.js';
import { request, Agent, FormData as UFormData } from 'undici';
const uform = (field: string, bytes: Buffer, type: string, name: string) => { const f = new UFormData(); f.append(field, new Blob([new Uint8Array(bytes)], { type }), name); return f; };
it('perf', async () => {
  let t = performance.now();
  for (let i = 0; i < 100; i++) sampleJpeg({ seed: i });
  console.log('jpeg ms/each', (performance.now() - t) / 100);
  t = performance.now();
  for (let i = 0; i < 100; i++) samplePng({ seed: i });
  console.log('png ms/each', (performance.now() - t) / 100);
  const sim = await startSimulator();
  const bytes = sampleJpeg({ seed: 1 });
  const agent = new Agent({ connections: 16 });
  for (const conc of [1, 16]) {
    t = performance.now();
    const N = 3000;
    let next = 0;
    await Promise.all(Array.from({ length: conc }, async () => {
      while (next++ < N) {
        const r = await request(`${sim.url}/api/v1.0/deepfake`, { method: 'POST', body: uform('photo', bytes, 'image/jpeg', 'a.jpg'), headers: OOTO_AUTH, dispatcher: agent });
        await r.body.text();
      }
    }));
    console.log(`conc ${conc}: calls/s`, Math.round(N / ((performance.now() - t) / 1000)));
  }
  const mp4 = sampleMp4({ directives: 'fake' });
  t = performance.now();
  let next = 0;
  await Promise.all(Array.from({ length: 16 }, async () => {
    while (next++ < 3000) {
      const r = await request(`${sim.url}/face/v1/deepfake`, { method: 'POST', body: uform('video', mp4, 'video/mp4', 'a.mp4'), headers: GLAIR_AUTH, dispatcher: agent });
      await r.body.text();
    }
  }));
  console.log('glair calls/s', Math.round(3000 / ((performance.now() - t) / 1000)));
  await agent.close();
  await sim.close();
}, 60000);
