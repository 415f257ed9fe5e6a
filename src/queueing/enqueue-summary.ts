/** What the producer (./producer.ts) reports: counts after each chunk, and the summary at the end. */
import type { CheckName } from '../checks/registry.js';
import type { FolderSkipCounts } from '../manifest/folder.js';
import type { DryRunEstimate } from '../money/estimate.js';

/** Counts so far, reported after each chunk. */
export interface EnqueueProgress {
  readonly batch: string;
  /** Records read from the manifest so far (valid + invalid). */
  readonly lines: number;
  readonly enqueued: number;
  readonly alreadyRecorded: number;
  readonly alreadyQueued: number;
  readonly invalid: number;
}

/** What {@link enqueueManifest} did. */
export interface EnqueueSummary extends EnqueueProgress {
  readonly dryRun: boolean;
  /** Highest manifest line number that holds a record (0 for an empty manifest). */
  readonly maxLine: number;
  /**
   * The first MAX_INVALID_LINES_KEPT (./producer.ts) invalid lines (all are counted in `invalid`), line order.
   * Includes invalid lines that already had a record from an earlier run.
   */
  readonly invalidLines: readonly { readonly line: number; readonly reason: string }[];
  /** Valid lines per check (every check present, zeros included), whether enqueued now or before. */
  readonly byCheck: Readonly<Record<CheckName, number>>;
  readonly durationMs: number;
  /** A folder or prefix manifest: entries that made no line, by reason (files that are not media, …). */
  readonly skipped?: FolderSkipCounts;
  /** A dry run: paid calls, local rejections, time at the rate limits (see ./estimate.ts). */
  readonly estimate?: DryRunEstimate;
  /** `--canary`: the canary set's lines, counted in `lines` and `byCheck`, and their line numbers. */
  readonly canary?: { readonly lines: number; readonly from: number; readonly to: number };
}
