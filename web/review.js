// The review page (the queue, with filters and counts) and the case page (evidence side by side,
// decisions by buttons or keys: c confirmed-fraud, x cleared, r reverify, e escalate, j/k next/previous).
import { $, api, batchHref, caseHref, codeWithMeaning, el, fact, loadMeanings, mediaOf, say, score, subjectHref, verdictBadge, whoAmI } from './lib.js';

const KEYS = { c: 'confirmed-fraud', x: 'cleared', r: 'reverify', e: 'escalate' };
const NEEDS_NOTE = new Set(['confirmed-fraud', 'escalate']);
const REASONS = ['worse', 'new-bad', 'score-drop', 'refused-after-good', 'shared', 'ring'];

let queue = []; // case ids of the queue as last listed (for j/k and "next after deciding")
let queueQuery = 'state=open';
let selected = -1;
let current = null; // the case shown
let pending = null; // a decision waiting for its note

function queueFilters() {
  const params = new URLSearchParams(location.hash.split('?')[1] ?? 'state=open');
  return { state: params.get('state') ?? '', reason: params.get('reason') ?? '', batch: params.get('batch') ?? '' };
}

/** #/review?state=…&reason=…&batch=… */
export async function renderQueue() {
  const f = queueFilters();
  $('#review-state').value = f.state;
  $('#review-reason').value = f.reason;
  $('#review-batch').value = f.batch;
  const q = new URLSearchParams({ limit: '200' });
  for (const [k, v] of Object.entries(f)) if (v) q.set(k, v);
  queueQuery = q.toString();
  const { cases, counts } = await api(`/api/cases?${queueQuery}`);
  queue = cases.map((c) => c.id);
  $('#review-counts').textContent = `open ${counts.open} · claimed ${counts.claimed} · decided ${counts.decided}${f.batch ? ` (batch ${f.batch})` : ''}`;
  $('#review-cases tbody').replaceChildren(
    ...cases.map((c, i) =>
      el(
        'tr',
        { class: i === selected ? 'selected' : '', 'data-case': c.id },
        el('td', {}, el('a', { href: caseHref(c.id), text: c.id })),
        el('td', {}, el('a', { href: subjectHref(c.subject), text: c.subject })),
        el('td', {}, el('a', { href: batchHref(c.batch), text: c.batch })),
        el('td', { text: c.reasons.join(', ') }),
        el('td', {}, ...c.lines.slice(0, 1).map((l) => verdictBadge(l.verdict, l.status)), ` ${c.lines[0]?.label ?? ''}`),
        el('td', { text: c.decision ? `${c.decision} by ${c.decidedBy}` : c.claimedBy ? `claimed by ${c.claimedBy}` : c.state }),
        el('td', { text: c.openedAt.slice(0, 16).replace('T', ' ') }),
      ),
    ),
  );
  $('#review-empty').hidden = cases.length > 0;
}

function applyFilters(event) {
  event.preventDefault();
  const q = new URLSearchParams();
  for (const k of ['state', 'reason', 'batch']) {
    const v = $(`#review-${k}`).value.trim();
    if (v) q.set(k, v);
  }
  selected = -1;
  location.hash = `#/review?${q.toString()}`;
}

function sideOf(title, record, codes) {
  const box = el('section', { class: 'side', 'aria-label': title }, el('h3', { text: title }));
  if (!record) {
    box.append(el('p', { text: 'No earlier screening of this subject and check.' }));
    return box;
  }
  box.append(mediaOf(record));
  const dl = el('dl', { class: 'facts' });
  fact(dl, 'verdict', verdictBadge(record.verdict, record.status));
  fact(dl, 'score', score(record.score));
  fact(dl, 'status', record.status);
  if (record.error) fact(dl, 'failure', codeWithMeaning(codes, record.error.code));
  fact(dl, 'check', record.check ?? '–');
  fact(dl, 'screened', record.finishedAt);
  fact(dl, 'batch', el('a', { href: batchHref(record.batch), text: `${record.batch} line ${record.line}` }));
  fact(dl, 'transaction', record.transactionId ?? '–');
  for (const m of record.media ?? []) fact(dl, 'media', `${m.type}, ${m.bytes} bytes, sha256 ${m.sha256.slice(0, 16)}…${m.phash ? `, pHash ${m.phash}` : ''}`);
  // Quality fields: what the check declares beyond the common record (e.g. templateId), and the vendor's own.
  const quality = record.response?.result?.quality ?? record.response?.read?.quality ?? null;
  if (quality) fact(dl, 'quality', JSON.stringify(quality));
  for (const k of ['templateId', 'stoppedBy', 'possiblyBilled', 'attempts']) if (record[k] !== undefined && record[k] !== null) fact(dl, k, String(record[k]));
  box.append(dl);
  return box;
}

/** #/case/<id> */
export async function renderCase(id) {
  const [evidence, codes, me] = await Promise.all([api(`/api/cases/${encodeURIComponent(id)}`), loadMeanings(), whoAmI()]);
  current = evidence.case;
  pending = null;
  // A new case starts with no focus in the note: its keys are decisions again.
  if (document.activeElement === $('#note')) $('#note').blur();
  const c = evidence.case;
  if (queue.length === 0) await api(`/api/cases?${queueQuery}`).then((r) => (queue = r.cases.map((x) => x.id))).catch(() => undefined);
  selected = queue.indexOf(c.id);
  $('#case-title').textContent = `Case ${c.id}: subject ${c.subject}`;
  const dl = $('#case-facts');
  dl.replaceChildren();
  fact(dl, 'state', c.decision ? `decided: ${c.decision} by ${c.decidedBy} at ${c.decidedAt}` : c.claimedBy ? `claimed by ${c.claimedBy} until ${c.leaseUntil}` : c.state);
  fact(dl, 'reasons', el('ul', { class: 'reasons' }, ...c.reasons.map((r) => el('li', { text: r }))));
  fact(dl, 'subject', el('a', { href: subjectHref(c.subject), text: c.subject }));
  fact(dl, 'batch', el('a', { href: batchHref(c.batch), text: c.batch }));
  fact(dl, 'opened', c.openedAt);
  fact(dl, 'you', `${me.name} (${me.role})`);
  $('#case-lines').replaceChildren(
    ...evidence.lines.map((l) => {
      const line = c.lines.find((x) => x.line === l.line);
      return el(
        'article',
        { class: 'case-line', 'aria-label': `line ${l.line}` },
        el('h3', {}, `Line ${l.line}: `, line ? el('strong', { text: line.label }) : '', line ? ` (${line.reasons.join(', ')})` : ''),
        el('div', { class: 'sides' }, sideOf('This screening', l.record, codes), sideOf('Baseline', l.baseline, codes)),
      );
    }),
  );
  $('#case-decisions').replaceChildren(
    ...(evidence.decisions.length ? evidence.decisions.map((d) => el('li', { text: `${d.at} ${d.decision} by ${d.reviewer}${d.note ? `: ${d.note}` : ''}` })) : [el('li', { text: 'No decision yet.' })]),
  );
  $('#case-position').textContent = selected >= 0 ? `case ${selected + 1} of ${queue.length} in the queue` : 'not in the current queue';
  $('#note').value = '';
  $('#note-hint').textContent = 'A note is needed for confirmed-fraud and escalate.';
  $('#decide-bar').hidden = me.role === 'read';
}

async function decide(decision) {
  if (!current) return;
  const note = $('#note').value.trim();
  if (NEEDS_NOTE.has(decision) && !note) {
    pending = decision;
    $('#note-hint').textContent = `${decision} needs a note: write it and press Enter (Escape to cancel).`;
    $('#note').focus();
    return;
  }
  pending = null;
  try {
    await api(`/api/cases/${encodeURIComponent(current.id)}/decisions`, { method: 'POST', body: { decision, ...(note ? { note } : {}) } });
    say('');
    $('#decided').textContent = `${current.id}: ${decision}`;
    const at = queue.indexOf(current.id);
    // The queue moves on: the next case after this one (the list is reloaded lazily).
    const rest = queue.filter((id) => id !== current.id);
    queue = rest;
    const next = rest[Math.max(0, at)] ?? null;
    location.hash = next ? caseHref(next) : '#/review';
  } catch (error) {
    say(`Could not decide: ${error.message}`);
  }
}

function move(step) {
  if (queue.length === 0) return;
  selected = Math.min(queue.length - 1, Math.max(0, selected + step));
  if (!$('#view-case').hidden) location.hash = caseHref(queue[selected]);
  else for (const [i, row] of [...document.querySelectorAll('#review-cases tbody tr')].entries()) row.classList.toggle('selected', i === selected);
}

function onKey(event) {
  if (event.ctrlKey || event.metaKey || event.altKey) return;
  const inCase = !$('#view-case').hidden;
  const inQueue = !$('#view-review').hidden;
  if (!inCase && !inQueue) return;
  const typing = ['INPUT', 'TEXTAREA', 'SELECT'].includes(document.activeElement?.tagName ?? '');
  if (typing) {
    if (event.key === 'Escape') {
      pending = null;
      document.activeElement.blur();
    }
    return;
  }
  if (event.key === 'j') move(1);
  else if (event.key === 'k') move(-1);
  else if (inQueue && event.key === 'Enter' && queue[selected]) location.hash = caseHref(queue[selected]);
  else if (inCase && KEYS[event.key] && !$('#decide-bar').hidden) void decide(KEYS[event.key]);
  else return;
  event.preventDefault();
}

async function claimNext() {
  try {
    const { case: c } = await api('/api/cases/next', { method: 'POST', body: {} });
    if (c) location.hash = caseHref(c.id);
    else say('The queue is empty.');
  } catch (error) {
    say(`Could not claim: ${error.message}`);
  }
}

export function setUpReview() {
  $('#review-filters').addEventListener('submit', applyFilters);
  $('#review-reason').append(...REASONS.map((r) => el('option', { value: r, text: r })));
  $('#claim-next').addEventListener('click', () => void claimNext());
  for (const [key, decision] of Object.entries(KEYS)) $(`#decide-${key}`).addEventListener('click', () => void decide(decision));
  $('#note-form').addEventListener('submit', (event) => {
    event.preventDefault();
    if (pending) void decide(pending);
  });
  document.addEventListener('keydown', onKey);
}
