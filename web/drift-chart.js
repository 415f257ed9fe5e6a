// The batch page's score drift: for each check, this batch's score histogram drawn over the one of
// the batch it is compared with (README: Score drift), as SVG by d3 (d3-scale, d3-shape, d3-axis and
// d3-selection: dependencies in package.json, served by rescreen itself at /vendor/d3.js; no CDN).
import { $, api, el } from './lib.js';

const W = 460;
const H = 220;
const M = { top: 46, right: 12, bottom: 34, left: 46 };

let driftFor = null;

const fixed = (x, n = 3) => (x === null || x === undefined ? '–' : x.toFixed(n));
const psiText = (c) => (c.against === null ? 'no earlier batch of this check' : c.all.psi === null ? 'too few scores' : `PSI ${fixed(c.all.psi)} ${c.all.reading} · KS ${fixed(c.all.ks)}`);

/** Shares of a histogram (0–1), for two batches of different sizes to be drawn on one scale. */
function shares(bins) {
  const total = bins.reduce((a, b) => a + b, 0);
  return bins.map((n) => (total === 0 ? 0 : n / total));
}

/** One check: the two histograms as overlaid step areas, axes, the legend and the PSI. */
function chart(d3, c, batch, index) {
  const n = c.bins.length;
  const now = shares(c.bins);
  const then = c.againstBins === null ? null : shares(c.againstBins);
  const top = Math.max(0.01, ...now, ...(then ?? []));
  const x = d3.scaleLinear().domain([0, 1]).range([M.left, W - M.right]);
  const y = d3.scaleLinear().domain([0, top]).nice().range([H - M.bottom, M.top]);
  // A step per bin: n + 1 points, the last repeating the last bin so that it closes at score 1.
  const area = d3
    .area()
    .curve(d3.curveStepAfter)
    .x((_d, i) => x(i / n))
    .y0(y(0))
    .y1((d) => y(d));
  const titleId = `drift-title-${index}`;
  const svg = d3
    .create('svg')
    .attr('viewBox', `0 0 ${W} ${H}`)
    .attr('class', 'drift-chart')
    .attr('role', 'img')
    .attr('aria-labelledby', titleId)
    .attr('data-check', c.check);
  svg.append('title').attr('id', titleId).text(`${c.check}: scores of ${batch}${c.against ? ` over ${c.against}` : ''}; ${psiText(c)}`);
  const series = [
    ...(then ? [{ key: 'against', label: c.against, values: then }] : []),
    { key: 'batch', label: batch, values: now },
  ];
  svg
    .append('g')
    .selectAll('path')
    .data(series)
    .join('path')
    .attr('class', (s) => `series ${s.key}`)
    .attr('data-series', (s) => s.key)
    .attr('data-batch', (s) => s.label)
    .attr('d', (s) => area([...s.values, s.values[n - 1]]));
  svg.append('g').attr('transform', `translate(0,${H - M.bottom})`).call(d3.axisBottom(x).ticks(10));
  svg.append('g').attr('transform', `translate(${M.left},0)`).call(d3.axisLeft(y).ticks(4, '%'));
  svg.append('text').attr('class', 'axis-label').attr('x', (M.left + W - M.right) / 2).attr('y', H - 4).attr('text-anchor', 'middle').text('score (0 = deepfake, 1 = genuine)');
  svg.append('text').attr('class', 'psi').attr('x', M.left).attr('y', 14).text(`${c.check} · ${psiText(c)}`);
  const legend = svg.append('g').attr('class', 'legend').attr('transform', `translate(${M.left},${M.top - 12})`);
  series.forEach((s, i) => {
    const item = legend.append('g').attr('transform', `translate(${i * 190},0)`);
    item.append('rect').attr('class', `series ${s.key}`).attr('width', 10).attr('height', 10).attr('y', -9);
    item.append('text').attr('x', 14).text(`${s.key === 'batch' ? 'this batch' : 'compared with'}: ${s.label}`);
  });
  return svg.node();
}

/** `canaries 19/20 agree · mean moved −0.100 against night-20 · 10 flipped · CANARY ALERT (threshold 0.1)`. */
function canaryLine(k) {
  const moved = k.meanShift === null ? 'no previous run' : `mean moved ${k.meanShift >= 0 ? '+' : ''}${k.meanShift.toFixed(3)} against ${k.against}`;
  return `canaries ${k.agreed}/${k.lines} agree · ${moved} · ${k.flips} flipped · ${k.alert ? 'CANARY ALERT' : 'within'} (threshold ${k.threshold})`;
}

/** The drift section of a finished batch (loaded again only when its count of records moved). */
export async function renderDrift(id, finished, recorded) {
  const section = $('#drift');
  if (!finished) {
    section.hidden = true;
    return;
  }
  if (driftFor === `${id}:${recorded}`) return;
  driftFor = `${id}:${recorded}`;
  const report = await api(`/api/batches/${encodeURIComponent(id)}/drift`);
  const d3 = window.d3;
  $('#drift-alert').hidden = !report.alert;
  $('#drift-rule').textContent = report.rule;
  $('#drift-canary').textContent = report.canary ? canaryLine(report.canary) : '';
  $('#drift-charts').replaceChildren(
    ...report.checks.map((c, i) =>
      el(
        'figure',
        { class: 'drift' },
        el('figcaption', { text: `${c.check}: ${psiText(c)}${c.against ? ` against ${c.against}` : ''}` }),
        d3 ? chart(d3, c, report.batch, i) : el('p', { class: 'media-problem', text: 'the chart library (/vendor/d3.js) did not load' }),
      ),
    ),
  );
  section.hidden = report.checks.length === 0;
}

export function resetDrift() {
  driftFor = null;
  $('#drift').hidden = true;
}
