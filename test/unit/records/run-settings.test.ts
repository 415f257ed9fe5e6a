import { describe, expect, it } from 'vitest';
import { RunSettingsRecorder } from '../../../src/records/run-settings.js';
import { originOf, publicBaseUrl, runSettingsHash, type RunSettings } from '../../../src/store/run-settings.js';
import { MemoryResultStore } from '../../helpers/memory-result-store.js';

const settings = (vendor: string): RunSettings => ({
  rescreenVersion: '0.1.0',
  vendor,
  baseUrl: 'http://127.0.0.1:4010',
  simulator: true,
  identifyMatchThreshold: 0.75,
  keepResponse: 'minimal',
  maxResponseBytes: 65_536,
});

describe('run settings', () => {
  it('a base URL loses user, password, query string and fragment; an origin is scheme, host and port only', () => {
    expect(publicBaseUrl('https://user:s3cret@api.ooto.example:8443/v1/?token=abc#frag')).toBe('https://api.ooto.example:8443/v1');
    expect(publicBaseUrl('http://127.0.0.1:4010/')).toBe('http://127.0.0.1:4010');
    expect(publicBaseUrl('not a url')).toBe('(not a URL)');
    expect(originOf('https://user:s3cret@api.ooto.example:8443/v1/?token=abc')).toBe('https://api.ooto.example:8443');
    expect(originOf('')).toBeNull();
  });

  it('the hash covers the settings only, in a fixed order', () => {
    const a = settings('ooto');
    const reordered = Object.fromEntries(Object.entries(a).reverse()) as unknown as RunSettings;
    expect(runSettingsHash(reordered)).toBe(runSettingsHash(a));
    expect(runSettingsHash({ ...a, identifyMatchThreshold: 0.8 })).not.toBe(runSettingsHash(a));
  });

  it('the recorder describes each vendor once and writes each (batch, settings) once per process', async () => {
    const store = new MemoryResultStore();
    let writes = 0;
    const counting = { recordRunSettings: (...args: Parameters<MemoryResultStore['recordRunSettings']>) => ((writes += 1), store.recordRunSettings(...args)) };
    const described: string[] = [];
    const recorder = new RunSettingsRecorder(counting, (vendor) => (described.push(vendor), Promise.resolve(settings(vendor))), () => new Date('2026-12-01T00:00:00Z'));
    for (let i = 0; i < 5; i++) await recorder.record('b1', 'ooto');
    await recorder.record('b1', 'glair');
    await recorder.record('b2', 'ooto');
    expect(described).toEqual(['ooto', 'glair']);
    expect(writes).toBe(3);
    expect((await store.runSettings('b1')).map((e) => e.vendor).sort()).toEqual(['glair', 'ooto']);
    expect(await store.runSettings('b2')).toMatchObject([{ vendor: 'ooto', firstSeenAt: '2026-12-01T00:00:00.000Z' }]);
  });
});
