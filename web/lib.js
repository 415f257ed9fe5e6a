// Shared helpers of the dashboard's pages: DOM building (textContent only, never innerHTML), the API
// with the tab's token, and the words every page uses (verdicts, scores, failure codes, media).
export const $ = (sel) => document.querySelector(sel);
const TOKEN_KEY = 'rescreen.token';

export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (v === undefined || v === null) continue;
    if (k === 'class') node.className = v;
    else if (k === 'text') node.textContent = v;
    else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v);
  }
  for (const c of children) if (c !== null && c !== undefined) node.append(c);
  return node;
}

export function say(text) {
  $('#status').textContent = text;
}

/** Asks for the token in a modal dialog; resolves once one is entered. */
function askToken() {
  const dialog = $('#token-dialog');
  if (dialog.open) return new Promise((resolve) => dialog.addEventListener('close', resolve, { once: true }));
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => {
      const value = $('#token-input').value.trim();
      if (value) sessionStorage.setItem(TOKEN_KEY, value);
      resolve();
    }, { once: true });
    dialog.showModal();
    $('#token-input').focus();
  });
}

/** A call on the API with the token; on 401 asks for one and tries again. Errors carry the problem. */
export async function api(path, { raw = false, method = 'GET', body } = {}) {
  for (let i = 0; i < 3; i++) {
    const token = sessionStorage.getItem(TOKEN_KEY);
    const headers = token ? { authorization: `Bearer ${token}` } : {};
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(path, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
    if (res.status === 401) {
      sessionStorage.removeItem(TOKEN_KEY);
      await askToken();
      continue;
    }
    if (!res.ok) {
      const problem = await res.json().catch(() => ({ detail: res.statusText }));
      const error = new Error(problem.detail ?? `HTTP ${res.status}`);
      error.status = res.status;
      error.code = problem.code;
      throw error;
    }
    return raw ? res : res.json();
  }
  throw new Error('no valid token');
}

export const batchHref = (id) => `#/batch/${encodeURIComponent(id)}`;
export const caseHref = (id) => `#/case/${encodeURIComponent(id)}`;
export const subjectHref = (s) => `#/subject/${encodeURIComponent(s)}`;

/** Scores to two decimals (a vendor's 0.912345678 says no more than 0.91). */
export const score = (s) => (s === null || s === undefined ? '–' : Number(s).toFixed(2));

const BAD = new Set(['deepfake', 'no-match']);
const GOOD = new Set(['genuine', 'match']);
/** A verdict marked so a deepfake never looks like a genuine: colour, a sign and the word. */
export function verdictBadge(verdict, status) {
  if (verdict === null || verdict === undefined) return el('span', { class: 'verdict none', text: status ? `no verdict (${status})` : 'no verdict' });
  if (BAD.has(verdict)) return el('span', { class: 'verdict bad', text: `⚠ ${verdict}`, title: 'bad verdict' });
  return el('span', { class: `verdict ${GOOD.has(verdict) ? 'good' : 'none'}`, text: `✓ ${verdict}` });
}

let meanings = null;
/** The meaning of every failure code (GET /api/meanings), loaded once. */
export async function loadMeanings() {
  meanings ??= api('/api/meanings').then((m) => m.codes).catch(() => ({}));
  return meanings;
}
export function meaningOf(codes, code) {
  const text = String(code);
  if (Object.hasOwn(codes, text)) return codes[text];
  const http = /^HTTP_(\d{3})$/.exec(text);
  if (http) return Number(http[1]) >= 500 ? `the vendor had a server error (HTTP ${http[1]})` : `the vendor answered only HTTP ${http[1]}`;
  return '';
}
/** `CODE — meaning`, as one element. */
export function codeWithMeaning(codes, code) {
  const m = meaningOf(codes, code);
  return el('span', { class: 'code' }, el('code', { text: String(code) }), m ? el('span', { class: 'meaning', text: ` — ${m}` }) : null);
}

let me = null;
let meFor = null;
/** Who the token is: {name, role} (asked again when the tab's token changed). */
export async function whoAmI() {
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (me === null || meFor !== token) {
    meFor = token;
    me = api('/api/me').catch(() => ({ name: '?', role: 'read' }));
  }
  return me;
}

/**
 * A record's media (photo, video, or each frame), fetched with the token and shown from a blob; a
 * ref that no longer resolves, changed bytes or a refused host show why instead of a broken image.
 */
export function mediaOf(record) {
  const box = el('div', { class: 'media', 'aria-label': `media of ${record.batch} line ${record.line}` });
  const count = Array.isArray(record.frames) ? record.frames.length : record.ref !== undefined ? 1 : 0;
  if (count === 0) {
    box.append(el('p', { class: 'media-problem', text: 'No media ref on this record.' }));
    return box;
  }
  for (let item = 1; item <= count; item++) {
    const slot = el('div', { class: 'media-item', text: 'loading media…' });
    box.append(slot);
    void (async () => {
      try {
        const res = await api(`/api/batches/${encodeURIComponent(record.batch)}/lines/${record.line}/media?item=${item}`, { raw: true });
        const type = res.headers.get('content-type') ?? '';
        const url = URL.createObjectURL(await res.blob());
        const label = count > 1 ? `frame ${item} of ${count}` : `media of line ${record.line}`;
        slot.replaceChildren(type.startsWith('video/') ? el('video', { src: url, controls: '', 'aria-label': label }) : el('img', { src: url, alt: label }));
      } catch (error) {
        const codes = await loadMeanings();
        slot.replaceChildren(el('p', { class: 'media-problem', role: 'note' }, 'Media not shown: ', error.code ? codeWithMeaning(codes, error.code) : '', el('br'), el('span', { class: 'detail', text: error.message })));
      }
    })();
  }
  return box;
}

export function fact(dl, name, value) {
  dl.append(el('dt', { text: name }), typeof value === 'string' ? el('dd', { text: value }) : el('dd', {}, value));
}
