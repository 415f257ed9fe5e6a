/**
 * Progress people can watch: a live bar on a terminal (cli-progress), one plain line every few
 * seconds otherwise (logs, CI, `| tee`).
 */
import cliProgress from 'cli-progress';
import { RECORD_STATUSES, VERDICTS } from '../checks/types.js';
import type { BatchSummary } from '../app/index.js';

export interface ProgressView {
  /**
   * Shows the summary; a no-op once stopped. `held`: why the batch makes no progress now (`paused`,
   * `at its cap`), shown instead of a rate and an ETA that would mean nothing.
   */
  update(summary: BatchSummary, held?: string): void;
  /**
   * Stops for good (idempotent). `clear`: on a terminal, erase the bar instead of leaving it (Ctrl-C:
   * the lines that follow must not be drawn over); without a terminal, print no last line.
   */
  stop(options?: { clear?: boolean }): void;
}

/** Records per second over the last `windowMs`, from the summaries seen. */
class RateMeter {
  private readonly samples: { at: number; done: number }[] = [];
  constructor(private readonly windowMs = 10_000) {}
  push(done: number, at = Date.now()): number {
    this.samples.push({ at, done });
    while (this.samples.length > 2 && at - this.samples[0]!.at > this.windowMs) this.samples.shift();
    const first = this.samples[0]!;
    const seconds = (at - first.at) / 1000;
    return seconds > 0 ? Math.max(0, (done - first.done) / seconds) : 0;
  }
}

function counts(summary: BatchSummary): string {
  const statuses = RECORD_STATUSES.map((s) => `${s} ${summary.byStatus[s]}`).join(', ');
  const verdicts = VERDICTS.filter((v) => summary.byVerdict[v] > 0)
    .map((v) => `${v} ${summary.byVerdict[v]}`)
    .join(', ');
  return verdicts ? `${statuses} | ${verdicts}` : statuses;
}

function eta(remaining: number, rate: number): string {
  if (remaining <= 0) return '0s';
  if (rate <= 0) return '?';
  const s = Math.round(remaining / rate);
  if (s < 90) return `${s}s`;
  if (s < 5400) return `${Math.round(s / 60)}m`;
  return `${(s / 3600).toFixed(1)}h`;
}

/** `14.9/s | ETA 6m`, or why there is no pace (`paused`). */
function pace(remaining: number, rate: number, held: string | undefined, separator: string): string {
  return held ?? `${rate.toFixed(1)}/s${separator}ETA ${eta(remaining, rate)}`;
}

/** The total to show: known once the producer is done, else what has been seen so far. */
function totalOf(summary: BatchSummary): number {
  return Math.max(1, summary.producerDone ? summary.total : Math.max(summary.maxLine, summary.recorded));
}

export function createProgressView(options: { tty: boolean; stream?: NodeJS.WriteStream; plainEveryMs?: number }): ProgressView {
  const stream = options.stream ?? process.stderr;
  const meter = new RateMeter();
  if (options.tty) {
    const bar = new cliProgress.SingleBar(
      {
        format: '{bar} {percentage}% | {value}/{total} | {pace} | {counts}',
        barsize: 30,
        hideCursor: true,
        stream,
        fps: 5,
        etaBuffer: 50,
      },
      cliProgress.Presets.shades_classic,
    );
    let started = false;
    let stopped = false;
    return {
      update(summary, held) {
        if (stopped) return;
        const total = totalOf(summary);
        const rate = meter.push(summary.recorded);
        const payload = { pace: pace(total - summary.recorded, rate, held, ' | '), counts: counts(summary) };
        if (!started) {
          bar.start(total, summary.recorded, payload);
          started = true;
        } else {
          bar.setTotal(total);
          bar.update(summary.recorded, payload);
        }
      },
      stop(stopOptions = {}) {
        if (stopped) return;
        stopped = true;
        if (!started) return;
        // cli-progress reads clearOnComplete when it stops: erase the line rather than end it.
        (bar as unknown as { options: { clearOnComplete: boolean } }).options.clearOnComplete = stopOptions.clear === true;
        bar.stop();
      },
    };
  }
  const every = options.plainEveryMs ?? 5_000;
  let lastAt = 0;
  let last: BatchSummary | undefined;
  // Whether `last` has been printed already, so stop() never repeats the same line.
  let lastShown = false;
  const line = (summary: BatchSummary, rate: number, held: string | undefined) => {
    const total = totalOf(summary);
    const pct = Math.floor((100 * summary.recorded) / total);
    stream.write(
      `batch ${summary.batch}: ${summary.recorded}/${summary.producerDone ? total : `${total}+`} (${pct}%) ` +
        `${pace(total - summary.recorded, rate, held, ' ')} — ${counts(summary)}\n`,
    );
  };
  let lastRate = 0;
  let lastHeld: string | undefined;
  return {
    update(summary, held) {
      if (lastShown && last === undefined) return;
      lastRate = meter.push(summary.recorded);
      last = summary;
      lastHeld = held;
      lastShown = false;
      const now = Date.now();
      if (now - lastAt >= every) {
        lastAt = now;
        line(summary, lastRate, held);
        lastShown = true;
      }
    },
    stop(stopOptions = {}) {
      if (last && !lastShown && stopOptions.clear !== true) line(last, lastRate, lastHeld);
      // Stopped for good: update() sees lastShown with no `last` and does nothing.
      lastShown = true;
      last = undefined;
    },
  };
}
