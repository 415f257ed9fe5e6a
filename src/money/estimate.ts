/**
 * Knowing before paying: what a batch would cost, counted by a dry run of the producer. Reads the
 * store (which lines already have a record) and probes local media (media/probe.ts); writes nothing.
 */
import type { CheckName, CheckRegistry } from '../checks/registry.js';
import type { Vendor } from '../vendors/types.js';
import { DEFAULT_CONCURRENCY } from '../config/defaults.js';
import { perSecond, type RateLimit } from '../config/rate-limit.js';
import type { InvalidLine, LineValidation, ValidLine } from '../manifest/line.js';
import { LOCAL_FAIL_CODES, LOCAL_REJECT_CODES, type LocalRejectCode, type MediaProbe, type ProbeResult } from '../media/probe.js';
import type { ResultStore } from '../store/types.js';
import { MediaDigester } from '../media/digest.js';
import { NearDuplicateFinder, type NearDuplicates } from '../rings/near-groups.js';

/** What the lines of one check would do. Lines that already have a record are not in it. */
export interface CheckEstimate {
  readonly check: CheckName;
  readonly vendor: Vendor;
  /** Valid lines of this check that have no record yet (each would become a job). */
  readonly lines: number;
  /** Lines that would reach the vendor: local media that passes every local rule, plus `remote`. */
  readonly paidCalls: number;
  /** Of `paidCalls`: lines with an http(s) reference, not fetched (size and type unknown), counted as paid. */
  readonly remote: number;
  /** Lines local validation would reject (`rejected`, no paid call), by error code; every code present. */
  readonly rejected: Readonly<Record<LocalRejectCode, number>>;
  /**
   * Lines whose media cannot be read (`failed`, no paid call), by error code: `MEDIA_NOT_FOUND` and
   * `MEDIA_UNREADABLE` always present, any other code only when seen.
   */
  readonly failed: Readonly<Record<string, number>>;
}

/** Paid calls of one vendor and how long they take at its rate limit. */
export interface VendorEstimate {
  readonly vendor: Vendor;
  readonly paidCalls: number;
  /** Paid calls with `--dedupe` (one per distinct check, options and media). */
  readonly distinctPaidCalls: number;
  /** The configured limit (the vendor's `*_RATE_LIMIT`, e.g. `OOTO_RATE_LIMIT`); `undefined` when none is set. */
  readonly rateLimit: RateLimit | undefined;
  /**
   * `paidCalls` ÷ the limit's calls per second, in seconds (0 without calls); `undefined` when calls
   * would be made and no limit is set (then the workers' concurrency and the vendor's latency decide).
   */
  readonly seconds: number | undefined;
}

/** The dry run's estimate of a batch (README "Knowing before paying: `--dry-run`"). */
export interface DryRunEstimate {
  /** Every check, zeros included, in registry order. */
  readonly checks: Readonly<Record<CheckName, CheckEstimate>>;
  /** Every vendor, zeros included. */
  readonly vendors: Readonly<Record<Vendor, VendorEstimate>>;
  /** Sums over the checks. */
  readonly paidCalls: number;
  readonly remote: number;
  readonly rejected: Readonly<Record<LocalRejectCode, number>>;
  readonly failed: Readonly<Record<string, number>>;
  /**
   * Paid calls with `--dedupe`: one per distinct (check, options, media bytes) among the paid lines.
   * The same bytes under several names count once; a remote ref counts by its URL.
   */
  readonly distinctPaidCalls: number;
  /**
   * Near-duplicate groups among the local media the paid lines would send (README: Fraud rings):
   * distinct pictures within the perceptual link rule, which `--dedupe` (byte-exact) pays for each.
   */
  readonly nearDuplicates: NearDuplicates;
  /** Invalid lines without a record: each would get a `failed` record (`INVALID_LINE`) and no call. */
  readonly invalid: number;
  /** Lines (valid or not) that already have a record: enqueue would skip them. */
  readonly alreadyRecorded: number;
  /**
   * How long the paid calls would take at the rate limits, seconds: the slowest vendor (the vendor
   * queues run side by side); 0 without paid calls; `undefined` when a vendor with calls has no limit.
   */
  readonly seconds: number | undefined;
}

/** What {@link DryRunEstimator} needs. */
export interface DryRunEstimatorDeps {
  readonly batch: string;
  /** Folder that relative media paths resolve against (as in the jobs' payloads). */
  readonly baseDir: string;
  /** What each check takes, its vendor and the vendor's media caps. */
  readonly checks: CheckRegistry;
  /** Read only: `has`. */
  readonly store: ResultStore;
  readonly probe: MediaProbe;
  /** Probes under way at once. Default 16. */
  readonly concurrency?: number;
}

/** Distinct media keys the dry run remembers (about 150 bytes each). */
const MAX_DISTINCT = 2_000_000;

interface CheckCounts {
  lines: number;
  paidCalls: number;
  remote: number;
  rejected: Record<LocalRejectCode, number>;
  failed: Record<string, number>;
}

/**
 * Counts a dry run chunk by chunk (the producer feeds it the chunks it would write). Chunks may be
 * added concurrently; the counts are sums, so order does not matter.
 */
export class DryRunEstimator {
  private readonly counts = new Map<CheckName, CheckCounts>();
  private invalid = 0;
  private alreadyRecorded = 0;
  private readonly digester = new MediaDigester();
  /** Distinct (check, options, media) keys of the paid lines (bounded: see {@link MAX_DISTINCT}). */
  private readonly distinct = new Set<string>();
  private distinctOverflow = 0;
  private readonly distinctByVendor = new Map<Vendor, number>();
  private readonly near = new NearDuplicateFinder();

  constructor(private readonly deps: DryRunEstimatorDeps) {
    for (const c of deps.checks.names) this.counts.set(c, emptyCounts());
  }

  /** Looks up which lines have a record (one round trip), probes the media of the others. */
  async add(chunk: readonly LineValidation[]): Promise<{ readonly alreadyRecorded: number }> {
    const recorded = await this.deps.store.has(this.deps.batch, chunk.map((l) => l.line));
    const toProbe: ValidLine[] = [];
    let alreadyRecorded = 0;
    chunk.forEach((line: ValidLine | InvalidLine, index) => {
      if (recorded[index] === true) alreadyRecorded++;
      else if (!line.ok) this.invalid++;
      else toProbe.push(line);
    });
    this.alreadyRecorded += alreadyRecorded;

    const concurrency = Math.max(1, Math.floor(this.deps.concurrency ?? DEFAULT_CONCURRENCY));
    let next = 0;
    const worker = async (): Promise<void> => {
      for (let line = toProbe[next++]; line !== undefined; line = toProbe[next++]) {
        const refs = line.frames ?? (line.ref !== undefined ? [line.ref] : []);
        const { checks } = this.deps;
        const result = await this.deps.probe.probe(checks.get(line.check).input, refs, this.deps.baseDir, checks.mediaLimitsOf(line.check));
        this.count(line.check, result);
        if (result.outcome === 'sent' || result.outcome === 'remote') await this.countDistinct(line, refs);
        // Local media only (a remote ref is not fetched by a dry run).
        if (result.outcome === 'sent') await this.near.add(refs, this.deps.baseDir, line.line);
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, toProbe.length) }, worker));
    return { alreadyRecorded };
  }

  /** The estimate so far, timed at these rate limits. */
  result(rateLimits: Readonly<Partial<Record<Vendor, RateLimit | undefined>>> = {}): DryRunEstimate {
    const registry = this.deps.checks;
    const checks: Record<CheckName, CheckEstimate> = Object.fromEntries(
      registry.names.map((check) => {
        const c = this.countsOf(check);
        const estimate: CheckEstimate = {
          check,
          vendor: registry.vendorOf(check),
          lines: c.lines,
          paidCalls: c.paidCalls,
          remote: c.remote,
          rejected: { ...c.rejected },
          failed: { ...c.failed },
        };
        return [check, estimate];
      }),
    );
    const all = Object.values(checks);

    const vendors: Record<Vendor, VendorEstimate> = Object.fromEntries(
      registry.vendors.map((vendor) => {
        const paidCalls = all.filter((c) => c.vendor === vendor).reduce((n, c) => n + c.paidCalls, 0);
        const rateLimit = rateLimits[vendor];
        const seconds = paidCalls === 0 ? 0 : rateLimit === undefined ? undefined : paidCalls / perSecond(rateLimit);
        const estimate: VendorEstimate = { vendor, paidCalls, distinctPaidCalls: this.distinctByVendor.get(vendor) ?? 0, rateLimit, seconds };
        return [vendor, estimate];
      }),
    );
    const times = Object.values(vendors).map((v) => v.seconds);

    const rejected = zeros(LOCAL_REJECT_CODES);
    const failed: Record<string, number> = zeros(LOCAL_FAIL_CODES);
    for (const c of all) {
      for (const code of LOCAL_REJECT_CODES) rejected[code] += c.rejected[code];
      for (const [code, n] of Object.entries(c.failed)) failed[code] = (failed[code] ?? 0) + n;
    }
    return {
      checks,
      vendors,
      paidCalls: all.reduce((n, c) => n + c.paidCalls, 0),
      remote: all.reduce((n, c) => n + c.remote, 0),
      rejected,
      failed,
      distinctPaidCalls: this.distinct.size + this.distinctOverflow,
      nearDuplicates: this.near.result(),
      invalid: this.invalid,
      alreadyRecorded: this.alreadyRecorded,
      seconds: times.includes(undefined) ? undefined : Math.max(0, ...times.map((t) => t ?? 0)),
    };
  }

  private async countDistinct(line: ValidLine, refs: readonly string[]): Promise<void> {
    const media = await this.digester.ofRefs(refs, this.deps.baseDir);
    const key = `${line.check}\u0000${JSON.stringify(line.options ?? {})}\u0000${media ?? `line:${line.line}`}`;
    if (this.distinct.has(key)) return;
    const vendor = this.deps.checks.vendorOf(line.check);
    this.distinctByVendor.set(vendor, (this.distinctByVendor.get(vendor) ?? 0) + 1);
    // Past the bound every new key counts as distinct: the saving is under-, never over-stated.
    if (this.distinct.size < MAX_DISTINCT) this.distinct.add(key);
    else this.distinctOverflow++;
  }

  private countsOf(check: CheckName): CheckCounts {
    let c = this.counts.get(check);
    if (c === undefined) this.counts.set(check, (c = emptyCounts()));
    return c;
  }

  private count(check: CheckName, result: ProbeResult): void {
    const c = this.countsOf(check);
    c.lines++;
    switch (result.outcome) {
      case 'sent':
        c.paidCalls++;
        break;
      case 'remote':
        c.paidCalls++;
        c.remote++;
        break;
      case 'rejected':
        c.rejected[result.code]++;
        break;
      case 'failed':
        c.failed[result.code] = (c.failed[result.code] ?? 0) + 1;
        break;
    }
  }
}

function emptyCounts(): CheckCounts {
  return { lines: 0, paidCalls: 0, remote: 0, rejected: zeros(LOCAL_REJECT_CODES), failed: zeros(LOCAL_FAIL_CODES) };
}

function zeros<K extends string>(keys: readonly K[]): Record<K, number> {
  return Object.fromEntries(keys.map((k) => [k, 0])) as Record<K, number>;
}
