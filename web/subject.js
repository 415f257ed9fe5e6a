// The subject page: a timeline, one row per screening (date, batch, check, verdict, score, change),
// the subject's cases and decisions beside it, and the media of the screening picked (latest first).
import { $, api, batchHref, caseHref, codeWithMeaning, el, loadMeanings, mediaOf, score, verdictBadge } from './lib.js';

function changeOf(record, previous) {
  if (!previous) return 'first screening';
  if (record.verdict === null) return 'no verdict';
  if (previous.verdict !== record.verdict) return `${previous.verdict ?? 'no verdict'} → ${record.verdict}`;
  if (record.score !== null && previous.score !== null) {
    const d = record.score - previous.score;
    return Math.abs(d) < 0.005 ? 'unchanged' : `score ${d > 0 ? '+' : ''}${d.toFixed(2)}`;
  }
  return 'unchanged';
}

export async function renderSubject(subject) {
  $('#records-title').textContent = `Subject ${subject}`;
  const [{ records }, { cases }, codes] = await Promise.all([
    api(`/api/subjects/${encodeURIComponent(subject)}`),
    api(`/api/cases?subject=${encodeURIComponent(subject)}&limit=200`).catch(() => ({ cases: [] })),
    loadMeanings(),
  ]);
  if (!records.length) {
    $('#records').replaceChildren(el('p', { text: 'No records for this subject.' }));
    return;
  }
  const last = new Map();
  const rows = records.map((r) => {
    const change = changeOf(r, last.get(r.check));
    if (r.verdict !== null) last.set(r.check, r);
    return { r, change };
  });
  const media = el('div', { class: 'subject-media' });
  const showMedia = (r) => media.replaceChildren(el('h3', { text: `Media: ${r.batch} line ${r.line}` }), mediaOf(r));
  const table = el(
    'table',
    { class: 'timeline', 'aria-label': `screenings of ${subject}` },
    el('thead', {}, el('tr', {}, ...['date', 'batch', 'check', 'verdict', 'score', 'change', 'media'].map((t) => el('th', { scope: 'col', text: t })))),
    el(
      'tbody',
      {},
      ...rows.map(({ r, change }) =>
        el(
          'tr',
          { class: /→ (deepfake|no-match)$/.test(change) ? 'change-worse' : '' },
          el('td', { text: r.finishedAt.slice(0, 16).replace('T', ' ') }),
          el('td', {}, el('a', { href: batchHref(r.batch), text: `${r.batch}:${r.line}` })),
          el('td', { text: r.check ?? '–' }),
          el('td', {}, verdictBadge(r.verdict, r.status), r.error ? el('div', {}, codeWithMeaning(codes, r.error.code)) : null),
          el('td', { text: score(r.score) }),
          el('td', { text: change }),
          el('td', {}, el('button', { type: 'button', class: 'link', text: 'show', onclick: () => showMedia(r) })),
        ),
      ),
    ),
  );
  const caseList = el('ul', { class: 'subject-cases' });
  for (const c of cases) {
    const { decisions } = await api(`/api/cases/${encodeURIComponent(c.id)}`).catch(() => ({ decisions: [] }));
    caseList.append(
      el(
        'li',
        {},
        el('a', { href: caseHref(c.id), text: c.id }),
        ` ${c.batch}: ${c.reasons.join(', ')} — ${c.state}`,
        el('ul', {}, ...decisions.map((d) => el('li', { text: `${d.at.slice(0, 16).replace('T', ' ')} ${d.decision} by ${d.reviewer}${d.note ? `: ${d.note}` : ''}` }))),
      ),
    );
  }
  if (!cases.length) caseList.append(el('li', { text: 'No review case.' }));
  $('#records').replaceChildren(
    el('div', { class: 'subject-layout' }, el('section', { 'aria-label': 'timeline' }, table), el('aside', { 'aria-label': 'cases and decisions' }, el('h3', { text: 'Cases and decisions' }), caseList)),
    media,
  );
  showMedia(records[records.length - 1]);
}
