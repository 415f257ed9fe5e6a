/** The result table: plain text for the terminal, markdown for BENCHMARKS.md. */
import type { Row } from './common.js';

const HEADERS = ['scenario', 'rescreen', 'raw BullMQ (or limit)', 'ratio', 'target', 'ok?'] as const;

function cells(row: Row): string[] {
  return [row.scenario, row.rescreen, row.baseline, row.ratio, row.target, row.ok === undefined ? '–' : row.ok ? 'yes' : 'NO'];
}

export function textTable(rows: readonly Row[]): string {
  const all = [[...HEADERS], ...rows.map(cells)];
  const widths = HEADERS.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  const line = (r: readonly string[]): string => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ');
  const rule = widths.map((w) => '-'.repeat(w)).join('-|-');
  return [line(all[0]!), rule, ...all.slice(1).map(line)].join('\n');
}

export function markdownTable(rows: readonly Row[]): string {
  const line = (r: readonly string[]): string => `| ${r.join(' | ')} |`;
  return [line(HEADERS), `|${HEADERS.map((_, i) => (i === 0 ? '---' : '--:')).join('|')}|`, ...rows.map((r) => line(cells(r)))].join('\n');
}
