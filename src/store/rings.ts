/**
 * The ring store contract (issue 20: fraud rings across the back-book). It keeps, for every subject
 * ever screened, what may tie it to another subject — its media (sha256 and perceptual hashes) and
 * the OOTO templates it matched or was enrolled as — and the rings: the connected components of the
 * links found between subjects, kept incrementally (a union-find over the whole store).
 *
 * Every backend (Redis in ./redis-ring-store.ts, PostgreSQL in ./postgres/pg-ring-store.ts)
 * implements {@link RingStore} with exactly these semantics and proves it with the conformance suite
 * (test/integration/store/ring-conformance.ts, `describeRingStore`). Linking itself (which entries
 * are near) is src/rings/link.ts; the merge rule is {@link planLinks}, shared by the backends.
 */
import { createHash } from 'node:crypto';

/** What ties two subjects: byte-identical media, near-duplicate media, or the same OOTO template. */
export const LINK_KINDS = ['sha256', 'phash', 'template'] as const;
export type LinkKind = (typeof LINK_KINDS)[number];

/** Where an entry or a link end comes from: a record of the store. */
export interface LineRef {
  readonly batch: string;
  readonly line: number;
}

/** One medium a subject was screened with (one per media digest of a record). */
export interface RingMedia extends LineRef {
  /** Which digest of the record (0 for a photo, the frame's index for frames). */
  readonly index: number;
  readonly subject: string;
  readonly sha256: string;
  /** Perceptual hashes (src/media/perceptual.ts), when the picture was hashed. */
  readonly phash?: string;
  readonly dhash?: string;
  readonly cphash?: string;
  readonly cdhash?: string;
  /** ISO 8601: when the record was made. */
  readonly at: string;
}

/**
 * A subject's tie to an OOTO template: `matched` — an `ooto-identify` call matched it at or above
 * the match threshold (`similarity`); `enrolled` — the manifest line says the subject is enrolled as it.
 */
export interface RingTemplate extends LineRef {
  readonly templateId: string;
  readonly subject: string;
  readonly role: 'matched' | 'enrolled';
  /** The match's similarity; null for `enrolled`. */
  readonly similarity: number | null;
  /** `matched` only: the template the line says the subject is enrolled as (its manifest `templateId`), when given. */
  readonly enrolledAs?: string;
  readonly at: string;
}

/** A link between two subjects (`a` < `b`). */
export interface RingLink {
  readonly kind: LinkKind;
  readonly a: string;
  readonly b: string;
  /**
   * sha256: 0 (identical bytes); phash: the pHash distance in bits (0–9, the link rule's); template:
   * the similarity of the weaker end (1 for an enrolled template).
   */
  readonly strength: number;
  /** The records that made the link: `aRef` is `a`'s, `bRef` is `b`'s. */
  readonly aRef: LineRef;
  readonly bRef: LineRef;
  /** ISO 8601: the later of the two records (when the link could first be seen). */
  readonly at: string;
  /**
   * `template` only: an **identity collision** — the template is one end's own (a manifest line's
   * `templateId`), and the other subject matched it or is enrolled as it too; or one end's line,
   * enrolled as another template, matched this one. Absent for a plain shared match.
   */
  readonly collision?: true;
}

/** A ring: a connected component of links. */
export interface Ring {
  /** `r` + 16 hex digits: the id of its oldest component, stable as the ring grows ({@link ringIdOf}). */
  readonly id: string;
  /** Sorted. */
  readonly subjects: readonly string[];
  /** Oldest first (then kind, a, b). */
  readonly links: readonly RingLink[];
  /** ISO 8601: its first link's `at`. */
  readonly firstSeen: string;
  /** ISO 8601: the latest `at` of a link found for it (found again by a later batch counts). */
  readonly lastSeen: string;
}

/** What the store hands back for near-neighbour search: entries that may link with the asked ones. */
export interface Candidates {
  readonly media: RingMedia[];
  readonly templates: RingTemplate[];
}

/** What to look for: exact sha256, (band, value) pairs of {@link bandsOf}, template ids. */
export interface CandidateQuery {
  readonly sha256: readonly string[];
  readonly bands: readonly (readonly [number, number])[];
  readonly templateIds: readonly string[];
}

/**
 * The ring store.
 *
 * - **Entries** (`addEntries`) are kept once per (batch, line, index) / (templateId, batch, line):
 *   adding again changes nothing. `candidates` returns every kept entry with one of the asked sha256,
 *   sharing one of the asked (band, value) pairs (of its whole or centre hashes, {@link bandsOf}),
 *   or with one of the asked template ids. It never compares pairs itself: that is src/rings/link.ts.
 * - **Links and rings** (`addLinks`): links are applied in the order {@link sortLinks} gives, with
 *   {@link planLinks} (one rule for every backend), atomically with respect to other `addLinks`
 *   calls from any process. A link is kept once per (kind, a, b) (the first one stays; a later one
 *   moves its ring's `lastSeen`). Two rings joined keep the older one's id (earlier `firstSeen`,
 *   then smaller id).
 * - `ringOf`, `getRing`, `listRings` read the rings; `listRings` is oldest `firstSeen` first.
 * - `eraseSubject` (`rescreen forget --subject`) removes everything that names the subject: its
 *   media and template entries, its links, its membership; a ring left with fewer than two subjects
 *   is removed. The rest of its ring keeps its id and the links between the others (which may no
 *   longer connect them all: the ring is not split).
 */
export interface RingStore {
  addEntries(media: readonly RingMedia[], templates: readonly RingTemplate[]): Promise<void>;
  candidates(query: CandidateQuery): Promise<Candidates>;
  addLinks(links: readonly RingLink[]): Promise<void>;
  /** The ring id of each subject that is in one. */
  ringsOf(subjects: readonly string[]): Promise<Map<string, string>>;
  getRing(id: string): Promise<Ring | null>;
  /** Every ring, oldest first. */
  listRings(): AsyncIterable<Ring>;
  /** Erases what names `subject` (see above), atomically with respect to `addLinks`. */
  eraseSubject(subject: string): Promise<RingErasure>;
}

/** What {@link RingStore.eraseSubject} removed. */
export interface RingErasure {
  /** Media and template entries of the subject. */
  readonly entries: number;
  /** Links to or from the subject. */
  readonly links: number;
}

/**
 * Bands of the multi-index hashing: the 128-bit key pHash‖dHash split into {@link BAND_COUNT} bands
 * (8 of 13 bits, 2 of 12). The link rule (pHash + 2·dHash ≤ 9) bounds the key's Hamming distance by
 * 9, so by pigeonhole two linked pictures agree exactly on at least one of the 10 bands: looking up
 * each band's value finds every pair within the threshold, and nothing else is compared.
 */
export const BAND_COUNT = 10;
const BAND_BITS = [13, 13, 13, 13, 13, 13, 13, 13, 12, 12];

/** The (band, value) pairs of a picture's key pHash‖dHash (16 hex digits each). */
export function bandsOf(phash: string, dhash: string): [number, number][] {
  let key = (BigInt(`0x${phash}`) << 64n) | BigInt(`0x${dhash}`);
  const out: [number, number][] = [];
  for (let band = BAND_COUNT - 1; band >= 0; band -= 1) {
    const bits = BigInt(BAND_BITS[band]!);
    out.push([band, Number(key & ((1n << bits) - 1n))]);
    key >>= bits;
  }
  return out.reverse();
}

/** Every (band, value) of a medium: of its whole picture and of its centre. */
export function mediaBands(m: Pick<RingMedia, 'phash' | 'dhash' | 'cphash' | 'cdhash'>): [number, number][] {
  const out: [number, number][] = [];
  if (m.phash !== undefined && m.dhash !== undefined) out.push(...bandsOf(m.phash, m.dhash));
  if (m.cphash !== undefined && m.cdhash !== undefined) out.push(...bandsOf(m.cphash, m.cdhash));
  const seen = new Set<string>();
  return out.filter(([b, v]) => !seen.has(`${b}:${v}`) && seen.add(`${b}:${v}`) !== undefined);
}

/** The id a ring gets from the link that started it: `r` + 16 hex digits of sha256(kind NUL a NUL b). */
export function ringIdOf(link: Pick<RingLink, 'kind' | 'a' | 'b'>): string {
  return `r${createHash('sha256').update(`${link.kind}\u0000${link.a}\u0000${link.b}`).digest('hex').slice(0, 16)}`;
}

/** A link's key: one link per (kind, a, b). */
export function linkKey(link: Pick<RingLink, 'kind' | 'a' | 'b'>): string {
  return `${link.kind}\u0000${link.a}\u0000${link.b}`;
}

/** Links in the order they are applied: oldest first, then kind, a, b. */
export function sortLinks(links: readonly RingLink[]): RingLink[] {
  return [...links].sort((x, y) => (x.at < y.at ? -1 : x.at > y.at ? 1 : linkKey(x) < linkKey(y) ? -1 : linkKey(x) > linkKey(y) ? 1 : 0));
}

/** A ring as the merge rule sees it. */
export interface RingHead {
  readonly id: string;
  readonly firstSeen: string;
}

/** What {@link planLinks} asks a backend to do, in order. */
export interface RingPlan {
  /** Rings to create (id, firstSeen). */
  readonly created: RingHead[];
  /** Subjects to put in a ring (new members). */
  readonly joins: { subject: string; ring: string }[];
  /** Whole rings to fold into another, in order (members and links move; `from` disappears). */
  readonly merges: { from: string; into: string }[];
  /** Each link with the ring it ends in. */
  readonly links: { link: RingLink; ring: string }[];
  /** Each touched ring's latest link time (its `lastSeen` becomes at least this). */
  readonly seen: Map<string, string>;
}

function older(x: RingHead, y: RingHead): boolean {
  return x.firstSeen < y.firstSeen || (x.firstSeen === y.firstSeen && x.id < y.id);
}

/**
 * The merge rule, the same for every backend: `current` holds the ring (id, firstSeen) of each
 * subject of `links` that is in one. Links are applied in {@link sortLinks} order: two subjects in
 * no ring start one (id {@link ringIdOf} of that link); a subject joins its partner's ring; two
 * rings become the older one.
 */
export function planLinks(links: readonly RingLink[], current: ReadonlyMap<string, RingHead>): RingPlan {
  const ringOf = new Map(current);
  const plan: RingPlan = { created: [], joins: [], merges: [], links: [], seen: new Map() };
  for (const link of sortLinks(links)) {
    const ra = ringOf.get(link.a);
    const rb = ringOf.get(link.b);
    let ring: RingHead;
    if (ra === undefined && rb === undefined) {
      ring = { id: ringIdOf(link), firstSeen: link.at };
      plan.created.push(ring);
      plan.joins.push({ subject: link.a, ring: ring.id }, { subject: link.b, ring: ring.id });
      ringOf.set(link.a, ring).set(link.b, ring);
    } else if (ra === undefined || rb === undefined) {
      ring = (ra ?? rb)!;
      const joining = ra === undefined ? link.a : link.b;
      plan.joins.push({ subject: joining, ring: ring.id });
      ringOf.set(joining, ring);
    } else if (ra.id === rb.id) {
      ring = ra;
    } else {
      ring = older(ra, rb) ? ra : rb;
      const gone = ring === ra ? rb : ra;
      plan.merges.push({ from: gone.id, into: ring.id });
      for (const [s, r] of ringOf) if (r.id === gone.id) ringOf.set(s, ring);
      const last = plan.seen.get(gone.id);
      plan.seen.delete(gone.id);
      if (last !== undefined && (plan.seen.get(ring.id) ?? '') < last) plan.seen.set(ring.id, last);
    }
    plan.links.push({ link, ring: ring.id });
    if ((plan.seen.get(ring.id) ?? '') < link.at) plan.seen.set(ring.id, link.at);
  }
  // A link's ring is the one it ends in after every merge of the call.
  const final = new Map<string, string>();
  for (const m of plan.merges) {
    for (const [k, v] of final) if (v === m.from) final.set(k, m.into);
    final.set(m.from, m.into);
  }
  const resolve = (id: string) => final.get(id) ?? id;
  return { ...plan, links: plan.links.map((l) => ({ link: l.link, ring: resolve(l.ring) })), joins: plan.joins.map((j) => ({ ...j, ring: resolve(j.ring) })) };
}

/** Links ordered for display and comparison. */
export function orderRing(ring: Ring): Ring {
  return { ...ring, subjects: [...ring.subjects].sort(), links: sortLinks(ring.links) };
}
