/**
 * How a Lua script file becomes a typed function (the registry of every script is ./scripts.ts).
 *
 * A script is one file in ./lua/, named `<name>-<nkeys>.lua` as BullMQ's `src/commands/` are, with
 * a header listing its KEYS, ARGV and reply. Its first code lines bind every key and argument to a
 * name, in the order the registry declares them:
 *
 *     local metaKey, batchesKey = unpack(KEYS)
 *     local batch, manifest, nowMs, nowIso = unpack(ARGV)
 *     local prices = { unpack(ARGV, 5) }     -- a trailing list, when the script takes one
 *
 * and a line `--- @include "name"` stands for ./lua/includes/name.lua (a shared Lua function).
 * Files are read once, when this module loads (relative to it: the build copies ./lua/ beside the
 * compiled code), and a file whose name or bindings disagree with the registry stops the load: the
 * order of KEYS and ARGV is checked once, never read by index. Callers pass one object of named
 * values; {@link defineScript} lays them out as KEYS then ARGV. Every value is a string or a number
 * (`''` for null); one JSON argument decoded by `cjson` would cost Redis ~4 µs per put, binding
 * names nothing.
 *
 * Run through ioredis `defineCommand` (EVALSHA, with EVAL when Redis lost the script), on a Redis or
 * a Cluster client, or through the `defineCommand` / `runCommand` of BullMQ's own client.
 */
import { readFileSync } from 'node:fs';
import type { ChainableCommander, Redis } from 'ioredis';

const LUA_DIR = new URL('./lua/', import.meta.url);
const INCLUDE = /^--- @include "([a-z0-9-]+)"$/gm;

/** BullMQ's client interface, as far as scripts need it (its `queue.client`). */
export interface CommandClient {
  defineCommand(name: string, definition: { numberOfKeys: number; lua: string }): void;
  runCommand(name: string, args: unknown[]): Promise<unknown>;
}

/** What runs a script: an ioredis Redis (or Cluster, typed as Redis by ./connect.ts), or BullMQ's client. */
export type ScriptClient = Redis | CommandClient;

/** A value passed to a script: Redis receives it as a string. */
export type ScriptValue = string | number;

/** The named values of one call: every key and argument, and the trailing list if the script has one. */
export type ScriptArgs<K extends string, A extends string, L extends string> = { readonly [N in K | A]: ScriptValue } & {
  readonly [N in L]: readonly ScriptValue[];
};

/** One script: call it with a client and its named values; `many` sends several calls in one pipeline. */
export interface Script<K extends string, A extends string, L extends string, R> {
  (client: ScriptClient, args: ScriptArgs<K, A, L>): Promise<R>;
  /** Every call in one pipeline (one round trip); rejects with the first failed call's error. */
  many(client: Redis, calls: readonly ScriptArgs<K, A, L>[]): Promise<R[]>;
  /** The file (without `.lua`), the command name it is defined under, and its Lua text as sent. */
  readonly file: string;
  readonly command: string;
  readonly keys: readonly K[];
  readonly args: readonly A[];
  readonly list: L | undefined;
  readonly lua: string;
}

/** A Lua file's text with its includes in place. */
export function readLua(file: string): string {
  const text = readFileSync(new URL(`${file}.lua`, LUA_DIR), 'utf8');
  return text.replace(INCLUDE, (_, name: string) => readFileSync(new URL(`includes/${name}.lua`, LUA_DIR), 'utf8').trimEnd());
}

/** The binding lines a script with these names must start with (after its header comments). */
export function bindingLines(keys: readonly string[], args: readonly string[], list: string | undefined): string[] {
  const lines: string[] = [];
  if (keys.length > 0) lines.push(`local ${keys.join(', ')} = unpack(KEYS)`);
  if (args.length > 0) lines.push(`local ${args.join(', ')} = unpack(ARGV)`);
  if (list !== undefined) lines.push(args.length === 0 ? `local ${list} = ARGV` : `local ${list} = { unpack(ARGV, ${args.length + 1}) }`);
  return lines;
}

/** The count of KEYS a file's name declares (`store-put-5` → 5); undefined when it declares none. */
export function declaredKeyCount(file: string): number | undefined {
  const m = /-(\d+)$/.exec(file);
  return m ? Number(m[1]) : undefined;
}

/**
 * Checks a script file against its registry entry: the key count in its name, names given once,
 * and its first code lines binding KEYS and ARGV to those names in that order.
 * @throws Error naming the file and what differs.
 */
export function checkScriptFile(file: string, lua: string, keys: readonly string[], args: readonly string[], list: string | undefined): void {
  if (declaredKeyCount(file) !== keys.length) throw new Error(`${file}.lua: the name says ${declaredKeyCount(file)} keys, the registry ${keys.length}`);
  const names = [...keys, ...args, ...(list === undefined ? [] : [list])];
  if (new Set(names).size !== names.length) throw new Error(`${file}.lua: a name is given twice in ${names.join(', ')}`);
  const code = lua.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('--'));
  const want = bindingLines(keys, args, list);
  const got = code.slice(0, want.length);
  if (got.join('\n') !== want.join('\n')) {
    throw new Error(`${file}.lua must start with the bindings of its registry entry:\n${want.join('\n')}\n(found)\n${got.join('\n')}`);
  }
}

const defined = new WeakMap<object, Set<string>>();

function define(client: ScriptClient, command: string, numberOfKeys: number, lua: string): void {
  let names = defined.get(client);
  if (names === undefined) defined.set(client, (names = new Set()));
  if (names.has(command)) return;
  client.defineCommand(command, { numberOfKeys, lua });
  names.add(command);
}

type Dispatch = Record<string, (...args: ScriptValue[]) => Promise<unknown>>;

/**
 * Reads `<file>.lua`, checks it against the names, and returns its typed function. `R` is the
 * script's reply as Redis returns it (integers as numbers, strings, arrays of them).
 * @throws Error when the file is missing or disagrees with the names (at module load: a build defect).
 */
export function defineScript<R>() {
  return <const K extends string = never, const A extends string = never, const L extends string = never>(
    file: string,
    names: { readonly keys: readonly K[]; readonly args?: readonly A[]; readonly list?: L },
  ): Script<K, A, L, R> => {
    const keys = names.keys;
    const args = names.args ?? [];
    const list = names.list;
    const lua = readLua(file);
    checkScriptFile(file, lua, keys, args, list);
    const command = `rescreen${file
      .replace(/-\d+$/, '')
      .split('-')
      .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
      .join('')}`;
    const order: readonly string[] = [...keys, ...args];
    // A plain loop: this runs once per put.
    const flatten = (values: ScriptArgs<K, A, L>): ScriptValue[] => {
      const named = values as unknown as Readonly<Record<string, ScriptValue>>;
      const out = new Array<ScriptValue>(order.length);
      for (let i = 0; i < order.length; i++) out[i] = named[order[i]!]!;
      if (list === undefined) return out;
      const tail = (values as unknown as Readonly<Record<string, readonly ScriptValue[]>>)[list]!;
      return tail.length === 0 ? out : out.concat(tail);
    };
    const run = (client: ScriptClient, values: ScriptArgs<K, A, L>): Promise<R> => {
      define(client, command, keys.length, lua);
      if ('runCommand' in client) return client.runCommand(command, flatten(values)) as Promise<R>;
      return (client as unknown as Dispatch)[command]!(...flatten(values)) as Promise<R>;
    };
    const many = async (client: Redis, calls: readonly ScriptArgs<K, A, L>[]): Promise<R[]> => {
      if (calls.length === 0) return [];
      // Defined before the pipeline is made: a pipeline takes its client's scripts when created.
      define(client, command, keys.length, lua);
      const pipeline = client.pipeline() as ChainableCommander & Record<string, (...args: ScriptValue[]) => unknown>;
      for (const call of calls) pipeline[command]!(...flatten(call));
      const results = (await pipeline.exec()) ?? [];
      return results.map(([error, reply]) => {
        if (error) throw error;
        return reply as R;
      });
    };
    return Object.assign(run, { many, file, command, keys, args, list, lua });
  };
}
