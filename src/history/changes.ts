/**
 * Verdict changes: what a re-screen is for. For each record of a batch, the previous screening of
 * the same subject and check (an earlier record, a batch named as the baseline, or the onboarding
 * decision the manifest line carried) next to this one, classified.
 */
import { createHash } from 'node:crypto';
import type { CheckName, CheckRegistry } from '../checks/registry.js';
import { isCanary, type PreviousScreening, type ResultRecord, type Verdict } from '../checks/types.js';
import type { ResultStore } from '../store/types.js';

/** How a line's verdict moved against its baseline. */
export type ChangeKind =
  /** The good verdict became the bad one (`genuine → deepfake`, `match → no-match`). */
  | 'worse'
  /** The bad verdict became the good one. */
  | 'better'
  /** Same verdict, score lower by at least `minDelta`. */
  | 'score-drop'
  /** Same verdict (and no score drop over `minDelta`). */
  | 'unchanged'
  /** No baseline: the subject was never screened with this check before. */
  | 'new'
  /** This screening has no verdict (rejected or failed): nothing to compare. */
  | 'no-verdict';

export const CHANGE_KINDS: readonly ChangeKind[] = ['worse', 'better', 'score-drop', 'unchanged', 'new', 'no-verdict'];

/** What a line is compared against. */
export interface Baseline {
  /** `record`: an earlier record (or the `--against` batch's); `manifest`: the line's `previous`. */
  readonly source: 'record' | 'manifest';
  readonly verdict: Verdict;
  readonly score: number | null;
  /** When that screening was (a record's `finishedAt`, or the manifest's `previous.at`). */
  readonly at: string | null;
  readonly batch: string | null;
  readonly line: number | null;
  readonly transactionId: string | null;
}

/** One line of a batch next to its baseline. */
export interface Change {
  readonly line: number;
  readonly subject: string | null;
  readonly check: CheckName;
  readonly verdict: Verdict | null;
  readonly score: number | null;
  readonly transactionId: string | null;
  readonly baseline: Baseline | null;
  readonly kind: ChangeKind;
  /** `genuine → deepfake` for a verdict change; `score 0.91 → 0.62` for a score drop; else the kind. */
  readonly label: string;
  /** `score - baseline.score` when both are known. */
  readonly scoreDelta: number | null;
  /** sha256 of the media screened (frames: of their digests), when the record says what was sent. */
  readonly mediaSha256: string | null;
}

/** Media screened under more than one subject: a fraud signal (one face, several customers). */
export interface SharedMedia {
  readonly sha256: string;
  /** The subjects, in line order (at most {@link SHARED_SUBJECTS_LISTED}). */
  readonly subjects: readonly string[];
  readonly subjectCount: number;
}

/** Shared media files listed in the counts; the rest are counted. */
export const SHARED_MEDIA_LISTED = 20;
export const SHARED_SUBJECTS_LISTED = 10;

/** Counts of a batch's changes. */
export interface ChangeCounts {
  /** Lines compared (every record with a check). */
  readonly lines: number;
  readonly byKind: Readonly<Record<ChangeKind, number>>;
  /** Verdict transitions seen, e.g. `{"genuine → deepfake": 3}`. */
  readonly transitions: Readonly<Record<string, number>>;
  /** Of `transitions`, the labels of worse ones (good verdict → bad). */
  readonly worseTransitions: readonly string[];
  /** Media files screened under two or more subjects in this batch, and how many subjects they cover. */
  readonly sharedMedia: { readonly files: number; readonly subjects: number; readonly list: readonly SharedMedia[] };
}

export interface ChangeOptions {
  /** Compare with this batch's record of the same subject and check (not with the latest earlier one). */
  readonly against?: string;
  /** A drop of the score by at least this much counts as `score-drop` (default 0.2; 0 turns it off). */
  readonly minDelta?: number;
  /** Subjects looked up at once (default 16). */
  readonly concurrency?: number;
}

export const DEFAULT_MIN_DELTA = 0.2;

/** The changes of a batch, in line order; flat memory but for `--against` (one entry per subject of that batch). */
export async function* batchChanges(store: ResultStore, checks: CheckRegistry, batch: string, options: ChangeOptions = {}): AsyncGenerator<Change> {
  for await (const { change } of batchChangesWithRecords(store, checks, batch, options)) yield change;
}

/** {@link batchChanges}, each with the record it was made from (review cases read its status and error). */
export async function* batchChangesWithRecords(
  store: ResultStore,
  checks: CheckRegistry,
  batch: string,
  options: ChangeOptions = {},
): AsyncGenerator<{ readonly record: ResultRecord; readonly change: Change }> {
  const minDelta = options.minDelta ?? DEFAULT_MIN_DELTA;
  const against = options.against === undefined ? undefined : await indexBatch(store, options.against);
  const concurrency = Math.max(1, options.concurrency ?? 16);
  const histories = new SubjectHistories(store);
  let window: Promise<{ record: ResultRecord; change: Change }>[] = [];
  for await (const record of store.stream(batch)) {
    // Canary lines watch the vendor, not a customer: never a change, a case or shared media.
    if (record.check === null || isCanary(record)) continue;
    const check = record.check;
    window.push(
      (async () => {
        const found = against !== undefined ? fromIndex(against, record) : await latestEarlier(histories, record, check);
        return { record, change: classify(record, check, checks.verdictsOf(check)[0], found ?? fromManifest(record.previous), minDelta) };
      })(),
    );
    if (window.length >= concurrency) {
      for (const pair of await Promise.all(window)) yield pair;
      window = [];
    }
  }
  for (const pair of await Promise.all(window)) yield pair;
}

/** Counts of {@link batchChanges}. */
export async function countChanges(store: ResultStore, checks: CheckRegistry, batch: string, options: ChangeOptions = {}): Promise<ChangeCounts> {
  const tally = new ChangeTally();
  for await (const change of batchChanges(store, checks, batch, options)) tally.add(change);
  return tally.counts();
}

/** Counts changes as they go by (the CLI counts the rows it shows). */
export class ChangeTally {
  #lines = 0;
  readonly #byKind = Object.fromEntries(CHANGE_KINDS.map((k) => [k, 0])) as Record<ChangeKind, number>;
  readonly #transitions: Record<string, number> = {};
  readonly #worse = new Set<string>();
  /** Subjects per media (bounded: past 10^6 media, new ones are not followed). */
  readonly #bySha = new Map<string, Set<string>>();

  add(change: Change): void {
    if (change.mediaSha256 !== null && change.subject !== null) {
      let subjects = this.#bySha.get(change.mediaSha256);
      if (subjects === undefined && this.#bySha.size < 1_000_000) this.#bySha.set(change.mediaSha256, (subjects = new Set()));
      subjects?.add(change.subject);
    }
    this.#lines++;
    this.#byKind[change.kind]++;
    if (change.kind === 'worse' || change.kind === 'better') this.#transitions[change.label] = (this.#transitions[change.label] ?? 0) + 1;
    if (change.kind === 'worse') this.#worse.add(change.label);
  }

  counts(): ChangeCounts {
    const shared = [...this.#bySha].filter(([, subjects]) => subjects.size > 1);
    const list = shared
      .sort(([, a], [, b]) => b.size - a.size)
      .slice(0, SHARED_MEDIA_LISTED)
      .map(([sha256, subjects]) => ({ sha256, subjects: [...subjects].slice(0, SHARED_SUBJECTS_LISTED), subjectCount: subjects.size }));
    return {
      lines: this.#lines,
      byKind: { ...this.#byKind },
      transitions: { ...this.#transitions },
      worseTransitions: [...this.#worse],
      sharedMedia: { files: shared.length, subjects: new Set(shared.flatMap(([, s]) => [...s])).size, list },
    };
  }
}

/** Whether a change is one a compliance team must look at: a worse verdict or a score drop. */
export function isWorse(change: Pick<Change, 'kind'>): boolean {
  return change.kind === 'worse' || change.kind === 'score-drop';
}

/** One sentence: `changes: 3 worse (genuine → deepfake 2, match → no-match 1), 1 score drop, 40 unchanged, 5 new`. */
export function describeChangeCounts(counts: ChangeCounts): string {
  const k = counts.byKind;
  const worse = Object.entries(counts.transitions)
    .filter(([label]) => counts.worseTransitions.includes(label))
    .map(([label, n]) => `${label} ${n}`);
  const parts = [
    `${k.worse} worse${worse.length > 0 ? ` (${worse.join(', ')})` : ''}`,
    `${k['score-drop']} score drop${k['score-drop'] === 1 ? '' : 's'}`,
    `${k.better} better`,
    `${k.unchanged} unchanged`,
    `${k.new} new`,
  ];
  if (k['no-verdict'] > 0) parts.push(`${k['no-verdict']} without a verdict`);
  const shared = counts.sharedMedia;
  const sharedText = shared !== undefined && shared.files > 0 ? `; shared media: ${shared.files} ${shared.files === 1 ? 'file' : 'files'} used by ${shared.subjects} subjects` : '';
  return `changes: ${parts.join(', ')}${sharedText}`;
}

/** `good`: the verdict the check's module names first (the one onboarding expects). */
function classify(record: ResultRecord, check: CheckName, good: Verdict, baseline: Baseline | null, minDelta: number): Change {
  const base = {
    mediaSha256: mediaKey(record),
    line: record.line,
    subject: record.subject,
    check,
    verdict: record.verdict,
    score: record.score,
    transactionId: record.transactionId,
    baseline,
  };
  const scoreDelta = baseline?.score != null && record.score !== null ? round(record.score - baseline.score) : null;
  if (record.status !== 'completed' || record.verdict === null) return { ...base, kind: 'no-verdict', label: 'no verdict', scoreDelta };
  if (baseline === null) return { ...base, kind: 'new', label: 'new', scoreDelta };
  if (baseline.verdict !== record.verdict) {
    const kind: ChangeKind = baseline.verdict === good ? 'worse' : 'better';
    return { ...base, kind, label: `${baseline.verdict} → ${record.verdict}`, scoreDelta };
  }
  if (minDelta > 0 && scoreDelta !== null && -scoreDelta >= minDelta - 1e-9) {
    return { ...base, kind: 'score-drop', label: `score ${fmt(baseline.score)} → ${fmt(record.score)}`, scoreDelta };
  }
  return { ...base, kind: 'unchanged', label: 'unchanged', scoreDelta };
}

/** The latest completed record of the same subject and check in another batch, finished before this one. */
/** Each subject's records, read once per run (a subject on many lines of a batch is one look-up). */
class SubjectHistories {
  readonly #cache = new Map<string, Promise<ResultRecord[]>>();
  constructor(private readonly store: ResultStore) {}
  get(subject: string): Promise<ResultRecord[]> {
    let history = this.#cache.get(subject);
    if (history === undefined) {
      history = this.store.bySubject(subject);
      // Bounded: the oldest entry goes (Map keeps insertion order).
      if (this.#cache.size >= 10_000) this.#cache.delete(this.#cache.keys().next().value as string);
      this.#cache.set(subject, history);
    }
    return history;
  }
}

async function latestEarlier(histories: SubjectHistories, record: ResultRecord, check: CheckName): Promise<Baseline | null> {
  if (record.subject === null) return null;
  const history = await histories.get(record.subject);
  let best: ResultRecord | null = null;
  for (const r of history) {
    if (r.batch === record.batch || r.check !== check || r.status !== 'completed' || r.verdict === null || isCanary(r)) continue;
    if (r.finishedAt >= record.finishedAt) continue;
    if (best === null || r.finishedAt >= best.finishedAt) best = r;
  }
  return best === null ? null : fromRecord(best);
}

type BatchIndex = Map<string, Baseline>;

async function indexBatch(store: ResultStore, batch: string): Promise<BatchIndex> {
  const index: BatchIndex = new Map();
  for await (const r of store.stream(batch)) {
    if (r.subject === null || r.check === null || r.status !== 'completed' || r.verdict === null || isCanary(r)) continue;
    index.set(`${r.check}\u0000${r.subject}`, fromRecord(r));
  }
  return index;
}

function fromIndex(index: BatchIndex, record: ResultRecord): Baseline | null {
  if (record.subject === null) return null;
  return index.get(`${record.check}\u0000${record.subject}`) ?? null;
}

function fromRecord(r: ResultRecord): Baseline {
  return {
    source: 'record',
    verdict: r.verdict as Verdict,
    score: r.score,
    at: r.finishedAt,
    batch: r.batch,
    line: r.line,
    transactionId: r.transactionId,
  };
}

function fromManifest(previous: PreviousScreening | undefined): Baseline | null {
  if (previous === undefined) return null;
  return {
    source: 'manifest',
    verdict: previous.verdict,
    score: previous.score ?? null,
    at: previous.at ?? null,
    batch: null,
    line: null,
    transactionId: null,
  };
}

/** The media of a record as one key: its sha256, or for frames the sha256 of their digests in order. */
function mediaKey(record: ResultRecord): string | null {
  const media = record.media;
  if (media === undefined || media.length === 0) return null;
  if (media.length === 1) return media[0]?.sha256 ?? null;
  return createHash('sha256').update(media.map((m) => m.sha256).join('\n')).digest('hex');
}

function round(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}

function fmt(x: number | null): string {
  return x === null ? '?' : x.toFixed(2);
}
