/**
 * Cheap structural checks of uploaded media, standing in for the vendors' decoders: the simulator
 * must answer thousands of calls a second, so it walks the container structure instead of decoding
 * pixels.
 */

/** What an uploaded photo turned out to be. */
export type ImageCheck =
  | { readonly kind: 'png' | 'jpeg'; readonly width: number; readonly height: number }
  /** Neither PNG nor JPEG magic (OOTO engine code 2). */
  | { readonly kind: 'not-image' }
  /** PNG/JPEG magic but the structure is broken, e.g. truncated (OOTO engine code 4). */
  | { readonly kind: 'undecodable' };

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

export function isPng(bytes: Buffer): boolean {
  return bytes.length >= 8 && bytes.compare(PNG_SIGNATURE, 0, 8, 0, 8) === 0;
}

export function isJpeg(bytes: Buffer): boolean {
  return bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff;
}

/** An ISO-BMFF file: the `ftyp` box type at offset 4. */
export function isMp4(bytes: Buffer): boolean {
  return bytes.length >= 12 && bytes[4] === 0x66 && bytes[5] === 0x74 && bytes[6] === 0x79 && bytes[7] === 0x70;
}

/** Whether an upload's declared Content-Type rules it out as a JPEG/PNG photo (generic types are fine). */
export function isWrongPhotoMime(mime: string): boolean {
  const m = mime.toLowerCase().split(';')[0]?.trim() ?? '';
  if (m.startsWith('video/') || m.startsWith('audio/')) return true;
  if (m.startsWith('image/')) return !['image/jpeg', 'image/jpg', 'image/pjpeg', 'image/png', 'image/x-png'].includes(m);
  return false;
}

export function checkImage(bytes: Buffer): ImageCheck {
  if (isPng(bytes)) return checkPng(bytes);
  if (isJpeg(bytes)) return checkJpeg(bytes);
  return { kind: 'not-image' };
}

/** Walks the chunks: IHDR first, at least one IDAT, and IEND reached inside the bytes. */
function checkPng(bytes: Buffer): ImageCheck {
  let at = 8;
  let width = 0;
  let height = 0;
  let sawData = false;
  while (at + 12 <= bytes.length) {
    const length = bytes.readUInt32BE(at);
    const type = bytes.toString('latin1', at + 4, at + 8);
    const end = at + 12 + length;
    if (length > 0x7fffffff || end > bytes.length) return { kind: 'undecodable' };
    if (at === 8) {
      if (type !== 'IHDR' || length !== 13) return { kind: 'undecodable' };
      width = bytes.readUInt32BE(at + 8);
      height = bytes.readUInt32BE(at + 12);
    }
    if (type === 'IDAT') sawData = true;
    if (type === 'IEND') return sawData && width > 0 && height > 0 ? { kind: 'png', width, height } : { kind: 'undecodable' };
    at = end;
  }
  return { kind: 'undecodable' };
}

/** Walks the segments up to the scan (a frame header is needed) and wants an EOI marker at the end. */
function checkJpeg(bytes: Buffer): ImageCheck {
  if (!endsWithEoi(bytes)) return { kind: 'undecodable' };
  let at = 2;
  let width = 0;
  let height = 0;
  while (at + 4 <= bytes.length) {
    if (bytes[at] !== 0xff) return { kind: 'undecodable' };
    const marker = bytes[at + 1] ?? 0;
    if (marker === 0xff) {
      at += 1; // fill byte
      continue;
    }
    if (marker === 0xd8 || (marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) {
      at += 2;
      continue;
    }
    const length = bytes.readUInt16BE(at + 2);
    if (length < 2 || at + 2 + length > bytes.length) return { kind: 'undecodable' };
    if (isSof(marker)) {
      if (length < 7) return { kind: 'undecodable' };
      height = bytes.readUInt16BE(at + 5);
      width = bytes.readUInt16BE(at + 7);
    }
    if (marker === 0xda) return width > 0 && height > 0 ? { kind: 'jpeg', width, height } : { kind: 'undecodable' };
    at += 2 + length;
  }
  return { kind: 'undecodable' };
}

function isSof(marker: number): boolean {
  return marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
}

/** EOI (FF D9) at the end, tolerating a little trailing padding. */
function endsWithEoi(bytes: Buffer): boolean {
  const from = Math.max(2, bytes.length - 32);
  return bytes.lastIndexOf(EOI, bytes.length - 2) >= from;
}

const EOI = Buffer.from([0xff, 0xd9]);
