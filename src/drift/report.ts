/**
 * A finished batch's drift: for each check, its scores against the previous finished batch that
 * screened the same check (or a batch named with `--against`), over all its subjects and over the
 * subjects screened in both; PSI and KS with their reading.
 */
import type { Verdict } from '../checks/types.js';
import type { BatchDistribution, ResultStore } from '../store/types.js';
import { finishedDistribution, isDriftRecord, verdictRates } from './distribution.js';
import { canaryReport, type CanaryReport } from './canary-report.js';
import { compare, PSI_RULE, type Comparison, type DriftReading } from './stats.js';

/** One check of a batch against its previous batch. */
export interface CheckDrift {
  readonly check: string;
  /** The batch compared against; null when no earlier finished batch screened this check. */
  readonly against: string | null;
  /** Every scored record of each batch. */
  readonly all: Comparison;
  /** Only subjects screened (with a score) in both batches. */
  readonly both: Comparison;
  /** The histograms ({@link SCORE_BINS} bins over [0, 1]). */
  readonly bins: readonly number[];
  readonly againstBins: readonly number[] | null;
  readonly verdictRates: Readonly<Partial<Record<Verdict, number>>>;
  readonly againstVerdictRates: Readonly<Partial<Record<Verdict, number>>> | null;
}

export interface DriftReport {
  readonly batch: string;
  /** The conventional reading, stated with every PSI. */
  readonly rule: string;
  readonly checks: readonly CheckDrift[];
  /** The canary report (`--canary`); null when the batch screened no canary lines. */
  readonly canary: CanaryReport | null;
  /** True when any check's PSI (all subjects or subjects in both) reads "shift", or the canary alert fired. */
  readonly alert: boolean;
}

/** Earlier batches looked at for "the previous finished batch of the same check". */
const LOOK_BACK = 200;

/**
 * The drift report of a finished batch. `against`: compare every check with this batch; default:
 * each check with the newest finished batch created before this one that has scores of it.
 * Null when the batch does not exist or has not finished.
 */
export async function driftReport(store: ResultStore, batch: string, options: { against?: string } = {}): Promise<DriftReport | null> {
  const current = await finishedDistribution(store, batch);
  if (current === null) return null;
  const checks = Object.keys(current.byCheck).filter((c) => current.byCheck[c]!.scored > 0 || Object.keys(current.byCheck[c]!.verdicts).length > 0);
  const againstOf = new Map<string, { batch: string; dist: BatchDistribution } | null>();
  if (options.against !== undefined) {
    const dist = await finishedDistribution(store, options.against);
    for (const c of checks) againstOf.set(c, dist === null || dist.byCheck[c] === undefined ? null : { batch: options.against, dist });
  } else {
    const ids = await store.listBatches(LOOK_BACK + 1);
    const createdAt = (await store.summary(batch))?.createdAt ?? '';
    const missing = new Set(checks);
    for (const id of ids) {
      if (missing.size === 0) break;
      if (id === batch) continue;
      const s = await store.summary(id);
      if (s === null || !(s.createdAt < createdAt || (s.createdAt === createdAt && id < batch))) continue;
      const dist = await finishedDistribution(store, id);
      if (dist === null) continue;
      for (const c of [...missing]) {
        if ((dist.byCheck[c]?.scored ?? 0) > 0) {
          againstOf.set(c, { batch: id, dist });
          missing.delete(c);
        }
      }
    }
  }
  const scoresNow = await scoresOf(store, batch, new Set(checks));
  const previous = new Map<string, Map<string, Scores>>();
  for (const found of new Set([...againstOf.values()].flatMap((v) => (v ? [v.batch] : [])))) {
    previous.set(found, await scoresOf(store, found, new Set(checks.filter((c) => againstOf.get(c)?.batch === found))));
  }
  const out: CheckDrift[] = checks.sort().map((check) => {
    const found = againstOf.get(check) ?? null;
    const now = scoresNow.get(check) ?? emptyScores();
    const then = found === null ? null : (previous.get(found.batch)?.get(check) ?? emptyScores());
    const pairedNow: number[] = [];
    const pairedThen: number[] = [];
    if (then !== null) {
      for (const [subject, score] of now.bySubject) {
        const earlier = then.bySubject.get(subject);
        if (earlier !== undefined) {
          pairedNow.push(score);
          pairedThen.push(earlier);
        }
      }
    }
    return {
      check,
      against: found?.batch ?? null,
      all: compare(then?.all ?? [], now.all),
      both: compare(pairedThen, pairedNow),
      bins: current.byCheck[check]!.bins,
      againstBins: found?.dist.byCheck[check]?.bins ?? null,
      verdictRates: verdictRates(current.byCheck[check]!),
      againstVerdictRates: found?.dist.byCheck[check] ? verdictRates(found.dist.byCheck[check]) : null,
    };
  });
  const canary = await canaryReport(store, batch);
  return { batch, rule: PSI_RULE, checks: out, canary, alert: out.some((c) => isShift(c.all.reading) || isShift(c.both.reading)) || canary?.alert === true };
}

function isShift(reading: DriftReading): boolean {
  return reading === 'shift';
}

interface Scores {
  readonly all: number[];
  /** subject → its (last) score in the batch. */
  readonly bySubject: Map<string, number>;
}

const emptyScores = (): Scores => ({ all: [], bySubject: new Map() });

/** The customers' scores of a batch for some checks, per check. */
async function scoresOf(store: ResultStore, batch: string, checks: ReadonlySet<string>): Promise<Map<string, Scores>> {
  const out = new Map<string, Scores>();
  for await (const record of store.stream(batch)) {
    if (!isDriftRecord(record) || !checks.has(record.check)) continue;
    let entry = out.get(record.check);
    if (entry === undefined) out.set(record.check, (entry = emptyScores()));
    entry.all.push(record.score);
    if (record.subject !== null && record.subject !== '') entry.bySubject.set(record.subject, record.score);
  }
  return out;
}

/** What `status` and the `batch.finished` webhook carry: the report without its histograms. */
export interface DriftSummary {
  readonly rule: string;
  readonly alert: boolean;
  readonly checks: readonly {
    readonly check: string;
    readonly against: string | null;
    readonly psi: number | null;
    readonly ks: number | null;
    readonly psiBoth: number | null;
    readonly reading: DriftReading;
    readonly n: number;
  }[];
  /** The canary report's figures (its rows apart); null without canary lines. */
  readonly canary: Omit<CanaryReport, 'rows'> | null;
}

export function summarizeDrift(report: DriftReport): DriftSummary {
  return {
    rule: report.rule,
    alert: report.alert,
    checks: report.checks.map((c) => ({ check: c.check, against: c.against, psi: c.all.psi, ks: c.all.ks, psiBoth: c.both.psi, reading: c.all.reading, n: c.all.n })),
    canary: report.canary === null ? null : (({ rows: _rows, ...figures }) => figures)(report.canary),
  };
}

/** One sentence: `drift: ooto-deepfake PSI 0.012 stable against night-03; …`, with the rule, or the alert first. */
export function describeDrift(drift: DriftSummary): string {
  const parts = drift.checks.map((c) =>
    c.against === null ? `${c.check} no earlier batch` : c.psi === null ? `${c.check} too few scores` : `${c.check} PSI ${c.psi.toFixed(3)} ${c.reading} (KS ${c.ks?.toFixed(3)}) against ${c.against}`,
  );
  return `${drift.alert ? 'DRIFT ALERT — ' : ''}drift: ${parts.length > 0 ? parts.join('; ') : 'no scored records'}${drift.canary ? `; ${describeCanary(drift.canary)}` : ''} [${drift.rule}]`;
}

/** `canaries 20/20 agree, mean moved -0.100 against night-19, 10 flipped (CANARY ALERT, threshold 0.1)`. */
export function describeCanary(c: Omit<CanaryReport, 'rows'>): string {
  const moved = c.meanShift === null ? 'no previous run' : `mean moved ${c.meanShift >= 0 ? '+' : ''}${c.meanShift.toFixed(3)} against ${c.against}`;
  return `canaries ${c.agreed}/${c.lines} agree, ${moved}, ${c.flips} flipped${c.alert ? ' (CANARY ALERT,' : ' (within'} threshold ${c.threshold})`;
}
