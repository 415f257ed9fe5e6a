import { describe, expect, it } from 'vitest';
import { validateBatchId, validateLine as validate, type LineValidation, type ValidateLineOptions } from '../../../src/manifest/line.js';
import type { RawLine } from '../../../src/manifest/raw-line.js';
import { BUILT_INS } from '../../../src/runtime/built-ins.js';

/** Validation against the built-in checks (the registry the runtime passes). */
const validateLine = (raw: RawLine, options: Partial<ValidateLineOptions> = {}): LineValidation => validate(raw, { checks: BUILT_INS.checks, ...options });

const at = (value: Record<string, unknown>, line = 7): RawLine => ({ line, value });
function reason(result: LineValidation): string {
  if (result.ok) throw new Error(`expected an invalid line, got ${JSON.stringify(result)}`);
  return result.reason;
}

describe('validateLine: valid lines', () => {
  it('accepts each check with its own input', () => {
    expect(validateLine(at({ ref: ' media/a.jpg ', check: 'ooto-deepfake', subject: 'cust-1' }))).toEqual({
      ok: true,
      line: 7,
      check: 'ooto-deepfake',
      subject: 'cust-1',
      ref: 'media/a.jpg',
    });
    expect(
      validateLine(
        at({ ref: 'https://bucket.example/b.png', check: 'ooto-identify', subject: 'c', options: { checkLiveness: true } }),
      ),
    ).toEqual({
      ok: true,
      line: 7,
      check: 'ooto-identify',
      subject: 'c',
      ref: 'https://bucket.example/b.png',
      options: { checkLiveness: true },
    });
    expect(validateLine(at({ ref: 'file:///v/c.mp4', check: 'glair-video' }))).toEqual({
      ok: true,
      line: 7,
      check: 'glair-video',
      subject: null,
      ref: 'file:///v/c.mp4',
    });
    expect(validateLine(at({ frames: ['f/1.jpg', 'f/2.jpg'], check: 'glair-frames', subject: 'x' }))).toEqual({
      ok: true,
      line: 7,
      check: 'glair-frames',
      subject: 'x',
      frames: ['f/1.jpg', 'f/2.jpg'],
    });
  });

  it('turns a numeric subject into a string and an empty one into null', () => {
    expect(validateLine(at({ ref: 'a.jpg', check: 'ooto-deepfake', subject: 12345 }))).toMatchObject({ ok: true, subject: '12345' });
    expect(validateLine(at({ ref: 'a.jpg', check: 'ooto-deepfake', subject: '  ' }))).toMatchObject({ ok: true, subject: null });
    expect(validateLine(at({ ref: 'a.jpg', check: 'ooto-deepfake', subject: null }))).toMatchObject({ ok: true, subject: null });
  });
});

describe('validateLine: --check', () => {
  it('fills in the check of a line that names none', () => {
    expect(validateLine(at({ ref: 'a.mp4' }), { checkOverride: 'glair-video' })).toMatchObject({ ok: true, check: 'glair-video' });
  });

  it("keeps a line's own check when it names one", () => {
    expect(validateLine(at({ ref: 'a.jpg', check: 'ooto-deepfake' }), { checkOverride: 'glair-video' })).toMatchObject({
      ok: true,
      check: 'ooto-deepfake',
    });
  });

  it('without --check, a line without a check is invalid and says how to fix it', () => {
    expect(reason(validateLine(at({ ref: 'a.jpg' })))).toBe('check is missing: name it on the line or pass --check');
  });
});

describe('validateLine: invalid lines name the field', () => {
  const cases: [string, Record<string, unknown>, RegExp][] = [
    ['unknown check', { ref: 'a.jpg', check: 'ooto-magic' }, /^check must be one of ooto-deepfake, .* \(got "ooto-magic"\)$/],
    ['check not a string', { ref: 'a.jpg', check: 3 }, /^check must be one of/],
    ['missing ref', { check: 'ooto-deepfake' }, /^ref is missing$/],
    ['empty ref', { ref: '   ', check: 'ooto-deepfake' }, /^ref must not be empty$/],
    ['ref not a string', { ref: 42, check: 'glair-video' }, /^ref must be a string$/],
    ['ref with a foreign scheme', { ref: 'ftp://x/a.jpg', check: 'ooto-deepfake' }, /^ref must be a local path, a file:\/\/ URL, an http\(s\):\/\/ URL or s3:\/\/bucket\/key$/],
    ['frames on a ref check', { ref: 'a.jpg', frames: ['b'], check: 'ooto-deepfake' }, /^frames is not a field of ooto-deepfake lines \(it takes ref, check, subject\)$/],
    ['ref on glair-frames', { ref: 'a.jpg', check: 'glair-frames' }, /^ref is not a field of glair-frames lines \(it takes frames, check, subject\)$/],
    ['no frames', { check: 'glair-frames' }, /^frames is missing$/],
    ['frames not a list', { frames: 'a.jpg|b.jpg', check: 'glair-frames' }, /^frames must be an array$/],
    ['empty frames', { frames: [], check: 'glair-frames' }, /^frames needs at least one frame$/],
    ['an empty frame', { frames: ['a.jpg', ''], check: 'glair-frames' }, /^frames\[1\] must not be empty$/],
    ['options on deepfake', { ref: 'a.jpg', check: 'ooto-deepfake', options: {} }, /^options is not a field of ooto-deepfake lines/],
    ['unknown option', { ref: 'a.jpg', check: 'ooto-identify', options: { turbo: true } }, /^options\.turbo is not an option of ooto-identify/],
    ['option not a boolean', { ref: 'a.jpg', check: 'ooto-identify', options: { checkLiveness: 'yes' } }, /^options\.checkLiveness must be a boolean$/],
    ['unknown field', { ref: 'a.jpg', check: 'glair-video', notes: 'hi' }, /^notes is not a field of glair-video lines/],
    ['subject of the wrong type', { ref: 'a.jpg', check: 'glair-video', subject: true }, /^subject must be a string or a number \(got true\)$/],
    ['subject too long', { ref: 'a.jpg', check: 'glair-video', subject: 'x'.repeat(257) }, /^subject is longer than 256 characters$/],
  ];
  for (const [name, value, expected] of cases) {
    it(name, () => {
      expect(reason(validateLine(at(value)))).toMatch(expected);
    });
  }

  it('keeps what it could read for the failed record', () => {
    expect(validateLine(at({ ref: 'a.jpg', check: 'ooto-deepfake', subject: 'c-1', options: {} }))).toEqual({
      ok: false,
      line: 7,
      check: 'ooto-deepfake',
      subject: 'c-1',
      ref: 'a.jpg',
      reason: expect.stringMatching(/^options is not a field/),
    });
    expect(validateLine(at({ frames: ['a', ''], check: 'nope', subject: 5 }))).toMatchObject({
      ok: false,
      check: null,
      subject: '5',
      frames: ['a', ''],
    });
  });

  it('passes a reader error through as the reason', () => {
    expect(validateLine({ line: 3, value: null, error: 'the line is not valid JSON (x)' })).toEqual({
      ok: false,
      line: 3,
      check: null,
      subject: null,
      reason: 'the line is not valid JSON (x)',
    });
  });
});

describe('validateBatchId', () => {
  it.each(['b', 'nightly-2024', '2024-05-01T10:00:00+07:00', '2024-05-01T10:00:00.123Z', 'a.b_c:d+e-f', 'x'.repeat(128)])(
    'accepts %s',
    (id) => {
      expect(validateBatchId(id)).toEqual({ ok: true, batch: id });
    },
  );

  it.each([
    ['', /must not be empty/],
    ['x'.repeat(129), /longer than 128/],
    ['has space', /may only hold/],
    ['a/b', /may only hold/],
    ['a\nb', /may only hold/],
    ['a#b', /may only hold/],
  ])('refuses %j', (id, expected) => {
    const result = validateBatchId(id);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toMatch(expected);
  });
});

describe('validateLine: templateId, the subject\'s own enrolled OOTO template (issue 20)', () => {
  it('a string is kept as enrolledTemplateId on any check; blank is absent', () => {
    expect(validateLine(at({ ref: 'a.jpg', check: 'ooto-identify', subject: 'c', templateId: ' tmpl-9 ' }))).toEqual({
      ok: true,
      line: 7,
      check: 'ooto-identify',
      subject: 'c',
      ref: 'a.jpg',
      enrolledTemplateId: 'tmpl-9',
    });
    expect(validateLine(at({ ref: 'a.jpg', check: 'ooto-deepfake', subject: 'c', templateId: 'tmpl-9' }))).toMatchObject({ ok: true, enrolledTemplateId: 'tmpl-9' });
    const blank = validateLine(at({ ref: 'a.jpg', check: 'ooto-deepfake', subject: 'c', templateId: '  ' }));
    expect(blank.ok).toBe(true);
    expect('enrolledTemplateId' in blank).toBe(false);
    expect('enrolledTemplateId' in validateLine(at({ ref: 'a.jpg', check: 'ooto-deepfake', templateId: null }))).toBe(false);
  });

  it('anything but a string makes the line invalid, with its number, naming the field', () => {
    for (const bad of [42, true, ['t'], { id: 't' }]) {
      const result = validateLine(at({ ref: 'a.jpg', check: 'ooto-identify', subject: 'c', templateId: bad }, 12));
      expect(result).toMatchObject({ ok: false, line: 12, check: 'ooto-identify', subject: 'c', ref: 'a.jpg' });
      expect(reason(result)).toBe(`templateId must be a string, the subject's own enrolled OOTO template id (got ${JSON.stringify(bad)})`);
    }
    expect(reason(validateLine(at({ ref: 'a.jpg', check: 'ooto-identify', templateId: 't'.repeat(257) })))).toBe('templateId is longer than 256 characters');
  });
});
