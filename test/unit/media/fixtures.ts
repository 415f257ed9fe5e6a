/** Tiny but real media headers: enough for file-type to recognise them (and for nothing else). */
import { deflateSync } from 'node:zlib';

function crc32(bytes: Uint8Array): number {
  let crc = ~0;
  for (const byte of bytes) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = (crc >>> 1) ^ (0xedb88320 & -(crc & 1));
  }
  return ~crc >>> 0;
}

function pngChunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

/** A 1×1 greyscale PNG: signature, IHDR, IDAT, IEND. `padTo` appends a tEXt chunk to reach a size. */
export function png(padTo = 0): Buffer {
  const ihdr = Buffer.from([0, 0, 0, 1, 0, 0, 0, 1, 8, 0, 0, 0, 0]);
  const parts = [
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', deflateSync(Buffer.from([0, 0]))),
  ];
  const base = Buffer.concat([...parts, pngChunk('IEND', Buffer.alloc(0))]);
  if (padTo <= base.length) return base;
  const text = Buffer.alloc(Math.max(0, padTo - base.length - 12), 0x61);
  return Buffer.concat([...parts.slice(0, 2), pngChunk('tEXt', text), parts[2]!, pngChunk('IEND', Buffer.alloc(0))]);
}

/** A JFIF header (SOI, APP0) padded to `size` bytes and closed with EOI. */
export function jpeg(size = 64): Buffer {
  const head = Buffer.from([
    0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00,
  ]);
  const body = Buffer.alloc(Math.max(0, size - head.length - 2));
  return Buffer.concat([head, body, Buffer.from([0xff, 0xd9])]);
}

/** An ISO-BMFF file: `ftyp` box with the given major brand, then an `mdat` box padded to `size`. */
export function mp4(brand = 'isom', size = 64): Buffer {
  const ftyp = Buffer.alloc(24);
  ftyp.writeUInt32BE(24, 0);
  ftyp.write('ftyp', 4, 'latin1');
  ftyp.write(brand.padEnd(4, ' '), 8, 'latin1');
  ftyp.writeUInt32BE(0x200, 12);
  ftyp.write('isom', 16, 'latin1');
  ftyp.write('mp41', 20, 'latin1');
  const mdatSize = Math.max(8, size - ftyp.length);
  const mdat = Buffer.alloc(mdatSize);
  mdat.writeUInt32BE(mdatSize, 0);
  mdat.write('mdat', 4, 'latin1');
  return Buffer.concat([ftyp, mdat]);
}

/** A GIF89a header. */
export function gif(): Buffer {
  return Buffer.concat([Buffer.from('GIF89a', 'latin1'), Buffer.from([1, 0, 1, 0, 0, 0, 0, 0x3b])]);
}
