/**
 * Linking a finished batch into the back-book's rings (issue 20). A batch's records give entries —
 * each medium sent (sha256, perceptual hashes) and each OOTO template a subject matched at or above
 * the match threshold or is enrolled as — that are kept in the ring store; the store hands back only
 * the entries that may link (same sha256, a shared hash band, the same template id), and the link
 * rule is applied to those alone: no pair of the back-book is compared otherwise. Canary records
 * and records without a subject never link; nothing here makes a network call.
 */
import { isCanary, type ResultRecord } from '../checks/types.js';
import { distance, isNear, type PictureHashes } from '../media/perceptual.js';
import { mediaBands, type LinkKind, type RingLink, type RingMedia, type RingStore, type RingTemplate } from '../store/rings.js';
import type { ResultStore } from '../store/types.js';

/** Entries looked up per candidates call. */
const QUERY_CHUNK = 250;

/** The record field that holds the subject's own enrolled template (a manifest line's `templateId`). */
export const ENROLLED_FIELD = 'enrolledTemplateId';

/** The entries of one record (none for a canary or a record without subject). */
export function entriesOf(record: ResultRecord, matchThreshold: number): { media: RingMedia[]; templates: RingTemplate[] } {
  const media: RingMedia[] = [];
  const templates: RingTemplate[] = [];
  const subject = record.subject;
  if (subject === null || subject === '' || isCanary(record)) return { media, templates };
  const at = record.finishedAt;
  (record.media ?? []).forEach((d, index) => {
    if (typeof d.sha256 !== 'string' || d.sha256 === '') return;
    const hashed = d.phash !== undefined && d.dhash !== undefined && d.cphash !== undefined && d.cdhash !== undefined;
    media.push({ batch: record.batch, line: record.line, index, subject, sha256: d.sha256, ...(hashed ? { phash: d.phash, dhash: d.dhash, cphash: d.cphash, cdhash: d.cdhash } : {}), at });
  });
  const matched = record.templateId;
  const enrolled = record[ENROLLED_FIELD];
  const own = typeof enrolled === 'string' && enrolled !== '' ? enrolled : undefined;
  if (record.status === 'completed' && typeof matched === 'string' && matched !== '' && typeof record.score === 'number' && record.score >= matchThreshold) {
    templates.push({ batch: record.batch, line: record.line, templateId: matched, subject, role: 'matched', similarity: record.score, ...(own !== undefined ? { enrolledAs: own } : {}), at });
  }
  if (own !== undefined) templates.push({ batch: record.batch, line: record.line, templateId: own, subject, role: 'enrolled', similarity: null, at });
  return { media, templates };
}

function hashesOf(m: RingMedia): PictureHashes | null {
  return m.phash !== undefined && m.dhash !== undefined && m.cphash !== undefined && m.cdhash !== undefined ? { phash: m.phash, dhash: m.dhash, cphash: m.cphash, cdhash: m.cdhash } : null;
}

/** A link between the subjects of two entries, `a` < `b` (the ends follow). */
function linkOf(kind: LinkKind, strength: number, x: RingMedia | RingTemplate, y: RingMedia | RingTemplate, collision = false): RingLink {
  const [p, q] = x.subject < y.subject ? [x, y] : [y, x];
  return { kind, a: p.subject, b: q.subject, strength, aRef: { batch: p.batch, line: p.line }, bRef: { batch: q.batch, line: q.line }, at: p.at > q.at ? p.at : q.at, ...(collision ? { collision: true as const } : {}) };
}

/**
 * Whether two entries of one template make an identity collision: the template is one subject's own
 * (enrolled), or a subject enrolled as another template matched it confidently. Two subjects that
 * only matched the same template share it (a plain `template` link).
 */
export function isCollision(x: RingTemplate, y: RingTemplate): boolean {
  const foreign = (t: RingTemplate) => t.role === 'enrolled' || (t.enrolledAs !== undefined && t.enrolledAs !== t.templateId);
  return foreign(x) || foreign(y);
}

/** Keeps the strongest link per (kind, a, b): the smallest distance, the highest similarity, then the earliest. */
function keepBest(best: Map<string, RingLink>, link: RingLink): void {
  const key = `${link.kind}\u0000${link.a}\u0000${link.b}`;
  const had = best.get(key);
  const better = (l: RingLink, h: RingLink) => {
    // An identity collision says more than a shared match of the same pair.
    if ((l.collision === true) !== (h.collision === true)) return l.collision === true;
    if (l.strength !== h.strength) return l.kind === 'template' ? l.strength > h.strength : l.strength < h.strength;
    return l.at < h.at;
  };
  if (had === undefined || better(link, had)) best.set(key, link);
}

/** The links between `media`/`templates` and the candidates the store found for them. */
export function linksAmong(entries: { media: readonly RingMedia[]; templates: readonly RingTemplate[] }, found: { media: readonly RingMedia[]; templates: readonly RingTemplate[] }): RingLink[] {
  const best = new Map<string, RingLink>();
  for (const m of entries.media) {
    const mh = hashesOf(m);
    for (const c of found.media) {
      if (c.subject === m.subject) continue;
      if (c.sha256 === m.sha256) {
        keepBest(best, linkOf('sha256', 0, m, c));
        continue;
      }
      const ch = hashesOf(c);
      if (mh === null || ch === null) continue;
      const d = distance(mh, ch);
      if (isNear(d)) keepBest(best, linkOf('phash', d.phash, m, c));
    }
  }
  for (const t of entries.templates) {
    for (const c of found.templates) {
      if (c.subject === t.subject || c.templateId !== t.templateId) continue;
      keepBest(best, linkOf('template', Math.min(t.similarity ?? 1, c.similarity ?? 1), t, c, isCollision(t, c)));
    }
  }
  return [...best.values()];
}

/** What linking a batch did. */
export interface LinkedBatch {
  /** Entries kept. */
  readonly media: number;
  readonly templates: number;
  /** Links the batch's entries make (new or found again). */
  readonly links: RingLink[];
}

/**
 * Links a batch into the rings: keeps its entries, looks up their candidates, applies the link rule
 * and adds the links (the store merges the rings). Idempotent: a second run finds the same links,
 * which the store already has.
 */
export async function linkBatch(deps: { store: ResultStore; rings: RingStore; matchThreshold: number }, batch: string): Promise<LinkedBatch> {
  let media: RingMedia[] = [];
  let templates: RingTemplate[] = [];
  let counts = { media: 0, templates: 0 };
  const links: RingLink[] = [];
  const flush = async () => {
    if (media.length === 0 && templates.length === 0) return;
    await deps.rings.addEntries(media, templates);
    counts = { media: counts.media + media.length, templates: counts.templates + templates.length };
    const found = await deps.rings.candidates({
      sha256: [...new Set(media.map((m) => m.sha256))],
      bands: media.flatMap((m) => mediaBands(m)),
      templateIds: templates.map((t) => t.templateId),
    });
    links.push(...linksAmong({ media, templates }, found));
    media = [];
    templates = [];
  };
  for await (const record of deps.store.stream(batch)) {
    const e = entriesOf(record, deps.matchThreshold);
    media.push(...e.media);
    templates.push(...e.templates);
    if (media.length + templates.length >= QUERY_CHUNK) await flush();
  }
  await flush();
  // The same pair may be found from both of its ends (two chunks of one batch): one link each.
  const best = new Map<string, RingLink>();
  for (const l of links) keepBest(best, l);
  const all = [...best.values()];
  await deps.rings.addLinks(all);
  return { ...counts, links: all };
}
