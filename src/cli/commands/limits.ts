/** `rescreen limits show|set|reset`: the vendor quotas in force, changed at run time for the whole fleet. */
import { isVendor, type Vendor } from '../../checks/registry.js';
import { parseOverride, resetOverride, setOverride } from '../../quota/limits.js';
import { quotaReport } from '../../quota/report.js';
import { QUOTA_SYNTAX } from '../../quota/spec.js';
import type { Runtime } from '../../runtime/runtime.js';
import { CliError, ExitCode } from '../cli-error.js';
import { table } from '../format.js';

function vendorArg(text: string): Vendor {
  if (!isVendor(text)) throw new CliError(`unknown vendor ${JSON.stringify(text)}: ooto or glair`, ExitCode.USAGE);
  return text;
}

export async function limitsShow(runtime: Runtime): Promise<void> {
  const { config } = runtime;
  const report = await quotaReport(runtime.redis, config.prefix, { ooto: config.ooto.quota, glair: config.glair.quota });
  const rows = report.map((r) => [
    r.vendor,
    r.quota?.text ?? 'none',
    r.source === 'override' ? 'rescreen limits set' : `${r.vendor.toUpperCase()}_RATE_LIMIT`,
    r.environment ?? '-',
    r.state.learnedPerSecond !== undefined ? `${r.state.learnedPerSecond.toFixed(1)}/s` : '-',
    String(r.workers),
    String(r.state.granted),
    String(r.state.refused),
  ]);
  process.stdout.write(`${table(['vendor', 'quota', 'from', 'environment', 'learned', 'workers', 'calls', '429s'], rows)}\n`);
  for (const r of report) if (r.line !== undefined) process.stdout.write(`${r.line}\n`);
}

export async function limitsSet(runtime: Runtime, vendorText: string, text: string): Promise<void> {
  const vendor = vendorArg(vendorText);
  const parsed = parseOverride(text);
  if ('error' in parsed) throw new CliError(`quota ${parsed.error}; write ${QUOTA_SYNTAX}, or none`, ExitCode.USAGE);
  await setOverride(runtime.redis, runtime.config.prefix, vendor, text);
  process.stdout.write(
    `${vendor}: quota ${parsed.quota?.text ?? 'none'} for every worker on this Redis (within ~1 s), until \`rescreen limits reset ${vendor}\`\n`,
  );
}

export async function limitsReset(runtime: Runtime, vendorText: string): Promise<void> {
  const vendor = vendorArg(vendorText);
  const had = await resetOverride(runtime.redis, runtime.config.prefix, vendor);
  const env = runtime.config[vendor].quota?.text ?? 'none';
  process.stdout.write(had ? `${vendor}: override removed; quota back to ${env} (${vendor.toUpperCase()}_RATE_LIMIT)\n` : `${vendor}: no override; quota is ${env}\n`);
}
