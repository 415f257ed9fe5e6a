/** `rescreen limits show|set|reset`: the vendor quotas in force, changed at run time for the whole fleet. */
import { quotaLimits, resetQuota, setQuota, type Runtime } from '../../app/index.js';
import { table } from '../format.js';

export async function limitsShow(runtime: Runtime): Promise<void> {
  const report = await quotaLimits(runtime);
  const rows = report.map((r) => [
    r.vendor,
    r.quota?.text ?? 'none',
    r.source === 'override' ? 'rescreen limits set' : r.variable,
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
  const { vendor, quota } = await setQuota(runtime, vendorText, text);
  process.stdout.write(`${vendor}: quota ${quota?.text ?? 'none'} for every worker on this Redis (within ~1 s), until \`rescreen limits reset ${vendor}\`\n`);
}

export async function limitsReset(runtime: Runtime, vendorText: string): Promise<void> {
  const { vendor, removed, quota, variable } = await resetQuota(runtime, vendorText);
  const env = quota?.text ?? 'none';
  process.stdout.write(removed ? `${vendor}: override removed; quota back to ${env} (${variable})\n` : `${vendor}: no override; quota is ${env}\n`);
}
