import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { directiveText, parseDirectives, parseDirectiveText } from '../../../src/simulator/directives.js';
import { checkImage, isMp4 } from '../../../src/simulator/media-check.js';
import { sampleJpeg, sampleMp4, samplePixels, samplePng } from '../../../src/simulator/sample-media.js';

function hasFfprobe(): boolean {
  try {
    execFileSync('ffprobe', ['-version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('samplePng', () => {
  it('decodes with pngjs to the requested size', () => {
    const png = PNG.sync.read(samplePng({ directives: 'fake', seed: 3 }));
    expect(png.width).toBe(64);
    expect(png.height).toBe(64);
    const wide = PNG.sync.read(samplePng({ width: 96, height: 48 }));
    expect([wide.width, wide.height]).toEqual([96, 48]);
  });

  it('carries the directive in a tEXt chunk right after IHDR', () => {
    const bytes = samplePng({ directives: ['fake', 'face=alice'] });
    expect(bytes.toString('latin1', 12, 16)).toBe('IHDR');
    expect(bytes.toString('latin1', 37, 41)).toBe('tEXt');
    const length = bytes.readUInt32BE(33);
    expect(bytes.toString('latin1', 41, 41 + length)).toBe('Comment\0rescreen-sim:fake,face=alice;');
    expect(parseDirectives(bytes)).toMatchObject({ fake: true, face: 'alice' });
  });

  it('is deterministic, and the seed changes the bytes', () => {
    expect(samplePng({ seed: 1 }).equals(samplePng({ seed: 1 }))).toBe(true);
    expect(samplePng({ seed: 1 }).equals(samplePng({ seed: 2 }))).toBe(false);
    expect(parseDirectives(samplePng({ seed: 1 }))).toBeNull();
  });

  it('pads to an exact size and still decodes', () => {
    const bytes = samplePng({ directives: 'genuine', padToBytes: 200_000 });
    expect(bytes.length).toBe(200_000);
    expect(PNG.sync.read(bytes).width).toBe(64);
    expect(checkImage(bytes)).toEqual({ kind: 'png', width: 64, height: 64 });
    expect(() => samplePng({ padToBytes: samplePng().length + 3 })).toThrow(RangeError);
  });
});

describe('sampleJpeg', () => {
  it('decodes with jpeg-js and keeps the directive as a COM comment', () => {
    const bytes = sampleJpeg({ directives: 'score=0.42', seed: 9 });
    expect([bytes[0], bytes[1], bytes[2]]).toEqual([0xff, 0xd8, 0xff]);
    const decoded = jpeg.decode(bytes);
    expect([decoded.width, decoded.height]).toEqual([64, 64]);
    expect(decoded.comments).toEqual(['rescreen-sim:score=0.42;']);
    expect(parseDirectives(bytes)?.score).toBe(0.42);
  });

  it('is byte for byte what jpeg-js encode() makes (the reused encoder is only faster)', () => {
    const pixels = samplePixels({ seed: 12, width: 40, height: 24 });
    const viaPublicApi = jpeg.encode({ ...pixels, comments: ['rescreen-sim:fake;'] }, 85).data;
    expect(sampleJpeg({ seed: 12, width: 40, height: 24, directives: 'fake' }).equals(viaPublicApi)).toBe(true);
  });

  it('is deterministic, and the seed changes the bytes', () => {
    expect(sampleJpeg({ seed: 5 }).equals(sampleJpeg({ seed: 5 }))).toBe(true);
    expect(sampleJpeg({ seed: 5 }).equals(sampleJpeg({ seed: 6 }))).toBe(false);
  });

  it('pads to an exact size (several APP15 segments) and still decodes', () => {
    const bytes = sampleJpeg({ directives: 'fake', padToBytes: 300_003 });
    expect(bytes.length).toBe(300_003);
    expect(jpeg.decode(bytes).width).toBe(64);
    expect(checkImage(bytes)).toEqual({ kind: 'jpeg', width: 64, height: 64 });
    expect(parseDirectives(bytes)?.fake).toBe(true);
  });
});

describe('sampleMp4', () => {
  it('is an ISO-BMFF file starting with ftyp, with the directive in a trailing free box', () => {
    const bytes = sampleMp4({ directives: 'fake' });
    expect(bytes.toString('latin1', 4, 8)).toBe('ftyp');
    expect(isMp4(bytes)).toBe(true);
    // Walk the top-level boxes: they tile the file exactly, the last one is `free`.
    const types: string[] = [];
    let at = 0;
    while (at < bytes.length) {
      const size = bytes.readUInt32BE(at);
      types.push(bytes.toString('latin1', at + 4, at + 8));
      expect(size).toBeGreaterThanOrEqual(8);
      at += size;
    }
    expect(at).toBe(bytes.length);
    expect(types[0]).toBe('ftyp');
    expect(types).toContain('moov');
    expect(types).toContain('mdat');
    expect(types.at(-1)).toBe('free');
    expect(parseDirectives(bytes)?.fake).toBe(true);
  });

  it('is small, deterministic, and varies with the seed', () => {
    const plain = sampleMp4();
    expect(plain.length).toBeLessThan(8 * 1024);
    expect(parseDirectives(plain)).toBeNull();
    expect(sampleMp4({ seed: 1 }).equals(sampleMp4({ seed: 1 }))).toBe(true);
    expect(sampleMp4({ seed: 1 }).equals(sampleMp4({ seed: 2 }))).toBe(false);
  });

  it('pads to an exact size, e.g. 7 MB for the 6 MB cap', () => {
    const big = sampleMp4({ directives: 'genuine', padToBytes: 7 * 1024 * 1024 });
    expect(big.length).toBe(7 * 1024 * 1024);
    expect(isMp4(big)).toBe(true);
    expect(parseDirectives(big)?.genuine).toBe(true);
    expect(() => sampleMp4({ directives: 'genuine', padToBytes: 100 })).toThrow(RangeError);
  });

  it.skipIf(!hasFfprobe())('plays: ffprobe reads one 64×64 H.264 stream from a variant', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rescreen-mp4-'));
    try {
      const file = join(dir, 'v.mp4');
      writeFileSync(file, sampleMp4({ directives: 'fake,face=bob', padToBytes: 50_000 }));
      const out = execFileSync('ffprobe', ['-v', 'error', '-show_entries', 'stream=codec_name,width,height', '-of', 'json', file], { encoding: 'utf8' });
      expect(JSON.parse(out)).toMatchObject({ streams: [{ codec_name: 'h264', width: 64, height: 64 }] });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('directives', () => {
  it('parses every directive, combined', () => {
    expect(parseDirectiveText('genuine')).toMatchObject({ genuine: true, fake: false });
    expect(parseDirectiveText('fake,noface,small,faces=2,face=carol-7,score=0.25')).toEqual({
      genuine: false,
      fake: true,
      noface: true,
      small: true,
      faces: 2,
      face: 'carol-7',
      score: 0.25,
      unknown: [],
    });
    expect(parseDirectiveText('score=7,bogus').score).toBe(1);
    expect(parseDirectiveText('bogus').unknown).toEqual(['bogus']);
  });

  it('finds directives anywhere in the bytes, stops at the terminator, merges several', () => {
    const bytes = Buffer.concat([Buffer.from([1, 2, 3]), Buffer.from('rescreen-sim:fake;ABCD'), Buffer.from('..rescreen-sim:face=zed')]);
    const d = parseDirectives(bytes);
    expect(d).toMatchObject({ fake: true, face: 'zed', unknown: [] });
  });

  it('refuses characters the parser would not read', () => {
    expect(() => directiveText('face=a b')).toThrow(RangeError);
    expect(directiveText(['fake', 'face=x'])).toBe('rescreen-sim:fake,face=x;');
  });
});

describe('checkImage', () => {
  it('tells truncated images from non-images', () => {
    const png = samplePng();
    const jpg = sampleJpeg();
    expect(checkImage(png.subarray(0, png.length - 12)).kind).toBe('undecodable');
    expect(checkImage(jpg.subarray(0, jpg.length - 2)).kind).toBe('undecodable');
    expect(checkImage(Buffer.from('GIF89a......')).kind).toBe('not-image');
    expect(checkImage(sampleMp4()).kind).toBe('not-image');
  });
});
