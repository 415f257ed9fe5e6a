/** `rescreen export | verify | keygen`: evidence an auditor accepts (README: Exports for audit). */
import type { Command } from 'commander';
import { describeAnsweredBy, exportBatch, makeSigningKeys, manifestAnsweredBy, verifyExport } from '../../app/index.js';
import { ExitCode } from '../cli-error.js';
import { withRuntime } from '../context.js';

/** Adds `export`, `verify` and `keygen`; `setExit` receives the code `verify` asks for. */
export function registerAuditCommands(program: Command, setExit: (code: number) => void): void {
  program
    .command('export')
    .description("write a batch's records, attempt log, review cases and decisions, fraud rings of its subjects, summary and change counts to a folder, with a manifest signed with Ed25519 (RESCREEN_SIGNING_KEY)")
    .argument('<batch>', 'batch id')
    .requiredOption('--out <dir>', 'a new (or empty) folder to write')
    .option('--unsigned', 'write the manifest without a signature (no RESCREEN_SIGNING_KEY)')
    .action(async (batch: string, opts: { out: string; unsigned?: boolean }) => {
      await withRuntime(async (runtime) => {
        const result = await exportBatch(runtime, batch, opts.out, { unsigned: opts.unsigned === true });
        const records = result.manifest.files.find((f) => f.name === 'records.jsonl')?.lines ?? 0;
        const cases = result.manifest.files.find((f) => f.name === 'cases.jsonl')?.lines ?? 0;
        const decisions = result.manifest.files.find((f) => f.name === 'decisions.jsonl')?.lines ?? 0;
        const rings = result.manifest.files.find((f) => f.name === 'rings.jsonl')?.lines ?? 0;
        const by = result.manifest.publicKeySha256 === null ? 'unsigned' : `signed by key ${result.manifest.publicKeySha256.slice(0, 16)}`;
        const answered = describeAnsweredBy(manifestAnsweredBy(result.manifest));
        process.stdout.write(`exported batch ${batch}: ${records} records, ${cases} review case${cases === 1 ? '' : 's'} and ${decisions} decision${decisions === 1 ? '' : 's'}, ${rings} fraud ring${rings === 1 ? '' : 's'}, ${result.manifest.files.length} files and the manifest in ${result.dir} (${by})${answered ? `; ${answered}` : ''}\n`);
      });
    });

  program
    .command('verify')
    .description('check an export folder: the signature, every file and line, nothing added; exit 1 naming the first altered file and line')
    .argument('<dir>', 'the folder `rescreen export` wrote')
    .requiredOption('--public-key <pem>', 'the public key (PEM) that belongs to the signing key (`rescreen keygen` wrote it as <key>.pub)')
    .action(async (dir: string, opts: { publicKey: string }) => {
      const result = await verifyExport(dir, opts.publicKey);
      if (result.ok) {
        const m = result.manifest;
        const records = m.files.find((f) => f.name === 'records.jsonl')?.lines ?? 0;
        const cases = m.files.find((f) => f.name === 'cases.jsonl')?.lines;
        const decisions = m.files.find((f) => f.name === 'decisions.jsonl')?.lines;
        const rings = m.files.find((f) => f.name === 'rings.jsonl')?.lines;
        const review =
          (cases !== undefined ? `, ${cases} review case${cases === 1 ? '' : 's'} and ${decisions ?? 0} decision${decisions === 1 ? '' : 's'}` : '') +
          (rings !== undefined ? `, ${rings} fraud ring${rings === 1 ? '' : 's'}` : '');
        const answered = describeAnsweredBy(manifestAnsweredBy(m));
        process.stdout.write(
          `OK: batch ${m.batch}, ${records} records${review}, exported ${m.exportedAt} by rescreen ${m.rescreenVersion}, signed by key ${m.publicKeySha256?.slice(0, 16) ?? '?'}; every file and line as signed${answered ? `; ${answered}` : ''}\n`,
        );
        setExit(ExitCode.OK);
        return;
      }
      const names = 'names' in result && result.names !== undefined ? ` (${result.names})` : '';
      process.stdout.write(`ALTERED: ${result.file}${result.line !== undefined ? ` line ${result.line}` : ''}${names}: ${result.problem}\n`);
      setExit(ExitCode.FAILED);
    });

  program
    .command('keygen')
    .description('make an Ed25519 key pair for signing exports: <out> (private, mode 600) and <out>.pub')
    .option('--out <file>', 'where to write the private key', 'rescreen-signing.pem')
    .action(async (opts: { out: string }) => {
      const keys = await makeSigningKeys(opts.out);
      process.stdout.write(
        `wrote ${keys.privateKey} (private: keep it secret; set RESCREEN_SIGNING_KEY=${keys.privateKey}) and ${keys.publicKey} (give it to the auditor)\n` +
          `key ${keys.fingerprint.slice(0, 16)}\n`,
      );
    });
}
