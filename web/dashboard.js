// The rescreen dashboard: plain DOM, no framework, no build step. Polls the API every second (no
// full reload); every text goes through textContent (never innerHTML), so record data cannot inject markup.
import { $, api, batchHref, el, say } from './lib.js';
import { failureRows, renderBatchState, renderChanges, resetBatchPage, setUpBatchPage } from './batch-page.js';
import { renderDrift, resetDrift } from './drift-chart.js';
import { renderCase, renderQueue, setUpReview } from './review.js';
import { renderSubject } from './subject.js';

const POLL_MS = 1000;

let pollTimer = null;
let rateSamples = []; // [{t, recorded}] of the open batch, for the rate chart

const pct = (p) => `${Math.floor(p * 100)} %`;
const rate = (r) => (r === null ? '–' : `${r.toFixed(1)}/s`);
function eta(s) {
  if (s === null) return '–';
  if (s < 60) return `${Math.ceil(s)} s`;
  if (s < 3600) return `${Math.ceil(s / 60)} min`;
  return `${(s / 3600).toFixed(1)} h`;
}

function progressBar(view, label) {
  const bar = el('progress', { max: '100', value: String(Math.floor(view.progress * 100)), 'aria-label': `${label}: ${pct(view.progress)}` });
  bar.dataset.batch = view.summary.batch;
  return bar;
}

async function renderHome() {
  const [{ batches }, { schedules }, hooks] = await Promise.all([api('/api/batches?limit=50'), api('/api/schedules'), api('/api/webhooks?limit=20')]);
  const body = $('#batches tbody');
  body.replaceChildren(
    ...batches.map((v) => {
      const s = v.summary;
      return el(
        'tr',
        {},
        el('td', {}, el('a', { href: batchHref(s.batch), text: s.batch })),
        el('td', {}, progressBar(v, `progress of ${s.batch}`), el('span', { class: 'pct', text: ` ${pct(v.progress)}` })),
        el('td', { text: `${s.recorded} / ${s.producerDone ? s.total : `${s.maxLine}+`}` }),
        el('td', { text: `${s.byStatus.completed} / ${s.byStatus.rejected} / ${s.byStatus.failed}` }),
        el('td', { text: rate(v.ratePerSecond) }),
        el('td', { text: v.finished ? 'done' : eta(v.etaSeconds) }),
      );
    }),
  );
  $('#no-batches').hidden = batches.length > 0;
  $('#schedules tbody').replaceChildren(
    ...schedules.map((s) =>
      el('tr', {}, el('td', { text: s.name }), el('td', { text: s.rule ?? s.problem ?? '?' }), el('td', { text: s.next ?? '–' }), el('td', {}, s.lastBatch ? el('a', { href: batchHref(s.lastBatch), text: s.lastBatch }) : '–')),
    ),
  );
  $('#no-schedules').hidden = schedules.length > 0;
  $('#schedules').hidden = schedules.length === 0;
  $('#webhooks-counts').textContent = `${hooks.configured ? '' : 'RESCREEN_WEBHOOK_URL is not set on this server. '}pending ${hooks.counts.pending}, delivered ${hooks.counts.delivered}, failed ${hooks.counts.failed}`;
  $('#webhooks').hidden = hooks.deliveries.length === 0;
  $('#webhooks tbody').replaceChildren(
    ...hooks.deliveries.map((d) =>
      el('tr', {}, el('td', {}, el('a', { href: batchHref(d.batch), text: d.batch })), el('td', { class: `state-${d.state}`, text: d.state }), el('td', { text: String(d.attempts) }), el('td', { text: d.lastError ? `${d.lastError.code}: ${d.lastError.message}` : '' }), el('td', { text: d.updatedAt })),
    ),
  );
}

function fact(dl, name, value) {
  dl.append(el('dt', { text: name }), el('dd', { text: value }));
}

let failuresLoadedFor = null;
async function renderBatch(id) {
  const v = await api(`/api/batches/${encodeURIComponent(id)}`);
  const s = v.summary;
  $('#batch-title').textContent = `Batch ${s.batch}`;
  const bar = $('#batch-progress');
  bar.value = Math.floor(v.progress * 100);
  bar.dataset.batch = s.batch;
  $('#batch-progress-label').textContent = `${pct(v.progress)} — ${s.recorded} of ${s.producerDone ? s.total : `${s.maxLine}+`} recorded${v.finished ? ', finished' : ''}`;
  const dl = $('#batch-facts');
  dl.replaceChildren();
  fact(dl, 'created', s.createdAt);
  fact(dl, 'finished', s.finishedAt ?? '–');
  fact(dl, 'manifest', s.manifest ?? '–');
  fact(dl, 'by status', Object.entries(s.byStatus).map(([k, n]) => `${k} ${n}`).join(', '));
  fact(dl, 'rate', rate(v.ratePerSecond));
  fact(dl, 'ETA', v.finished ? 'done' : eta(v.etaSeconds));
  if (v.pending) fact(dl, 'queues (all batches)', Object.entries(v.pending).map(([q, n]) => `${q} ${n} unfinished`).join(', '));
  if (s.possiblyBilled) fact(dl, 'possibly billed', `${s.possiblyBilled} calls without an answer`);
  for (const q of v.quotas) if (q.quota || q.line) fact(dl, `${q.vendor} quota`, [q.quota, q.line].filter(Boolean).join(' — '));

  const max = Math.max(1, ...Object.values(s.byVerdict));
  $('#verdict-chart').replaceChildren(
    ...Object.entries(s.byVerdict).map(([k, n]) => {
      const b = el('span', { class: `bar ${k}` });
      b.style.width = `${(100 * n) / max}%`;
      return el('li', { 'aria-label': `${k}: ${n}` }, el('span', { text: k }), el('span', {}, b), el('span', { text: String(n) }));
    }),
  );

  rateSamples.push({ t: Date.now(), recorded: s.recorded });
  rateSamples = rateSamples.slice(-120);
  const rates = rateSamples.slice(1).map((p, i) => Math.max(0, (p.recorded - rateSamples[i].recorded) / ((p.t - rateSamples[i].t) / 1000)));
  const top = Math.max(1, ...rates);
  $('#rate-chart polyline').setAttribute('points', rates.map((r, i) => `${(300 * i) / Math.max(1, rates.length - 1)},${78 - (76 * r) / top}`).join(' '));
  $('#rate-title').textContent = `Records per second (while this page is open; latest ${rates.length ? rates.at(-1).toFixed(1) : '–'}/s)`;

  // Failures need a pass over the batch: once when finished, else every few seconds.
  if (failuresLoadedFor !== `${id}:${s.recorded}` && (v.finished || rateSamples.length % 5 === 1)) {
    failuresLoadedFor = `${id}:${s.recorded}`;
    const { byCode } = await api(`/api/batches/${encodeURIComponent(id)}/failures`);
    $('#failures tbody').replaceChildren(...(await failureRows(byCode)));
  }
  await renderBatchState(id, v);
  if (v.finished || rateSamples.length % 5 === 1) await renderChanges(id, s.recorded);
  await renderDrift(id, v.finished, s.recorded);
}

async function download(format) {
  const id = decodeURIComponent(location.hash.slice('#/batch/'.length));
  const res = await api(`/api/batches/${encodeURIComponent(id)}/results?format=${format}`, { raw: true });
  const blob = await res.blob();
  const url = URL.createObjectURL(blob);
  const a = el('a', { href: url, download: `${id.replace(/[^A-Za-z0-9._-]/g, '_')}.${format}` });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

function recordView(r) {
  const dl = el('dl', { class: 'facts' });
  for (const k of ['transactionId', 'batch', 'line', 'subject', 'check', 'status', 'verdict', 'score', 'attempts', 'finishedAt']) {
    dl.append(el('dt', { text: k }), el('dd', { class: k === 'status' ? `status-${r.status}` : '', text: r[k] === null || r[k] === undefined ? '–' : String(r[k]) }));
  }
  if (r.error) dl.append(el('dt', { text: 'error' }), el('dd', { text: `${r.error.code}: ${r.error.message}` }));
  const batchLink = el('a', { href: batchHref(r.batch), text: `batch ${r.batch}` });
  return el('article', { class: 'record', 'aria-label': `record ${r.transactionId ?? `${r.batch} line ${r.line}`}` }, el('h3', {}, `Line ${r.line} of `, batchLink), dl, el('details', {}, el('summary', { text: 'full record (JSON)' }), el('pre', { text: JSON.stringify(r, null, 2) })));
}

async function renderRecords(kind, q) {
  $('#records-title').textContent = kind === 'record' ? `Transaction ${q}` : `Subject ${q}`;
  try {
    if (kind === 'record') $('#records').replaceChildren(recordView(await api(`/api/records/${encodeURIComponent(q)}`)));
    else await renderSubject(q);
  } catch (error) {
    $('#records').replaceChildren(el('p', { text: error.status === 404 ? 'Not found.' : error.message }));
  }
}

function show(view) {
  for (const v of ['home', 'batch', 'records', 'review', 'case']) $(`#view-${v}`).hidden = v !== view;
}

async function route() {
  clearTimeout(pollTimer);
  const hash = location.hash;
  const tick = async (fn) => {
    try {
      await fn();
      say('');
    } catch (error) {
      say(`Could not update: ${error.message}`);
    }
    pollTimer = setTimeout(() => void tick(fn), POLL_MS);
  };
  if (hash.startsWith('#/batch/')) {
    show('batch');
    rateSamples = [];
    failuresLoadedFor = null;
    resetBatchPage();
    resetDrift();
    const id = decodeURIComponent(hash.slice('#/batch/'.length));
    await tick(() => renderBatch(id));
  } else if (hash.startsWith('#/review')) {
    show('review');
    await tick(renderQueue);
  } else if (hash.startsWith('#/case/')) {
    show('case');
    const id = decodeURIComponent(hash.slice('#/case/'.length));
    try {
      await renderCase(id);
      say('');
    } catch (error) {
      say(error.status === 404 ? `No case ${id}.` : `Could not load the case: ${error.message}`);
    }
  } else if (hash.startsWith('#/record/') || hash.startsWith('#/subject/')) {
    show('records');
    const [, kind, q] = hash.split('/');
    await renderRecords(kind, decodeURIComponent(q));
  } else {
    show('home');
    await tick(renderHome);
  }
}

$('#search').addEventListener('submit', (event) => {
  event.preventDefault();
  const q = $('#search-q').value.trim();
  if (q) location.hash = `#/${$('#search-kind').value}/${encodeURIComponent(q)}`;
});
$('#download-csv').addEventListener('click', () => download('csv').catch((e) => say(e.message)));
$('#download-jsonl').addEventListener('click', () => download('jsonl').catch((e) => say(e.message)));
setUpBatchPage();
setUpReview();
window.addEventListener('hashchange', () => void route());
void route();
