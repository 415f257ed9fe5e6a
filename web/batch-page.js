// The batch page's "what changed" parts: state, spend and cap, the operator's controls, the changed
// lines (worse first) with links to their cases, and failure codes with their meaning.
import { $, api, caseHref, codeWithMeaning, el, fact, loadMeanings, say, score, subjectHref, verdictBadge, whoAmI } from './lib.js';

// Worse first: what a reviewer must look at, then what may need a look, then the rest.
const ORDER = { worse: 0, 'score-drop': 1, 'no-verdict': 2, new: 3, better: 4 };
const money = (micros, currency) => `${currency} ${(micros / 1e6).toFixed(2)}`;

/** State, spend, cap and the control buttons (operator tokens only). */
export async function renderBatchState(id, v) {
  const me = await whoAmI();
  const b = v.budget;
  const atCap = b?.budgetReached === true;
  const state = v.finished ? `finished${v.state === 'cancelled' ? ' (cancelled)' : ''}` : atCap ? `${v.state ?? 'running'}, at its cap` : (v.state ?? 'running');
  const dl = $('#batch-state');
  dl.replaceChildren();
  fact(dl, 'state', el('strong', { class: `batch-state ${atCap ? 'at-cap' : (v.state ?? 'running')}`, text: state }));
  if (b) {
    fact(dl, 'spend', `${money(b.spend, b.currency)} for ${b.totalPaidCalls} paid calls`);
    const caps = [b.maxCalls ? `${b.maxCalls} calls` : null, b.maxSpend ? money(b.maxSpend, b.currency) : null].filter(Boolean);
    fact(dl, 'cap', caps.length ? `${caps.join(', ')}${atCap ? ' — reached' : ''}` : 'none');
  }
  for (const w of v.waiting ?? []) fact(dl, 'waiting', w);
  const controls = $('#batch-controls');
  controls.hidden = me.role !== 'operator' || v.finished;
  $('#control-pause').hidden = v.state === 'paused' || v.state === 'cancelled';
  $('#control-resume').hidden = v.state !== 'paused';
}

async function control(verb) {
  const id = decodeURIComponent(location.hash.slice('#/batch/'.length));
  try {
    let body = {};
    if (verb === 'raise') {
      const text = $('#raise-calls').value.trim();
      const spend = $('#raise-spend').value.trim();
      body = { ...(text ? { maxCalls: Number(text) } : {}), ...(spend ? { maxSpend: spend } : {}) };
    }
    if (verb === 'cancel' && !window.confirm(`Cancel batch ${id}? Lines not yet sent end CANCELLED.`)) return;
    await api(`/api/batches/${encodeURIComponent(id)}/${verb}`, { method: 'POST', body });
    say('');
  } catch (error) {
    say(`Could not ${verb}: ${error.message}`);
  }
}

let changesFor = null;
/** The changed lines, worse first, with their cases (loaded when the count of records moved). */
export async function renderChanges(id, recorded) {
  if (changesFor === `${id}:${recorded}`) return;
  changesFor = `${id}:${recorded}`;
  const [{ changes }, { cases }] = await Promise.all([
    api(`/api/batches/${encodeURIComponent(id)}/changes?limit=10000`),
    api(`/api/cases?batch=${encodeURIComponent(id)}&limit=1000`).catch(() => ({ cases: [] })),
  ]);
  const caseOf = new Map(cases.map((c) => [c.subject, c]));
  const shown = changes.filter((c) => c.kind !== 'unchanged' && !(c.kind === 'new' && !caseOf.has(c.subject))).sort((a, b) => (ORDER[a.kind] ?? 9) - (ORDER[b.kind] ?? 9) || a.line - b.line);
  const counts = {};
  for (const c of changes) counts[c.kind] = (counts[c.kind] ?? 0) + 1;
  $('#changes-counts').textContent = Object.entries(counts).map(([k, n]) => `${k} ${n}`).join(' · ') || 'no lines yet';
  $('#changes tbody').replaceChildren(
    ...shown.slice(0, 500).map((c) => {
      const kase = caseOf.get(c.subject);
      return el(
        'tr',
        { class: `change-${c.kind}` },
        el('td', { text: String(c.line) }),
        el('td', {}, c.subject ? el('a', { href: subjectHref(c.subject), text: c.subject }) : '–'),
        el('td', { text: c.kind }),
        el('td', { text: c.label }),
        el('td', {}, verdictBadge(c.verdict)),
        el('td', { text: `${score(c.baseline?.score)} → ${score(c.score)}` }),
        el('td', {}, kase ? el('a', { href: caseHref(kase.id), text: kase.decision ? `${kase.id} (${kase.decision})` : `${kase.id} (${kase.state})` }) : '–'),
      );
    }),
  );
  $('#no-changes').hidden = shown.length > 0;
}

/** Failures by code with what each code means. */
export async function failureRows(byCode) {
  const codes = await loadMeanings();
  const rows = Object.entries(byCode).sort((a, b) => b[1] - a[1]);
  if (!rows.length) return [el('tr', {}, el('td', { colspan: '2', text: 'none' }))];
  return rows.map(([c, n]) => el('tr', {}, el('td', {}, codeWithMeaning(codes, c)), el('td', { text: String(n) })));
}

export function resetBatchPage() {
  changesFor = null;
}

export function setUpBatchPage() {
  for (const verb of ['pause', 'resume', 'cancel', 'raise']) $(`#control-${verb}`).addEventListener('click', () => void control(verb));
}
