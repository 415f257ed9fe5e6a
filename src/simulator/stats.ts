/**
 * Call accounting: what a test or the benchmark asks the simulator afterwards ("how many paid calls
 * did media X cost?").
 */

/** The simulated vendor endpoints. */
export type SimEndpoint = 'ooto-deepfake' | 'ooto-identify' | 'ooto-add' | 'glair-video' | 'glair-frames';
export const SIM_ENDPOINTS: readonly SimEndpoint[] = ['ooto-deepfake', 'ooto-identify', 'ooto-add', 'glair-video', 'glair-frames'];

/** A snapshot of the simulator's counters (also served as JSON by `GET /__sim/stats`). */
export interface SimulatorStats {
  /** Vendor calls received (every endpoint of {@link SimEndpoint}, whatever their answer). */
  readonly totalCalls: number;
  /** Vendor calls received, by endpoint. */
  readonly callsByEndpoint: Record<SimEndpoint, number>;
  /**
   * Answers sent, by HTTP status (`"200"`, `"400"`, `"429"`…), plus `"reset"` (socket destroyed) and
   * `"timeout"` (never answered) for injected failures.
   */
  readonly responsesByStatus: Record<string, number>;
  /** Calls refused with 429. */
  readonly rateLimited: number;
  /** Calls failed on purpose (failure knob or `failNext`), any kind. */
  readonly failuresInjected: number;
  /**
   * Screening calls by the sha256 (hex) of their media: the photo, the video, or the decoded frames
   * concatenated in order. Counts every call that got past authentication and rate limiting (including
   * injected failures and engine errors); enrolments (`/add`) are not counted here.
   */
  readonly callsByMediaSha256: Record<string, number>;
  /**
   * Per vendor: the most calls its quota let through in any span of the quota's duration (1 s
   * without a quota): above the quota only if the gateway kind lets bursts through.
   */
  readonly maxInWindow?: Record<'ooto' | 'glair', number>;
}

export class StatsRecorder {
  #total = 0;
  #byEndpoint = zeroEndpoints();
  #byStatus = new Map<string, number>();
  #rateLimited = 0;
  #failures = 0;
  #byMedia = new Map<string, number>();

  call(endpoint: SimEndpoint): void {
    this.#total += 1;
    this.#byEndpoint[endpoint] += 1;
  }

  response(status: number | 'reset' | 'timeout'): void {
    const key = String(status);
    this.#byStatus.set(key, (this.#byStatus.get(key) ?? 0) + 1);
  }

  rateLimited(): void {
    this.#rateLimited += 1;
  }

  failureInjected(): void {
    this.#failures += 1;
  }

  media(sha256: string): void {
    this.#byMedia.set(sha256, (this.#byMedia.get(sha256) ?? 0) + 1);
  }

  snapshot(): SimulatorStats {
    return {
      totalCalls: this.#total,
      callsByEndpoint: { ...this.#byEndpoint },
      responsesByStatus: Object.fromEntries(this.#byStatus),
      rateLimited: this.#rateLimited,
      failuresInjected: this.#failures,
      callsByMediaSha256: Object.fromEntries(this.#byMedia),
    };
  }

  reset(): void {
    this.#total = 0;
    this.#byEndpoint = zeroEndpoints();
    this.#byStatus = new Map();
    this.#rateLimited = 0;
    this.#failures = 0;
    this.#byMedia = new Map();
  }
}

function zeroEndpoints(): Record<SimEndpoint, number> {
  return { 'ooto-deepfake': 0, 'ooto-identify': 0, 'ooto-add': 0, 'glair-video': 0, 'glair-frames': 0 };
}
