/** Human output: plain aligned tables and summaries for stdout. */
import { RECORD_STATUSES, VERDICTS, type ResultRecord } from '../checks/types.js';
import type { BatchSummary } from '../app/index.js';

export function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

export function formatSummary(summary: BatchSummary, pending?: Readonly<Record<string, number>>): string {
  const remaining = Math.max(0, summary.total - summary.recorded);
  const lines = [
    `batch ${summary.batch}  (created ${summary.createdAt}${summary.manifest ? `, from ${summary.manifest}` : ''})`,
    `lines      ${summary.producerDone ? summary.total : `${summary.maxLine}+ (still enqueueing)`}`,
    `recorded   ${summary.recorded}${summary.producerDone ? ` (${remaining} to go)` : ''}`,
    `by status  ${RECORD_STATUSES.map((s) => `${s} ${summary.byStatus[s]}`).join(', ')}`,
    `by verdict ${VERDICTS.map((v) => `${v} ${summary.byVerdict[v]}`).join(', ')}`,
  ];
  if (summary.failures !== undefined) {
    // The cause of each failed line, and the limit that ended its retries: what `retry --code` picks.
    const causes = summary.failures.map((f) => `${f.code} ${f.count}${f.stoppedBy === null ? '' : ` (stopped by ${f.stoppedBy})`}`);
    lines.push(`failed by  ${causes.join(', ')}`);
  }
  if (summary.possiblyBilled !== undefined) {
    lines.push(`billing    ${summary.possiblyBilled} vendor calls sent without an answer (timeout, reset): possibly billed`);
  }
  if (pending) lines.push(`queues     ${Object.entries(pending).map(([q, n]) => `${q} ${n} unfinished`).join(', ')} (all batches)`);
  return lines.join('\n');
}

export function recordRow(record: ResultRecord): string[] {
  return [
    String(record.line),
    record.check ?? '-',
    record.subject ?? '-',
    record.status,
    record.verdict ?? '-',
    record.score === null ? '-' : record.score.toFixed(3),
    record.transactionId ?? '-',
    record.error ? `${String(record.error.code)}: ${record.error.message}`.slice(0, 60) : '',
  ];
}

export const RECORD_HEADERS = ['line', 'check', 'subject', 'status', 'verdict', 'score', 'transactionId', 'error'] as const;
