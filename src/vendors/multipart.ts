/** Multipart bodies for media uploads (undici's FormData, so undici streams it with its own boundary). */
import { FormData } from 'undici';
import type { MediaBlob } from '../media/types.js';

/**
 * The media as a Blob typed with its sniffed mime type. Built once per call and shared by every
 * retry (a Blob is immutable); the bytes are copied once into it.
 */
export function mediaBlob(media: MediaBlob): Blob {
  return new Blob([media.bytes], { type: media.mime });
}

/**
 * A fresh FormData with the file under `field` (with its file name) and any extra text fields.
 * Built per attempt: a body stream is consumed by each send.
 */
export function mediaForm(
  field: string,
  blob: Blob,
  filename: string,
  extra: Readonly<Record<string, string | undefined>> = {},
): FormData {
  const form = new FormData();
  form.append(field, blob, filename);
  for (const [name, value] of Object.entries(extra)) {
    if (value !== undefined) form.append(name, value);
  }
  return form;
}
