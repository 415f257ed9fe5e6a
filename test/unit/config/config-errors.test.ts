/**
 * Every refused variable is one clear line: its name, what the value must be (the accepted range),
 * and — for values that are no secret — what it was. Never zod's own text ("Too small: expected
 * number to be >=1"), never a credential or a URL's password.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError, loadServerConfig } from '../../../src/config/config.js';
import { EnvSchema } from '../../../src/config/env-schema.js';
import { ServerEnvSchema } from '../../../src/config/server.js';
import { loadConfig } from '../../../src/runtime/built-ins.js';
import { BUILT_INS } from '../../../src/runtime/built-ins.js';

/** Values a hurried operator types; each variable refuses some of them. */
const CANDIDATES = ['0', '-1', '1.5', 'abc', 'x y', '99999999999999999999', 'ftp://h', 'http://x', '2'];
const ZOD_WORDS = /Too small|Too big|expected|Invalid input|Invalid string|invalid_/;

function refusal(load: () => unknown): string | undefined {
  try {
    load();
    return undefined;
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
}

const vendorVariables = BUILT_INS.vendors.flatMap((v) => [v.baseUrlVar, v.rateLimitVar, `${v.name.toUpperCase()}_PRICE_PER_CALL`]);

describe('configuration errors', () => {
  it.each([...Object.keys(EnvSchema.shape), ...vendorVariables])('%s: every refusal is one line naming it and what it must be', (name) => {
    let refused = 0;
    for (const value of CANDIDATES) {
      const message = refusal(() => loadConfig({ [name]: value }));
      if (message === undefined) continue;
      refused++;
      expect(message).toMatch(new RegExp(`^invalid configuration: ${name} must [^\\n]+$`));
      expect(message).not.toMatch(ZOD_WORDS);
    }
    // Variables that take free text (a path, a secret, host names) refuse none of these; the rest refuse some.
    const freeText = ['RESCREEN_WEBHOOK_SECRET', 'RESCREEN_SIGNING_KEY', 'RESCREEN_MEDIA_ALLOW_HOSTS'];
    if (!freeText.includes(name)) expect(refused, `${name} refused none of ${CANDIDATES.join(' ')}`).toBeGreaterThan(0);
  });

  it.each([
    ['RESCREEN_ATTEMPTS', '0', 'RESCREEN_ATTEMPTS must be a whole number ≥ 1 (got "0")'],
    ['RESCREEN_ATTEMPTS', 'five', 'RESCREEN_ATTEMPTS must be a whole number ≥ 1 (got "five")'],
    ['RESCREEN_LOCK_MS', '500', 'RESCREEN_LOCK_MS must be a whole number ≥ 1000 (got "500")'],
    ['RESCREEN_CONCURRENCY', '0', 'RESCREEN_CONCURRENCY must be auto or a whole number ≥ 1 (got "0")'],
    ['RESCREEN_QUOTA_RECHECK_MS', '10', 'RESCREEN_QUOTA_RECHECK_MS must be a whole number ≥ 50 (got "10")'],
  ])('%s=%s says the accepted range and the value', (name, value, expected) => {
    expect(refusal(() => loadConfig({ [name]: value }))).toBe(`invalid configuration: ${expected}`);
  });

  it('names every bad variable in one line', () => {
    const message = refusal(() => loadConfig({ RESCREEN_ATTEMPTS: '0', LOG_LEVEL: 'loud', OOTO_RATE_LIMIT: 'fast' }))!;
    expect(message.split('\n')).toHaveLength(1);
    for (const name of ['RESCREEN_ATTEMPTS', 'LOG_LEVEL', 'OOTO_RATE_LIMIT']) expect(message).toContain(name);
  });

  it('never echoes a URL (it may carry a password) or a token', () => {
    expect(refusal(() => loadConfig({ REDIS_URL: 'http://user:hunter2@h' }))).not.toContain('hunter2');
    expect(refusal(() => loadConfig({ RESCREEN_STORE_URL: 'mysql://user:hunter2@h' }))).not.toContain('hunter2');
    expect(refusal(() => loadConfig({ RESCREEN_WEBHOOK_URL: 'ftp://user:hunter2@h' }))).not.toContain('hunter2');
    expect(refusal(() => loadServerConfig({ RESCREEN_API_TOKEN: 'hunter2' }))).not.toContain('hunter2');
  });

  it('a whsec_ webhook secret must be base64 of at least 16 bytes; any other text is taken as it is', () => {
    for (const bad of ['whsec_hunter2!!', 'whsec_', 'whsec_aHVudGVyMg==']) {
      const message = refusal(() => loadConfig({ RESCREEN_WEBHOOK_URL: 'http://127.0.0.1/h', RESCREEN_WEBHOOK_SECRET: bad }));
      expect(message).toMatch(/^invalid configuration: RESCREEN_WEBHOOK_SECRET must be whsec_ followed by the base64/);
      expect(message).not.toContain('hunter2');
      expect(message).not.toContain('aHVudGVyMg');
    }
    const good = loadConfig({ RESCREEN_WEBHOOK_URL: 'http://127.0.0.1/h', RESCREEN_WEBHOOK_SECRET: `whsec_${Buffer.alloc(24, 1).toString('base64')}` });
    expect(good.webhook).toMatchObject({ legacySignature: true });
    const plain = loadConfig({ RESCREEN_WEBHOOK_URL: 'http://127.0.0.1/h', RESCREEN_WEBHOOK_SECRET: 'whsec-not-standard', RESCREEN_WEBHOOK_LEGACY_SIGNATURE: 'false' });
    expect(plain.webhook).toMatchObject({ secret: 'whsec-not-standard', legacySignature: false });
  });

  it.each(Object.keys(ServerEnvSchema.shape))('serve: %s refusals are one line in words', (name) => {
    for (const value of CANDIDATES) {
      const message = refusal(() => loadServerConfig({ [name]: value }));
      if (message === undefined) continue;
      expect(message).toMatch(new RegExp(`^invalid configuration: ${name} [^\\n]+$`));
      expect(message).not.toMatch(ZOD_WORDS);
    }
  });
});
