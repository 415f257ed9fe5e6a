/** A canary set's lines as the producer queues them (README: Score drift, canary media). */
import type { CheckName, CheckRegistry } from '../checks/registry.js';
import type { CanaryLine } from '../drift/canary-set.js';
import type { ManifestFormat } from '../manifest/format.js';
import type { ValidLine } from '../manifest/line.js';
import { readManifest } from '../manifest/reader.js';

/** The canary lines as job lines numbered from `from`, each marked with its label and the batch's threshold. */
export function canaryJobLines(canary: { readonly lines: readonly CanaryLine[]; readonly threshold: number }, from: number): ValidLine[] {
  return canary.lines.map(({ expect, canaryLine: _n, ...line }, i) => ({ ...line, line: from + i, canary: { expect, threshold: canary.threshold } }));
}

/** The last line number of a manifest (0 when empty): canary lines are numbered after it. */
export async function lastLineOf(path: string, options: { readonly format?: ManifestFormat; readonly checks: CheckRegistry; readonly checkOverride?: CheckName }): Promise<number> {
  let last = 0;
  const read = readManifest(path, { ...(options.format !== undefined ? { format: options.format } : {}), checks: options.checks, ...(options.checkOverride !== undefined ? { check: options.checkOverride } : {}) });
  for await (const raw of read) if (raw.line > last) last = raw.line;
  return last;
}
