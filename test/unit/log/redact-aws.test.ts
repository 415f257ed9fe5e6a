/**
 * The logger's second line of defence for AWS credentials (s3:// media): a stray object that
 * carries them (an SDK config, a credential provider's answer) is logged with them censored, the key
 * id included.
 */
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/log/logger.js';

describe('logger redaction of AWS credentials', () => {
  it('censors accessKeyId, secretAccessKey and sessionToken at the top level and one level down', () => {
    const lines: string[] = [];
    const log = createLogger('info', { pretty: false, destination: { write: (line: string) => void lines.push(line) } });
    const identity = { accessKeyId: 'AKIDEXAMPLE1', secretAccessKey: 'wJalrXUtnFEMI-secret', sessionToken: 'FwoGZXIvYXdz-token' };
    log.info({ ...identity, bucket: 'media' }, 'top level');
    log.info({ resolved: identity, bucket: 'media' }, 'one level down');
    log.info({ config: { credentials: identity } }, 'under credentials');
    expect(lines).toHaveLength(3);
    const text = lines.join('\n');
    for (const value of Object.values(identity)) expect(text).not.toContain(value);
    expect(text).toContain('[redacted]');
    expect(text).toContain('"bucket":"media"');
  });
});
