/**
 * One record read from a manifest, before validation.
 * When `error` is set the line is invalid; `value` is then `null`, or (folder manifests) what is known
 * of the record (`ref`, `subject`, `check`), copied into its `failed` record.
 */
export interface RawLine {
  /** 1-based physical line of the file where the record starts (a CSV header is line 1). */
  readonly line: number;
  /** The record's fields as read (JSONL object, or CSV row mapped to the JSONL shape). */
  readonly value: Record<string, unknown> | null;
  /** Why the line could not be read as a record: one sentence, ready for an invalid-line report. */
  readonly error?: string;
}

/** Longest error detail copied from a parser message into a reason. */
export const MAX_DETAIL_CHARS = 200;

export function clip(text: string, max = MAX_DETAIL_CHARS): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
