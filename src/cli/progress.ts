/**
 * Progress people can watch: a live bar on a terminal (cli-progress), one plain line every few
 * seconds otherwise (logs, CI, `| tee`).
 */
import cliProgress from 'cli-progress';
import { RECORD_STATUSES, VERDICTS } from '../checks/types.js';
import type { BatchSummary } from '../store/types.js';

export interface ProgressView {
  update(summary: BatchSummary): void;
  stop(): void;
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
        format: '{bar} {percentage}% | {value}/{total} | {rate}/s | ETA {etaText} | {counts}',
        barsize: 30,
        hideCursor: true,
        stream,
        fps: 5,
        etaBuffer: 50,
      },
      cliProgress.Presets.shades_classic,
    );
    let started = false;
    return {
      update(summary) {
        const total = totalOf(summary);
        const rate = meter.push(summary.recorded);
        const payload = { rate: rate.toFixed(1), etaText: eta(total - summary.recorded, rate), counts: counts(summary) };
        if (!started) {
          bar.start(total, summary.recorded, payload);
          started = true;
        } else {
          bar.setTotal(total);
          bar.update(summary.recorded, payload);
        }
      },
      stop() {
        if (started) bar.stop();
      },
    };
  }
  const every = options.plainEveryMs ?? 5_000;
  let lastAt = 0;
  let last: BatchSummary | undefined;
  const line = (summary: BatchSummary, rate: number) => {
    const total = totalOf(summary);
    const pct = Math.floor((100 * summary.recorded) / total);
    stream.write(
      `batch ${summary.batch}: ${summary.recorded}/${summary.producerDone ? total : `${total}+`} (${pct}%) ` +
        `${rate.toFixed(1)}/s ETA ${eta(total - summary.recorded, rate)} — ${counts(summary)}\n`,
    );
  };
  let lastRate = 0;
  return {
    update(summary) {
      lastRate = meter.push(summary.recorded);
      last = summary;
      const now = Date.now();
      if (now - lastAt >= every) {
        lastAt = now;
        line(summary, lastRate);
      }
    },
    stop() {
      if (last && Date.now() !== lastAt) line(last, lastRate);
    },
  };
}
