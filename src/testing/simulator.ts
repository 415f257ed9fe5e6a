/**
 * The testing kit's simulator: the contract-true vendor simulator (src/simulator) in-process, with
 * outcomes scripted per media and a call log for assertions.
 *
 * How the simulator chooses its answer for a piece of media, in this order:
 * 1. an `outcomes` rule of this kit that matches it (by its sha256, or by a marker text in its bytes);
 * 2. else the directive the media carries in its bytes, `rescreen-sim:<directives>;` (a JPEG COM
 *    segment, a PNG tEXt chunk, an mp4 `free` box — what this kit's media builders write);
 * 3. else its sha256: the same bytes always get the same answer, mostly genuine (about 15 % deepfake).
 */
import { createHash } from 'node:crypto';
import type { SimVendor } from '../simulator/options.js';
import { parseRateLimit } from '../config/rate-limit.js';
import { parseDirectiveText } from '../simulator/directives.js';
import type { FailureKind, SimRateLimit, SimulatorSettings } from '../simulator/options.js';
import type { SimCall } from '../simulator/script.js';
import { SIM_CREDENTIALS, startSimulator as startInner, type Simulator } from '../simulator/server.js';
import type { SimulatorStats } from '../simulator/stats.js';

export type { SimCall } from '../simulator/script.js';
export type { FailureKind, SimRateLimit, SimulatorStats };

/**
 * What the vendor "sees" in a piece of media, or how its calls fail:
 * - `'genuine'` / `'deepfake'`: the deepfake checks answer so (`ooto-deepfake`, `glair-video`,
 *   `glair-frames`: record `completed` with that verdict; `ooto-identify` liveness/deepfake follow);
 * - `'noface'`: OOTO engine error 5, GLAIR status `FAILED` (record `rejected`, code `5` / `"FAILED"`);
 * - `'faces'`: OOTO engine error 6 (more than one face; `rejected`, code `6`);
 * - `'small'`: OOTO engine error 9 (face too small; `rejected`, code `9`);
 * - `{ directives: 'score=0.3,face=bob' }`: any directive text of the simulator (README "Testing your integration");
 * - `{ fail: '429' | '500' | '503' | 'reset' | 'timeout', times?, retryAfterSeconds? }`: the call
 *   fails that way (`times`: only the first n calls of that media; default every call). A 429's
 *   `Retry-After` is `retryAfterSeconds` (`null`: none; default: OOTO sends one, GLAIR none);
 * - `{ latencyMs }`: this media's answers come that much later.
 */
export type Outcome =
  | 'genuine'
  | 'deepfake'
  | 'noface'
  | 'faces'
  | 'small'
  | { readonly directives: string }
  | { readonly fail: FailureKind | '429'; readonly times?: number; readonly retryAfterSeconds?: number | null }
  | { readonly latencyMs: number };

/** Which media an {@link Outcome} is for: its sha256 (hex), its bytes, or a marker text anywhere in its bytes. */
export type OutcomeRule =
  | { readonly sha256: string; readonly outcome: Outcome }
  | { readonly media: Uint8Array; readonly outcome: Outcome }
  | { readonly marker: string; readonly outcome: Outcome };

/** A vendor quota: `'5/s'`, `'100/m'`, or the simulator's own {@link SimRateLimit}. */
export type TestRateLimit = string | SimRateLimit;

/** Options of {@link startSimulator}. */
export interface TestSimulatorOptions {
  /** TCP port on 127.0.0.1; default a free one. */
  readonly port?: number;
  /** Per-media outcomes; the first matching rule wins. */
  readonly outcomes?: readonly OutcomeRule[];
  /** Delay before every answer, ms. Default 0. */
  readonly latencyMs?: number;
  /** A share (0–1) of all calls that fail, at random, with one of `kinds` (default 500, 503, reset). */
  readonly failures?: { readonly rate: number; readonly kinds?: readonly FailureKind[]; readonly seed?: number };
  /** Per-vendor quotas answered with 429 (OOTO with `Retry-After`, GLAIR without, as they document). */
  readonly rateLimit?: Readonly<Partial<Record<SimVendor, TestRateLimit>>>;
  /** A scripted vendor model change and night-to-night noise of the deepfake scores ({@link ScoreDrift}). Default none. */
  readonly scoreDrift?: ScoreDrift;
}

/**
 * How the deepfake scores move, to rehearse a vendor's model change (README: Score drift):
 * `shift` is added per vendor (rescreen's scale, higher = more genuine: `{ ooto: -0.1 }` makes
 * `ooto-deepfake` scores 0.1 lower), `noise` moves every answer by a uniform draw in [−noise, +noise]
 * (`seed` makes the draws reproducible). Scores stay within [0, 1].
 */
export interface ScoreDrift {
  readonly shift?: Readonly<Partial<Record<SimVendor, number>>>;
  readonly noise?: number;
  readonly seed?: number;
}

/** A running test simulator. */
export interface TestSimulator {
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  readonly port: number;
  /** The variables that point rescreen at this simulator: `OOTO_BASE_URL`, `GLAIR_BASE_URL` and the credentials it accepts. */
  readonly env: Readonly<Record<string, string>>;
  /** Every vendor call so far, in the order answered (the last 100,000). */
  calls(): readonly SimCall[];
  /** The calls whose media had this sha256 (or these bytes). */
  callsFor(media: string | Uint8Array): readonly SimCall[];
  /** Counters: calls by endpoint and status, 429s, injected failures, calls per media sha256. */
  stats(): SimulatorStats;
  /** Forgets the call log and the counters. */
  reset(): void;
  /** The next `count` calls (of `vendor`, or any) fail with `kind`. */
  failNext(count: number, kind: FailureKind, vendor?: SimVendor): void;
  /** Enrols a face in OOTO's 1:N database, so `ooto-identify` of a photo built with that `face` answers `match`. Returns the template id. */
  enrol(face: string, templateId?: string): string;
  /** Changes the score shift and noise from the next call on (a key left out keeps its value). */
  setScoreDrift(drift: ScoreDrift): void;
  /** Stops it (closes every connection). */
  close(): Promise<void>;
}

/** Most calls kept in the call log. */
const MAX_CALLS = 100_000;

/** sha256 (hex) of some bytes: the key of {@link OutcomeRule} and of the call log. */
export function sha256Of(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function directivesOf(outcome: Outcome): string | undefined {
  if (typeof outcome === 'string') return outcome === 'deepfake' ? 'fake' : outcome === 'faces' ? 'faces=2' : outcome;
  return 'directives' in outcome ? outcome.directives : undefined;
}

function rateLimitOf(vendor: SimVendor, limit: TestRateLimit | undefined): SimRateLimit | null {
  if (limit === undefined) return null;
  if (typeof limit !== 'string') return limit;
  const parsed = parseRateLimit(limit);
  if (!parsed) throw new RangeError(`rateLimit.${vendor}: ${JSON.stringify(limit)} must read <count>/<s|m|h>, e.g. 5/s`);
  return parsed;
}

/**
 * Starts the vendor simulator in this process (both vendors, one port). Nothing starts before this
 * is called.
 * @throws RangeError for an option out of range.
 */
export async function startSimulator(options: TestSimulatorOptions = {}): Promise<TestSimulator> {
  const rules = (options.outcomes ?? []).map((rule) => ({
    sha256: 'sha256' in rule ? rule.sha256.toLowerCase() : 'media' in rule ? sha256Of(rule.media) : undefined,
    marker: 'marker' in rule ? Buffer.from(rule.marker, 'utf8') : undefined,
    outcome: rule.outcome,
    directives: (() => {
      const text = directivesOf(rule.outcome);
      return text === undefined ? undefined : parseDirectiveText(text);
    })(),
    used: 0,
  }));
  for (const r of rules) if (r.marker?.length === 0) throw new RangeError('outcomes: a marker must not be empty');
  // A marker rule is matched against the bytes, once per media; the result is kept by sha256 for the calls that follow.
  const matched = new Map<string, (typeof rules)[number] | null>();
  const ruleFor = (sha256: string, bytes?: Buffer): (typeof rules)[number] | undefined => {
    const known = matched.get(sha256);
    if (known !== undefined) return known ?? undefined;
    const rule = rules.find((r) => r.sha256 === sha256) ?? (bytes ? rules.find((r) => r.marker !== undefined && bytes.includes(r.marker)) : undefined);
    if (bytes || rule) matched.set(sha256, rule ?? null);
    return rule;
  };
  const calls: SimCall[] = [];
  const limits = options.rateLimit ?? {};
  const inner: Simulator = await startInner({
    ...(options.port !== undefined ? { port: options.port } : {}),
    latencyMs: options.latencyMs ?? 0,
    ...(options.failures
      ? { failureRate: options.failures.rate, ...(options.failures.kinds ? { failureKinds: options.failures.kinds } : {}), ...(options.failures.seed !== undefined ? { randomSeed: options.failures.seed } : {}) }
      : {}),
    rateLimit: { ooto: rateLimitOf('ooto', limits.ooto), glair: rateLimitOf('glair', limits.glair) },
    ...driftSettings(options.scoreDrift, { ooto: 0, glair: 0 }),
    script: {
      directivesFor: (bytes, sha256) => ruleFor(sha256, bytes)?.directives,
      callFor: (sha256) => {
        const rule = ruleFor(sha256);
        if (!rule || typeof rule.outcome === 'string') return undefined;
        if ('latencyMs' in rule.outcome) return { latencyMs: rule.outcome.latencyMs };
        if (!('fail' in rule.outcome)) return undefined;
        const { fail, times, retryAfterSeconds } = rule.outcome;
        if (times !== undefined && rule.used >= times) return undefined;
        rule.used += 1;
        return { failure: { kind: fail, ...(retryAfterSeconds !== undefined ? { retryAfterSeconds } : {}) } };
      },
      onCall: (call) => {
        calls.push(call);
        if (calls.length > MAX_CALLS) calls.splice(0, calls.length - MAX_CALLS);
      },
    },
  });
  const env = {
    OOTO_BASE_URL: inner.url,
    OOTO_APP_ID: SIM_CREDENTIALS.ooto.appId,
    OOTO_APP_KEY: SIM_CREDENTIALS.ooto.appKey,
    GLAIR_BASE_URL: inner.url,
    GLAIR_USERNAME: SIM_CREDENTIALS.glair.username,
    GLAIR_PASSWORD: SIM_CREDENTIALS.glair.password,
    GLAIR_API_KEY: SIM_CREDENTIALS.glair.apiKey,
  };
  return {
    url: inner.url,
    port: inner.port,
    env,
    calls: () => [...calls],
    callsFor: (media) => {
      const sha = typeof media === 'string' ? media.toLowerCase() : sha256Of(media);
      return calls.filter((c) => c.sha256 === sha);
    },
    stats: () => inner.stats(),
    reset: () => {
      calls.length = 0;
      inner.resetStats();
    },
    failNext: (count, kind, vendor) => inner.failNext(count, kind, vendor),
    enrol: (face, templateId) => inner.addIdentity(face, templateId),
    setScoreDrift: (drift) => inner.configure(driftSettings(drift, inner.settings().scoreShift)),
    close: () => inner.close(),
  };
}

/** The simulator settings of a {@link ScoreDrift}, a vendor's shift left out keeping `current`. */
function driftSettings(drift: ScoreDrift | undefined, current: Readonly<Record<SimVendor, number>>): SimulatorSettings {
  if (drift === undefined) return {};
  return {
    ...(drift.shift !== undefined ? { scoreShift: { ooto: drift.shift.ooto ?? current.ooto, glair: drift.shift.glair ?? current.glair } } : {}),
    ...(drift.noise !== undefined ? { scoreNoise: drift.noise } : {}),
    ...(drift.seed !== undefined ? { randomSeed: drift.seed } : {}),
  };
}
