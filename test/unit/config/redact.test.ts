/**
 * Redaction keeps secrets out of messages without garbling them (issue 16, a new user's app id
 * `fake` turned `POST /api/v1.0/deepfake` into `…/deep[redacted]`, which also told the credential).
 */
import { describe, expect, it } from 'vitest';
import { ConfigError, configRedactor } from '../../../src/config/config.js';
import { secretRedactor } from '../../../src/config/redact.js';
import { loadConfig } from '../../../src/runtime/built-ins.js';

describe('secret redaction', () => {
  const redact = configRedactor(loadConfig({ OOTO_APP_ID: 'fake', OOTO_APP_KEY: 'k3y-Long-Enough-5b2d', GLAIR_USERNAME: 'user', GLAIR_PASSWORD: 'pass', GLAIR_API_KEY: 'gk-1' }));

  it('leaves a word that merely contains a short credential whole', () => {
    const message = 'OOTO POST /api/v1.0/deepfake answered HTTP 500; deepfakes: 0; userland password-less';
    expect(redact(message)).toBe(message);
  });

  it('takes a short credential out wherever it stands as a token of its own', () => {
    expect(redact('APP-ID: fake')).toBe('APP-ID: [redacted]');
    expect(redact('{"appId":"fake","name":"user"}')).toBe('{"appId":"[redacted]","name":"[redacted]"}');
    expect(redact('app-id=fake&x=1')).toBe('app-id=[redacted]&x=1');
    expect(redact('fake')).toBe('[redacted]');
    expect(redact('key gk-1.')).toBe('key [redacted].');
  });

  it('takes a long credential out even glued inside a longer string', () => {
    expect(redact('xk3y-Long-Enough-5b2dy')).toBe('x[redacted]y');
    expect(redact('header app-key=k3y-Long-Enough-5b2d')).toBe('header app-key=[redacted]');
  });

  it("takes out GLAIR's Basic form, and the base64 alone", () => {
    const basic = Buffer.from('user:pass').toString('base64');
    expect(redact(`authorization: Basic ${basic}`)).not.toContain(basic);
    expect(redact(`{"authorization":"Basic ${basic}"}`)).toBe('{"authorization":"[redacted]"}');
  });

  it('prefers the longer secret where two overlap, so none is half-replaced', () => {
    const r = secretRedactor(['abcd', 'abcd-efgh-ijkl-mnop']);
    expect(r('[abcd-efgh-ijkl-mnop]')).toBe('[[redacted]]');
    expect(r('abcd-x')).toBe('[redacted]-x');
  });

  it('credentials too short to keep out of logs are refused at start-up, without echoing them', () => {
    expect(() => loadConfig({ OOTO_APP_ID: 'abc' })).toThrow(ConfigError);
    let message = '';
    try {
      loadConfig({ OOTO_APP_ID: 'xyz', GLAIR_API_KEY: 'q1' });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/^invalid configuration: OOTO_APP_ID must be at least 4 characters .*; GLAIR_API_KEY must be at least 4 characters/);
    expect(message).not.toMatch(/xyz|q1/);
  });
});
