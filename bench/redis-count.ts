/**
 * Redis commands and round trips of this process, counted two ways for scenario (b):
 *
 * - client-side: every ioredis connection of the process (rescreen's, BullMQ's and their blocking
 *   duplicates) sends through `Redis.prototype.sendCommand`, which is wrapped here (in the bench
 *   only; src/ is untouched). A command sent alone is one round trip; a pipeline or a MULTI/EXEC is
 *   one round trip however many commands it carries (ioredis writes it at once and the caller waits
 *   for all the replies); an EVALSHA is one round trip, named after its script (ioredis'
 *   `defineCommand` name: rescreen's `rescreenStorePut`…, BullMQ's `moveToFinished-14`…). A command
 *   written again by ioredis (its offline queue after a reconnect) is counted once; a NOSCRIPT
 *   retry is a new command, and counted.
 * - server-side: `INFO commandstats` before and after, which also counts the commands a Lua script
 *   runs inside Redis (HINCRBY, HSET… of the put script), so it is the work Redis does, not the
 *   number of times a client waits. Meaningful only on a Redis no one else uses meanwhile.
 */
import { createHash } from 'node:crypto';
import { Redis } from 'ioredis';

/** What one counted stretch of the process sent to Redis. */
export interface RedisTally {
  commands: number;
  roundTrips: number;
  /** Round trips by what they carried: `HGET <key>`, `EVALSHA rescreenStorePut`, `pipeline: …`. */
  readonly byRoundTrip: Map<string, number>;
}

interface SentCommand {
  name: string;
  args: unknown[];
}

interface PipelineStream {
  readonly isPipeline?: boolean;
}

type SendCommand = (this: Redis, command: SentCommand, stream?: PipelineStream, ...rest: unknown[]) => unknown;
type DefineCommand = (this: Redis, name: string, definition: { lua: string; numberOfKeys?: number; readOnly?: boolean }) => void;

let active: { tally: RedisTally; keyName: (key: string) => string } | undefined;
/** sha1 of a script → its `defineCommand` name (BullMQ's without its `:<version>` tail). */
const scriptNames = new Map<string, string>();
let installed = false;
/** The labels of the commands of each pipeline being handed over (until the next microtask). */
const pipelineLabels = new Map<object, string[]>();

function sha1(text: string): string {
  return createHash('sha1').update(text).digest('hex');
}

/** `EVALSHA moveToFinished-14`, `HGET <p>:store:batch:<batch>:records`, `MULTI`… */
function label(command: SentCommand, keyName: (key: string) => string): string {
  const name = command.name.toLowerCase();
  const first = command.args[0];
  if (name === 'evalsha' || name === 'eval') {
    const sha = typeof first === 'string' ? (name === 'eval' ? sha1(first) : first) : '';
    return `EVALSHA ${scriptNames.get(sha) ?? sha.slice(0, 8)}`;
  }
  const arg = typeof first === 'string' ? first : Buffer.isBuffer(first) ? first.toString('utf8') : undefined;
  return arg === undefined ? name.toUpperCase() : `${name.toUpperCase()} ${keyName(arg)}`;
}

/** `pipeline: A, B ×2` or `MULTI/EXEC: A ×2` from the labels of a pipeline's commands, in order. */
function pipelineLabel(labels: readonly string[]): string {
  const multi = labels[0] === 'MULTI' && labels.at(-1) === 'EXEC';
  const inner = multi ? labels.slice(1, -1) : labels;
  const counts = new Map<string, number>();
  for (const l of inner) counts.set(l, (counts.get(l) ?? 0) + 1);
  const parts = [...counts].map(([l, n]) => (n === 1 ? l : `${l} ×${n}`));
  return `${multi ? 'MULTI/EXEC' : 'pipeline'}: ${parts.join(', ')}`;
}

function add(map: Map<string, number>, key: string, n = 1): void {
  map.set(key, (map.get(key) ?? 0) + n);
}

/** Wraps ioredis once for the life of the process; nothing is counted outside {@link countRedis}. */
function install(): void {
  if (installed) return;
  installed = true;
  const proto = Redis.prototype as unknown as { sendCommand: SendCommand; defineCommand: DefineCommand };
  const define = proto.defineCommand;
  proto.defineCommand = function (this: Redis, name, definition) {
    scriptNames.set(sha1(definition.lua), name.replace(/:\d+\.\d+\.\d+$/, ''));
    define.call(this, name, definition);
  };
  const send = proto.sendCommand;
  const seen = new WeakSet<object>();
  proto.sendCommand = function (this: Redis, command, stream, ...rest) {
    const counting = active;
    if (counting !== undefined && !seen.has(command)) {
      seen.add(command);
      const { tally, keyName } = counting;
      tally.commands += 1;
      const text = label(command, keyName);
      if (stream?.isPipeline === true) {
        // ioredis' exec hands every command of one pipeline to sendCommand with the same stream,
        // in one synchronous loop: the pipeline is complete by the next microtask.
        let labels = pipelineLabels.get(stream);
        if (labels === undefined) {
          const mine: string[] = (labels = []);
          pipelineLabels.set(stream, mine);
          queueMicrotask(() => {
            tally.roundTrips += 1;
            add(tally.byRoundTrip, pipelineLabel(mine));
            pipelineLabels.delete(stream);
          });
        }
        labels.push(text);
      } else {
        tally.roundTrips += 1;
        add(tally.byRoundTrip, text);
      }
    }
    return send.call(this, command, stream, ...rest);
  };
}
/**
 * Counts every Redis command this process sends from now until the returned `stop()`.
 * `keyName` turns a key into what the breakdown shows (prefix, batch and numbers made generic).
 * One stretch at a time.
 */
export function countRedis(keyName: (key: string) => string): { stop(): RedisTally } {
  install();
  if (active !== undefined) throw new Error('countRedis: a count is already under way');
  const tally: RedisTally = { commands: 0, roundTrips: 0, byRoundTrip: new Map() };
  active = { tally, keyName };
  const mine = active;
  return {
    stop: () => {
      if (active === mine) active = undefined;
      return tally;
    },
  };
}

/** A key as the breakdown shows it: `prefix` → `<p>`, each of `names` → `<name>`, a number after `:`, `#`, `@`, `-` → `<n>`. */
export function genericKey(prefix: string, names: Readonly<Record<string, string>> = {}): (key: string) => string {
  return (key) => {
    let out = key.split(prefix).join('<p>');
    for (const [name, value] of Object.entries(names)) out = out.split(value).join(`<${name}>`);
    return out.replace(/(?<=[:#@-])\d+/g, '<n>');
  };
}

/** `INFO cpu commandstats` (one command): command → calls (`hincrby`, `client|setname`…), and the server's CPU time. */
async function serverFigures(client: Redis): Promise<ServerFigures> {
  const info = await client.info('cpu', 'commandstats');
  const commands = new Map<string, number>();
  for (const m of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) commands.set(m[1]!, Number(m[2]));
  const seconds = (field: string): number => Number(new RegExp(`^${field}:([\\d.]+)`, 'm').exec(info)?.[1] ?? 0);
  return { commands, cpuMs: (seconds('used_cpu_user') + seconds('used_cpu_sys')) * 1000 };
}

function processCpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

/** after − before, per command, without the zero ones. */
export function statsDelta(before: ReadonlyMap<string, number>, after: ReadonlyMap<string, number>): Map<string, number> {
  const out = new Map<string, number>();
  for (const [name, calls] of after) {
    const d = calls - (before.get(name) ?? 0);
    if (d > 0) out.set(name, d);
  }
  return out;
}

export function total(map: ReadonlyMap<string, number>): number {
  let n = 0;
  for (const v of map.values()) n += v;
  return n;
}

/** What one side sent to Redis, what Redis ran for it, and the CPU both spent. */
export interface RedisUse {
  /** Client-side counts (every connection of this process). */
  readonly client: RedisTally;
  /** `INFO commandstats` delta (the meter's own INFO left out): commands run, those inside scripts included. */
  readonly server: Map<string, number>;
  /** CPU time of this process (user + system, all its threads), ms. */
  readonly processCpuMs: number;
  /** CPU time of the Redis server (`INFO cpu` used_cpu_user + used_cpu_sys), ms. */
  readonly redisCpuMs: number;
}

interface ServerFigures {
  readonly commands: Map<string, number>;
  readonly cpuMs: number;
}

/**
 * Measures one side: `INFO cpu commandstats` through `stats` (a client of its own, whose two INFO
 * calls fall outside the client-side count) and this process's CPU time, then the client-side count,
 * until `stop()` (idempotent).
 */
export async function startRedisMeter(stats: Redis, keyName: (key: string) => string): Promise<{ stop(): Promise<RedisUse> }> {
  const before = await serverFigures(stats);
  const cpuBefore = processCpuMs();
  const count = countRedis(keyName);
  let stopped: Promise<RedisUse> | undefined;
  const stop = async (): Promise<RedisUse> => {
    const client = count.stop();
    const cpu = processCpuMs() - cpuBefore;
    const after = await serverFigures(stats);
    const server = statsDelta(before.commands, after.commands);
    // The first INFO is in the second's figures (a command is counted once it has run).
    const info = (server.get('info') ?? 0) - 1;
    if (info > 0) server.set('info', info);
    else server.delete('info');
    return { client, server, processCpuMs: cpu, redisCpuMs: after.cpuMs - before.cpuMs };
  };
  // Idempotent: a side's `finally` stops it again after a failure.
  return { stop: () => (stopped ??= stop()) };
}
