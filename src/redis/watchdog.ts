/**
 * Is Redis still there? For commands that must end rather than hang: a connection that closed and
 * did not come back, or a server that keeps the socket open and no longer answers (frozen with
 * SIGSTOP, a stuck VM, a half-open TCP path), which ioredis alone never notices — its commands just
 * wait. The watchdog PINGs on a connection of its own, so a long reply on the command connection
 * (a big SCAN, a pipeline) is never taken for silence; a server busy with a long script answers
 * BUSY, which is an answer.
 */
import type { Redis } from 'ioredis';
import { redactUrl } from '../config/config.js';
import { connectRedis } from './connect.js';
import { RedisUnavailableError } from './locate.js';

/**
 * Redis went away under a running command (REDIS_UNAVAILABLE). `kind`: `closed`, the command
 * connection closed and was not ready again within the grace; `silent`, the server kept the
 * connection and answered no PING for `afterMs`.
 */
export class RedisLostError extends RedisUnavailableError {
  override name = 'RedisLostError';
  constructor(
    readonly kind: 'closed' | 'silent',
    readonly afterMs: number,
    url: string,
  ) {
    super(
      kind === 'closed'
        ? `lost the connection to Redis at ${redactUrl(url)} and it did not come back within ${Math.round(afterMs / 1000)} s`
        : `Redis at ${redactUrl(url)} stopped answering (no reply for ${Math.round(afterMs / 1000)} s: frozen, overloaded or cut off)`,
    );
  }
}

export interface RedisWatchdogOptions {
  /** A closed command connection may take this long to be ready again, ms. */
  readonly lostGraceMs: number;
  /** The server may leave a PING unanswered this long, ms. */
  readonly silentMs: number;
  /** How often to PING, ms. Default 1000. */
  readonly pingEveryMs?: number;
}

/**
 * Watches the Redis at `url` until disposed; `lost` rejects with a {@link RedisLostError} once it is
 * gone. {@link follow} adds a command connection whose `close` counts too.
 */
export class RedisWatchdog {
  /** Rejects with a {@link RedisLostError}; never resolves. */
  readonly lost: Promise<never>;
  #fired = false;
  #reject: (error: RedisLostError) => void = () => undefined;
  readonly #probe: Redis;
  readonly #interval: NodeJS.Timeout;
  #closedTimer: NodeJS.Timeout | undefined;
  #lastAnswer = Date.now();
  #followed: Redis | undefined;

  constructor(
    private readonly url: string,
    private readonly options: RedisWatchdogOptions,
  ) {
    this.lost = new Promise<never>((_, reject) => (this.#reject = reject));
    this.lost.catch(() => undefined);
    // Its own connection: no offline queue (a PING while disconnected fails at once) and no retry
    // per request; it reconnects in the background like any ioredis client.
    this.#probe = connectRedis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 0, connectTimeout: options.silentMs });
    this.#probe.on('error', () => undefined);
    let pending = false;
    this.#interval = setInterval(() => {
      const silentFor = Date.now() - this.#lastAnswer;
      if (silentFor >= options.silentMs) {
        this.#fire('silent', silentFor);
        return;
      }
      if (pending || this.#probe.status !== 'ready') return;
      pending = true;
      // Any reply, an error reply (BUSY, LOADING) included, says the server is alive.
      const answered = () => {
        pending = false;
        this.#lastAnswer = Date.now();
      };
      this.#probe.ping().then(answered, (error: unknown) => {
        if (error instanceof Error && error.name === 'ReplyError') answered();
        else pending = false;
      });
    }, options.pingEveryMs ?? 1_000);
    this.#interval.unref();
  }

  /** True once `lost` has rejected. */
  get fired(): boolean {
    return this.#fired;
  }

  /** Also gives up when `connection` closes and is not ready again within `lostGraceMs`. */
  follow(connection: Redis): void {
    this.#followed = connection;
    connection.on('close', this.#onClose);
    connection.on('ready', this.#onReady);
  }

  /** Stops watching; closes the watchdog's own connection without waiting for the server. */
  dispose(): void {
    clearInterval(this.#interval);
    clearTimeout(this.#closedTimer);
    this.#followed?.off('close', this.#onClose);
    this.#followed?.off('ready', this.#onReady);
    this.#probe.disconnect();
  }

  readonly #onClose = (): void => {
    this.#closedTimer ??= setTimeout(() => this.#fire('closed', this.options.lostGraceMs), this.options.lostGraceMs);
  };

  readonly #onReady = (): void => {
    clearTimeout(this.#closedTimer);
    this.#closedTimer = undefined;
  };

  #fire(kind: 'closed' | 'silent', afterMs: number): void {
    if (this.#fired) return;
    this.#fired = true;
    this.dispose();
    this.#reject(new RedisLostError(kind, afterMs, this.url));
  }
}
