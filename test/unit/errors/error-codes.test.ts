/**
 * The error codes are a closed list: every local code that src/ raises or writes is in `ErrorCodes`,
 * and every one of `ErrorCodes` is in the README's list (section "The result record", `error` row).
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/config/config.js';
import { ErrorCodes, RescreenError, VendorRejectedError, vendorCode } from '../../../src/errors/errors.js';
import { meaningOf } from '../../../src/errors/meanings.js';
import { RedisUnavailableError } from '../../../src/redis/locate.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return entry.name.endsWith('.ts') ? [full] : [];
  });
}

/** Codes of other libraries that look like ours (Node errno, undici, csv-parse, llhttp). */
const FOREIGN = /^(ERR_|UND_ERR_|CSV_|HPE_)/;

/**
 * The local codes a source text uses: `ErrorCodes.X`, `code: 'X'`, and a code literal as the first
 * argument of `super(…)` or `new …Error(…)`. A code is upper case with at least one underscore.
 */
function codesUsed(text: string): { readonly viaErrorCodes: string[]; readonly literals: string[] } {
  const viaErrorCodes = [...text.matchAll(/\bErrorCodes\.([A-Za-z0-9_]+)/g)].map((m) => m[1] ?? '');
  const literals = [
    ...text.matchAll(/\bcode\??:\s*'([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)'/g),
    ...text.matchAll(/\b(?:super|new\s+\w*Error)\(\s*'([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)'/g),
  ]
    .map((m) => m[1] ?? '')
    .filter((code) => !FOREIGN.test(code));
  return { viaErrorCodes, literals };
}

const HTTP_STATUS_CODE = /^HTTP_\d+$/;
const localCodes = new Set<string>(Object.values(ErrorCodes));

function scan(): { file: string; code: string; how: 'ErrorCodes' | 'literal' }[] {
  return ['src', 'jobs'].flatMap((dir) =>
    sourceFiles(path.join(root, dir)).flatMap((file) => {
      const { viaErrorCodes, literals } = codesUsed(readFileSync(file, 'utf8'));
      const rel = path.relative(root, file);
      return [
        ...viaErrorCodes.map((code) => ({ file: rel, code, how: 'ErrorCodes' as const })),
        ...literals.map((code) => ({ file: rel, code, how: 'literal' as const })),
      ];
    }),
  );
}

/** The `error` row of the README's result-record table. */
function readmeErrorRow(): string {
  const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('### The result record'));
  const row = section.split('\n').find((line) => line.startsWith('| `error` |'));
  if (row === undefined) throw new Error('README: no `error` row under "The result record"');
  return row;
}

describe('error codes', () => {
  it('the scanner finds codes in every form it looks for (and leaves foreign ones out)', () => {
    const sample = [
      "throw new RescreenError(ErrorCodes.INVALID_LINE, 'x');",
      "return { code: 'MEDIA_FETCH', message: 'm' };",
      "super('INVALID_SCHEDULE', message);",
      "throw new WebhookDeliveryError('WEBHOOK_UNREACHABLE', 'm');",
      "const e = { code: 'UND_ERR_SOCKET' }; new Error('not a code'); ctx.addIssue({ code: 'custom' });",
    ].join('\n');
    expect(codesUsed(sample)).toEqual({
      viaErrorCodes: ['INVALID_LINE'],
      literals: ['MEDIA_FETCH', 'INVALID_SCHEDULE', 'WEBHOOK_UNREACHABLE'],
    });
  });

  it('each ErrorCodes entry is its own name', () => {
    for (const [key, value] of Object.entries(ErrorCodes)) expect(value).toBe(key);
  });

  it('every local code used in src/ and jobs/ is in ErrorCodes', () => {
    const uses = scan();
    // The scan must see the codes it is meant to police, or it proves nothing.
    expect(uses.some((u) => u.code === 'INVALID_BATCH_ID')).toBe(true);
    expect(uses.some((u) => u.code === 'MEDIA_FETCH')).toBe(true);
    const unknown = uses.filter((u) => !localCodes.has(u.code) && !HTTP_STATUS_CODE.test(u.code));
    expect(unknown).toEqual([]);
  });

  it('every ErrorCodes entry is in the README error list', () => {
    const row = readmeErrorRow();
    const missing = [...localCodes].filter((code) => !row.includes(`\`${code}\``));
    expect(missing).toEqual([]);
    expect(row).toContain('`HTTP_<status>`');
  });

  it('ConfigError and RedisUnavailableError are in the taxonomy, with their codes', () => {
    const config = new ConfigError('invalid configuration: X');
    const redis = new RedisUnavailableError('cannot reach Redis');
    expect(config).toBeInstanceOf(RescreenError);
    expect(config.code).toBe(ErrorCodes.CONFIG_INVALID);
    expect(config.name).toBe('ConfigError');
    expect(redis).toBeInstanceOf(RescreenError);
    expect(redis.code).toBe(ErrorCodes.REDIS_UNAVAILABLE);
    expect(redis.name).toBe('RedisUnavailableError');
  });

  it("vendor codes keep the vendor's value", () => {
    expect(vendorCode(5)).toBe(5);
    expect(vendorCode('FAILED')).toBe('FAILED');
    expect(vendorCode('HTTP_415')).toBe('HTTP_415');
    const api = { vendor: 'glair' as const, status: 400, headers: {}, body: null, transactionId: null, message: 'm' };
    expect(new VendorRejectedError({ ...api, code: 'NO_FILE' }).code).toBe('NO_FILE');
    expect(new VendorRejectedError(api).code).toBe('HTTP_400');
  });

  it('every code has a one-line meaning; HTTP_<status> and vendor codes are read too', () => {
    for (const code of localCodes) {
      const meaning = meaningOf(code);
      expect(meaning, code).toMatch(/^[^\n]{10,200}$/);
    }
    expect(meaningOf('HTTP_503')).toMatch(/server error.*HTTP 503/);
    expect(meaningOf('HTTP_415')).toMatch(/media type/);
    expect(meaningOf(5, { 5: 'OOTO engine: can not detect face' })).toBe('OOTO engine: can not detect face');
    expect(meaningOf('SOMETHING_ELSE')).toBeNull();
    expect(meaningOf('toString')).toBeNull();
  });
});
