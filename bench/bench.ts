/**
 * `npm run bench`: rescreen against raw BullMQ, on one Redis, in one run. See bench/README.md.
 *
 *   node dist/bench/bench.js [--quick] [--only a|b|c|d|store[,…]]
 *
 * Every scenario side runs under its own fresh key prefix, deleted afterwards (SCAN + UNLINK).
 * A full run (no flag) also writes BENCHMARKS.md at the project root.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { locateRedis } from '../src/redis/locate.js';
import type { BenchContext, Row, ScenarioResult } from './common.js';
import { runE2eScenario } from './e2e.js';
import { runEnqueueScenario } from './enqueue.js';
import { runStoreScenario } from './store.js';
import { redisClient, redisVersion } from './redis-util.js';
import { runAutoScenario, runRateLimitScenario } from './rate-limit.js';
import { markdownTable, textTable } from './report.js';

type ScenarioId = 'a' | 'b' | 'c' | 'd' | 'store';
const SCENARIOS: Record<ScenarioId, (ctx: BenchContext) => Promise<ScenarioResult>> = {
  a: runEnqueueScenario,
  b: runE2eScenario,
  c: runRateLimitScenario,
  d: runAutoScenario,
  store: runStoreScenario,
};
const IDS = Object.keys(SCENARIOS) as ScenarioId[];

function parseArgs(argv: readonly string[]): { quick: boolean; only: ScenarioId[] } {
  let quick = false;
  let only: ScenarioId[] = [...IDS];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--quick') quick = true;
    else if (arg === '--only' || arg.startsWith('--only=')) {
      const value = arg.startsWith('--only=') ? arg.slice('--only='.length) : argv[++i];
      const ids = (value ?? '').split(',').map((s) => s.trim());
      if (ids.length === 0 || !ids.every((s): s is ScenarioId => (IDS as string[]).includes(s))) {
        throw new Error(`--only takes ${IDS.join(', ')} (or a list such as a,c); got ${JSON.stringify(value)}`);
      }
      only = ids;
    } else if (arg === '--help' || arg === '-h') {
      process.stdout.write('usage: npm run bench -- [--quick] [--only a|b|c|d|store[,…]]\n');
      process.exit(0);
    } else throw new Error(`unknown argument ${arg} (usage: [--quick] [--only a|b|c|d|store])`);
  }
  return { quick, only };
}

async function main(): Promise<void> {
  const { quick, only } = parseArgs(process.argv.slice(2));
  const redis = await locateRedis(process.env.REDIS_URL?.trim() || undefined);
  const client = redisClient(redis.url);
  const facts = {
    cores: cpus().length,
    cpu: cpus()[0]?.model.trim() ?? 'unknown CPU',
    memGb: Math.round(totalmem() / 1024 ** 3),
    node: process.version,
    redis: await redisVersion(client),
    redisSource: redis.source,
    load: loadavg()[0] ?? 0,
  };
  await client.quit();
  const factsLine =
    `machine: ${facts.cores} cores (${facts.cpu}), ${facts.memGb} GB RAM, Node.js ${facts.node}, ` +
    `Redis ${facts.redis} (${facts.redisSource === 'env' ? 'REDIS_URL' : facts.redisSource === 'local' ? '127.0.0.1:6379' : 'spawned redis-server'}); ` +
    `load average ${facts.load.toFixed(2)} at start`;
  const tmpDir = await mkdtemp(join(tmpdir(), 'rescreen-bench-'));
  const started = performance.now();
  const ctx: BenchContext = {
    redisUrl: redis.url,
    tmpDir,
    quick,
    note: (text) => process.stderr.write(`[${((performance.now() - started) / 1000).toFixed(1).padStart(5)} s] ${text}\n`),
  };
  ctx.note(`${factsLine}${quick ? ' — quick run' : ''}`);
  const rows: Row[] = [];
  const notes: string[] = [];
  const sections: string[] = [];
  try {
    for (const id of only) {
      const result = await SCENARIOS[id](ctx);
      rows.push(...result.rows);
      notes.push(...result.notes);
      sections.push(...(result.sections ?? []));
    }
  } finally {
    await rm(tmpDir, { recursive: true, force: true });
    await redis.stop();
  }
  const totalS = (performance.now() - started) / 1000;
  const table = textTable(rows);
  process.stdout.write(
    `\n${table}\n\n${factsLine}\n${notes.join('\n')}\n${sections.map((s) => `\n${s}\n`).join('')}\nwhole run ${totalS.toFixed(0)} s${quick ? ' (--quick)' : ''}\n`,
  );

  if (!quick && only.length === IDS.length) {
    const date = new Date().toISOString().slice(0, 10);
    const md =
      `# Benchmarks\n\n` +
      `\`npm run bench\` on ${date}; what each row means: [bench/README.md](bench/README.md).\n\n` +
      `${markdownTable(rows)}\n\n` +
      `${factsLine}.\n\n` +
      notes.map((n) => `- ${n}`).join('\n') +
      `\n- whole run ${totalS.toFixed(0)} s\n` +
      sections.map((s) => `\n${s}\n`).join('');
    const path = fileURLToPath(new URL('../../BENCHMARKS.md', import.meta.url));
    await writeFile(path, md);
    process.stdout.write(`written to BENCHMARKS.md\n`);
  } else {
    process.stdout.write('(partial or --quick run: BENCHMARKS.md left as it was)\n');
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
