/**
 * The defaults a user reads — in `--help` and in the README — are the defaults the code uses, so they
 * cannot drift apart again (issue 16: help and README disagreed on defaults).
 */
import { readFileSync } from 'node:fs';
import type { Command, Option } from 'commander';
import { describe, expect, it } from 'vitest';
import { DEFAULT_PRIORITY } from '../../../src/app/index.js';
import * as D from '../../../src/config/defaults.js';
import { EnvSchema, vendorEnvSchema } from '../../../src/config/env-schema.js';
import { ServerEnvSchema } from '../../../src/config/server.js';
import { TracingEnv } from '../../../src/config/tracing.js';
import { buildProgram } from '../../../src/cli/main.js';
import { DEFAULT_MIN_DELTA } from '../../../src/history/changes.js';
import { BUILT_INS } from '../../../src/runtime/built-ins.js';

const README = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');

/** The README's configuration table: variable → its default cell (`none`, `–`, or `` `value` ``). */
function readmeDefaults(): Map<string, string> {
  const section = README.slice(README.indexOf('\n## Configuration'), README.indexOf('\n## ', README.indexOf('\n## Configuration') + 5));
  const rows = new Map<string, string>();
  for (const line of section.split('\n')) {
    const cells = line.split(/(?<!\\)\|/).map((c) => c.trim());
    if (cells.length < 4 || !cells[1]!.startsWith('`')) continue;
    for (const [, name] of cells[1]!.matchAll(/`([A-Z][A-Z0-9_]+)`/g)) rows.set(name!, cells[2]!);
  }
  return rows;
}

/** What a variable is when unset, as the code parses it (a few default later, in config.ts). */
function codeDefaults(): Map<string, unknown> {
  const shapes = { ...EnvSchema.shape, ...vendorEnvSchema(BUILT_INS.vendors).shape, ...ServerEnvSchema.shape, ...TracingEnv.shape } as Record<string, { parse(v: unknown): unknown }>;
  const out = new Map<string, unknown>(Object.entries(shapes).map(([name, schema]) => [name, schema.parse(undefined)]));
  // Unset here means: config.ts fills in the default.
  out.set('REDIS_URL', D.DEFAULT_REDIS_URL);
  out.set('RESCREEN_LOCK_MS', D.DEFAULT_LOCK_MS);
  return out;
}

/** `none`/`–` for nothing, else the one `value` in back-quotes at the start of the cell. */
function documented(cell: string): unknown {
  if (/^(none|–|-)\b/.test(cell) || cell === '–') return undefined;
  const value = /^`([^`]+)`/.exec(cell)?.[1];
  if (value === undefined) return cell;
  return /^-?\d+(\.\d+)?$/.test(value) ? Number(value) : value === 'true' ? true : value === 'false' ? false : value;
}

function comparable(value: unknown): unknown {
  if (Array.isArray(value) && value.length === 0) return undefined;
  return value;
}

describe('README configuration table', () => {
  const readme = readmeDefaults();
  const code = codeDefaults();

  it('documents every variable the configuration reads, and no other', () => {
    expect([...code.keys()].filter((name) => !readme.has(name))).toEqual([]);
    expect([...readme.keys()].filter((name) => !code.has(name))).toEqual([]);
  });

  it.each([...codeDefaults().keys()])('%s: the default it shows is the code default', (name) => {
    expect(documented(readme.get(name) ?? '(missing)'), `README: ${readme.get(name)}`).toEqual(comparable(code.get(name)));
  });
});

/** Every option of every command, as `rescreen <path> --flag`. */
function options(command: Command, path = ''): { name: string; option: Option }[] {
  return [
    ...command.options.map((option) => ({ name: `${path}${option.long ?? option.flags}`.trim(), option })),
    ...command.commands.flatMap((sub) => options(sub, `${path}${sub.name()} `)),
  ];
}

/** The default `--help` shows for an option: commander's `(default: x)`, or one the description states. */
function shownDefault(option: Option): string | undefined {
  if (option.defaultValue !== undefined) return String(option.defaultValue);
  return /\bdefault:? ([^\s;),]+)/.exec(option.description)?.[1];
}

/**
 * The options whose help states a default, and the value it must be. Descriptive defaults (the batch
 * id's hash, csv by file name) are listed as `null`: words, not a value. `readme`: how the README
 * states the same default, when it does.
 */
const EXPECTED: Record<string, { value: string | null; readme?: RegExp }> = {
  'enqueue --batch': { value: null },
  // --review names its defaults in its help (the rule list); no commander default.
  'enqueue --review': { value: null, readme: /default `worse,new-bad,refused-after-good,shared`/ },
  'run --review': { value: null },
  'schedule add --review': { value: null },
  // --canary-threshold names its default in its help; no commander default.
  'enqueue --canary-threshold': { value: null, readme: /mean of the canary scores moved by more than `--canary-threshold` \(default\n?\s*0\.1\)/ },
  'run --canary-threshold': { value: null },
  'schedule add --canary-threshold': { value: null },
  'review list --limit': { value: null },
  'review list --format': { value: 'table' },
  'review next --lease': { value: null },
  'review export --format': { value: 'jsonl' },
  'review scan --review': { value: null },
  'enqueue --priority': { value: String(DEFAULT_PRIORITY), readme: new RegExp(`--priority 90 .*default ${DEFAULT_PRIORITY}`) },
  'run --batch': { value: null },
  'run --priority': { value: String(DEFAULT_PRIORITY) },
  'enqueue --failure-window': { value: String(D.DEFAULT_FAILURE_WINDOW), readme: new RegExp(`\`--failure-window\` \\(default ${D.DEFAULT_FAILURE_WINDOW}\\)`) },
  'run --failure-window': { value: String(D.DEFAULT_FAILURE_WINDOW), readme: new RegExp(`\`--failure-window N\`, default ${D.DEFAULT_FAILURE_WINDOW}\\)`) },
  'work --concurrency': { value: 'RESCREEN_CONCURRENCY' },
  'run --concurrency': { value: 'RESCREEN_CONCURRENCY' },
  'work --metrics-host': { value: '127.0.0.1', readme: /`--metrics-host`, default 127\.0\.0\.1/ },
  'batches --limit': { value: '50', readme: /`rescreen batches \[--limit N\]` \| batches, newest first \(50 unless `--limit`\)/ },
  'webhooks --limit': { value: '50', readme: /`rescreen webhooks .*\(50 unless `--limit`\)/ },
  'results --format': { value: null },
  'simulator --port': { value: '4010', readme: /serves the vendor simulator \(default port 4010;/ },
  'simulator --host': { value: '127.0.0.1', readme: /`rescreen simulator \[--port N\] \[--host 127\.0\.0\.1\]/ },
  'simulator --latency': { value: '0', readme: /default port 4010; no latency, no failures/ },
  'simulator --failure-rate': { value: '0', readme: /default port 4010; no latency, no failures/ },
  'simulator --ooto-window': { value: null, readme: /`first-call` \(default\)/ },
  'simulator --ooto-burst': { value: null },
  'subject --format': { value: 'table' },
  'rings --all': { value: null },
  'rings --min-size': { value: '2' },
  'rings --format': { value: 'table' },
  'erasures --limit': { value: '100' },
  'changes --baseline': { value: 'previous' },
  'changes --min-delta': { value: String(DEFAULT_MIN_DELTA), readme: new RegExp(`\`--min-delta\` \\(default ${DEFAULT_MIN_DELTA};`) },
  'changes --format': { value: 'table' },
  'keygen --out': { value: 'rescreen-signing.pem', readme: /`keygen` writes `rescreen-signing\.pem` and its `\.pub` unless `--out`/ },
  'schedule add --tz': { value: 'UTC', readme: /`--tz` \(an IANA zone; default UTC\)/ },
  'schedule add --overlap': { value: 'skip', readme: /`--overlap skip` \(the default\)/ },
  'serve --port': { value: '8080', readme: /`rescreen serve \[--port 8080\]/ },
  'serve --host': { value: '127.0.0.1', readme: /`rescreen serve \[--port 8080\] \[--host 127\.0\.0\.1\]`/ },
  'serve --queues-ui': { value: 'false', readme: /`--queues-ui` \(off unless given\)/ },
};

describe('--help defaults', () => {
  const all = options(buildProgram().program);

  it('every default --help shows is checked here (a new one must be added to EXPECTED)', () => {
    const shown = all.filter(({ option }) => shownDefault(option) !== undefined || /\bdefault\b/i.test(option.description)).map(({ name }) => name);
    expect(shown.filter((name) => !(name in EXPECTED))).toEqual([]);
  });

  it.each(Object.entries(EXPECTED))('%s', (name, expected) => {
    const found = all.find((o) => o.name === name);
    expect(found, `no option ${name}`).toBeDefined();
    if (expected.value !== null) expect(shownDefault(found!.option)).toBe(expected.value);
    if (expected.readme) expect(README).toMatch(expected.readme);
  });

  it('--concurrency names the variable whose default is auto, starting where the code starts', () => {
    const help = all.find((o) => o.name === 'work --concurrency')!.option.description;
    expect(codeDefaults().get('RESCREEN_CONCURRENCY')).toBe('auto');
    expect(help).toContain(`auto: sized from the quota and the latency, ${D.DEFAULT_CONCURRENCY} to start`);
  });
});
