/**
 * `rescreen rings [--batch B | --all] [--min-size 2] [--kind …] [--format table|csv|jsonl|dot]`,
 * `rescreen rings show <ring>` and `rescreen rings link <batch>` (README: Fraud rings).
 */
import { type Command, InvalidArgumentError, Option } from 'commander';
import { getRing, linkBatchRings, linkKindLabel, listRings, RING_CSV_COLUMNS, ringCsvRows, ringsDot, type Ring } from '../../app/index.js';
import { CliError, ExitCode } from '../cli-error.js';
import { withRuntime } from '../context.js';
import { table } from '../format.js';
import { writeRows } from '../output.js';

type Format = 'table' | 'csv' | 'jsonl' | 'dot';

function minSize(value: string): number {
  const n = Number(value);
  if (!/^\d{1,9}$/.test(value) || n < 2) throw new InvalidArgumentError('must be a whole number of at least 2');
  return n;
}

const kindsOf = (ring: Ring) => [...new Set(ring.links.map((l) => l.kind))].join(',');

/** The terminal view of one ring: its subjects and links. */
export function describeRing(ring: Ring): string {
  const head = `ring ${ring.id}: ${ring.subjects.length} subjects, ${ring.links.length} links (${kindsOf(ring)}), first seen ${ring.firstSeen}, last seen ${ring.lastSeen}`;
  const rows = ring.links.map((l) => [linkKindLabel(l), l.a, l.b, String(l.strength), `${l.aRef.batch}:${l.aRef.line}`, `${l.bRef.batch}:${l.bRef.line}`, l.at.slice(0, 19)]);
  return `${head}\nsubjects: ${ring.subjects.join(', ')}\n${table(['kind', 'a', 'b', 'strength', 'a line', 'b line', 'at'], rows)}\n`;
}

export function registerRingsCommand(program: Command): void {
  const rings = program
    .command('rings')
    .description('fraud rings: subjects tied by shared media (sha256), near-duplicate media (phash) or one OOTO template, across all batches')
    .option('--batch <batch>', 'only rings with a link made by a record of this batch')
    .option('--all', 'every ring of the store (the default)')
    .option('--min-size <n>', 'smallest ring shown, in subjects', minSize, 2)
    .option('--kind <kinds>', 'only links of these kinds: a comma list of sha256, phash, template')
    .addOption(new Option('--format <format>', 'output format').choices(['table', 'csv', 'jsonl', 'dot']).default('table'))
    .action(async (opts: { batch?: string; all?: boolean; minSize: number; kind?: string; format: Format }) => {
      if (opts.all === true && opts.batch !== undefined) throw new CliError('--batch and --all go one at a time', ExitCode.USAGE);
      await withRuntime(async (runtime) => {
        const found = listRings(runtime, { batch: opts.batch, minSize: opts.minSize, kinds: opts.kind });
        if (opts.format === 'jsonl') {
          await writeRows(found, { format: 'jsonl', columns: [], csv: (r) => ({ ...r }) });
          return;
        }
        if (opts.format === 'csv') {
          await writeRows(
            (async function* () {
              for await (const ring of found) yield* ringCsvRows(ring);
            })(),
            { format: 'csv', columns: RING_CSV_COLUMNS, csv: (row) => row },
          );
          return;
        }
        const all: Ring[] = [];
        for await (const ring of found) all.push(ring);
        if (opts.format === 'dot') {
          process.stdout.write(ringsDot(all));
          return;
        }
        const sorted = [...all].sort((x, y) => y.subjects.length - x.subjects.length || (x.firstSeen < y.firstSeen ? -1 : 1));
        const rows = sorted.map((r) => [r.id, String(r.subjects.length), String(r.links.length), kindsOf(r), r.firstSeen.slice(0, 19), r.lastSeen.slice(0, 19), r.subjects.slice(0, 6).join(', ') + (r.subjects.length > 6 ? ', …' : '')]);
        process.stdout.write(`${table(['ring', 'subjects', 'links', 'kinds', 'first seen', 'last seen', 'who'], rows)}\n`);
        process.stdout.write(`${all.length} ring${all.length === 1 ? '' : 's'}\n`);
      });
    });

  rings
    .command('show')
    .description("one ring: its subjects and links (kind, strength, the records that made them)")
    .argument('<ring>', 'a ring id (r + 16 hex digits)')
    .option('--json', 'print the ring as JSON')
    .action(async (id: string, opts: { json?: boolean }) => {
      await withRuntime(async (runtime) => {
        const ring = await getRing(runtime, id);
        process.stdout.write(opts.json === true ? `${JSON.stringify(ring)}\n` : describeRing(ring));
      });
    });

  rings
    .command('link')
    .description('links a batch into the rings now (its finish does this by itself; for batches screened before rings existed)')
    .argument('<batch>', 'a batch')
    .action(async (batch: string) => {
      await withRuntime(async (runtime) => {
        const linked = await linkBatchRings(runtime, batch);
        process.stdout.write(`${batch}: ${linked.media} media, ${linked.templates} templates, ${linked.links.length} links\n`);
      });
    });
}
