/**
 * Fraud rings as the CLI (`rescreen rings`, `rings show`), the HTTP API (`/api/rings…`) and the
 * programmatic API read them (README: Fraud rings). Rings are kept by the ring store as batches
 * finish (src/rings/link.ts, run by the review scan); this module only reads and filters them, and
 * links a batch on demand (`rings link <batch>`, for batches screened before rings existed).
 */
import { isCanary } from '../checks/types.js';
import { InvalidInputError, NotFoundError } from '../errors/errors.js';
import { linkBatch, type LinkedBatch } from '../rings/link.js';
import type { Runtime } from '../runtime/runtime.js';
import { LINK_KINDS, type LinkKind, type Ring, type RingLink } from '../store/rings.js';
import { csvSafe } from './csv.js';
import { batchSummary } from './batches.js';

export { LINK_KINDS, type LinkKind, type Ring, type RingLink } from '../store/rings.js';

/** What `rings` takes, as given (flags or query parameters). */
export interface RingListArgs {
  /** Only rings with a link made by a record of this batch. */
  readonly batch?: string | undefined;
  /** Smallest ring shown (subjects); default 2. */
  readonly minSize?: number | undefined;
  /** Only these link kinds (comma list or array); a ring keeps its links of these kinds and the subjects they join. */
  readonly kinds?: string | readonly string[] | undefined;
}

/** Parses `--kind phash,template,sha256`. @throws InvalidInputError naming the unknown kind. */
export function parseKinds(value: string | readonly string[] | undefined): readonly LinkKind[] {
  if (value === undefined) return LINK_KINDS;
  const parts = (typeof value === 'string' ? value.split(',') : value).map((k) => k.trim()).filter((k) => k !== '');
  if (parts.length === 0) throw new InvalidInputError(`--kind must name link kinds (${LINK_KINDS.join(', ')})`);
  for (const k of parts) if (!(LINK_KINDS as readonly string[]).includes(k)) throw new InvalidInputError(`--kind ${JSON.stringify(k)} is not a link kind (${LINK_KINDS.join(', ')})`);
  return parts as LinkKind[];
}

/** The ring seen through a kind filter: its links of those kinds and the subjects they join; null when none is left. */
function filtered(ring: Ring, kinds: readonly LinkKind[]): Ring | null {
  if (kinds.length === LINK_KINDS.length) return ring;
  const links = ring.links.filter((l) => kinds.includes(l.kind));
  if (links.length === 0) return null;
  return { ...ring, links, subjects: [...new Set(links.flatMap((l) => [l.a, l.b]))].sort() };
}

function touches(link: RingLink, batch: string): boolean {
  return link.aRef.batch === batch || link.bRef.batch === batch;
}

/** Rings matching `args`, oldest first. @throws InvalidInputError for a bad kind or size. */
export async function* listRings(runtime: Runtime, args: RingListArgs = {}): AsyncGenerator<Ring> {
  const minSize = args.minSize ?? 2;
  if (!(Number.isSafeInteger(minSize) && minSize >= 2)) throw new InvalidInputError('--min-size must be a whole number of at least 2');
  const kinds = parseKinds(args.kinds);
  if (args.batch !== undefined) await batchSummary(runtime, args.batch);
  for await (const ring of runtime.rings.listRings()) {
    const seen = filtered(ring, kinds);
    if (seen === null || seen.subjects.length < minSize) continue;
    if (args.batch !== undefined && !seen.links.some((l) => touches(l, args.batch!))) continue;
    yield seen;
  }
}

/** Largest page of `GET /api/rings` (and {@link ringPage}). */
export const MAX_RING_PAGE = 500;

/** A page of rings: oldest first; `next` is the cursor of the following page (null at the end). */
export interface RingPage {
  readonly rings: Ring[];
  readonly next: string | null;
}

/** The cursor after a ring: its firstSeen and id (the order of {@link listRings}), base64url. */
function cursorOf(ring: Ring): string {
  return Buffer.from(`${ring.firstSeen}\u0000${ring.id}`, 'utf8').toString('base64url');
}

function readCursor(after: string): { firstSeen: string; id: string } {
  const [firstSeen, id, ...rest] = Buffer.from(after, 'base64url').toString('utf8').split('\u0000');
  if (firstSeen === undefined || id === undefined || rest.length > 0 || !/^r[0-9a-f]{16}$/.test(id)) throw new InvalidInputError('after is not a cursor this list gave');
  return { firstSeen, id };
}

/**
 * A page of {@link listRings} (the API's list): `limit` rings (default 50) after the cursor `after`
 * (the `next` of the page before). A ring's firstSeen and id do not change as it grows, and a merge
 * keeps the older ring's: no ring shows on two pages.
 * @throws InvalidInputError for a bad kind, size, limit or cursor; NotFoundError for an unknown batch.
 */
export async function ringPage(runtime: Runtime, args: RingListArgs & { readonly limit?: number | undefined; readonly after?: string | undefined } = {}): Promise<RingPage> {
  const limit = args.limit ?? 50;
  if (!(Number.isSafeInteger(limit) && limit >= 1 && limit <= MAX_RING_PAGE)) throw new InvalidInputError(`limit must be a whole number from 1 to ${MAX_RING_PAGE}`);
  const after = args.after !== undefined ? readCursor(args.after) : null;
  const rings: Ring[] = [];
  for await (const ring of listRings(runtime, args)) {
    if (after !== null && (ring.firstSeen < after.firstSeen || (ring.firstSeen === after.firstSeen && ring.id <= after.id))) continue;
    if (rings.length === limit) return { rings, next: cursorOf(rings[rings.length - 1]!) };
    rings.push(ring);
  }
  return { rings, next: null };
}

/** One ring. @throws NotFoundError for an unknown ring id. */
export async function getRing(runtime: Runtime, id: string): Promise<Ring> {
  const ring = /^r[0-9a-f]{16}$/.test(id) ? await runtime.rings.getRing(id) : null;
  if (ring === null) throw new NotFoundError(`no ring ${JSON.stringify(id)}`);
  return ring;
}

/** The rings a subject is in (at most one: rings are disjoint), for `subject <id>`. */
export async function subjectRings(runtime: Runtime, subject: string): Promise<string[]> {
  const id = (await runtime.rings.ringsOf([subject])).get(subject);
  return id === undefined ? [] : [id];
}

/**
 * The rings that touch a batch's subjects (its customers' records; canary lines have none), oldest
 * first: the signed export's `rings.jsonl`. Each ring whole (all its subjects and links, whichever
 * batch made them), as `rings show` gives it.
 */
export async function* batchSubjectRings(runtime: Runtime, batch: string): AsyncGenerator<Ring> {
  const subjects = new Set<string>();
  for await (const record of runtime.store.stream(batch)) if (record.subject !== null && record.subject !== '' && !isCanary(record)) subjects.add(record.subject);
  const list = [...subjects];
  const ids = new Set<string>();
  for (let i = 0; i < list.length; i += 1000) for (const id of (await runtime.rings.ringsOf(list.slice(i, i + 1000))).values()) ids.add(id);
  const rings: Ring[] = [];
  for (const id of ids) {
    const ring = await runtime.rings.getRing(id);
    if (ring !== null) rings.push(ring);
  }
  rings.sort((x, y) => (x.firstSeen < y.firstSeen ? -1 : x.firstSeen > y.firstSeen ? 1 : x.id < y.id ? -1 : 1));
  yield* rings;
}

/** Links a batch into the rings now (as its finish does). @throws NotFoundError for an unknown batch. */
export async function linkBatchRings(runtime: Runtime, batch: string): Promise<LinkedBatch> {
  await batchSummary(runtime, batch);
  return linkBatch({ store: runtime.store, rings: runtime.rings, matchThreshold: runtime.config.identifyMatchThreshold }, batch);
}

/** The columns of `rings --format csv`: one row per link. */
export const RING_CSV_COLUMNS = ['ring', 'size', 'firstSeen', 'lastSeen', 'kind', 'a', 'b', 'strength', 'aBatch', 'aLine', 'bBatch', 'bLine', 'at', 'collision'] as const;

/** A ring's CSV rows (one per link). */
export function ringCsvRows(ring: Ring): Record<string, unknown>[] {
  return ring.links.map((l) => ({
    ring: ring.id,
    size: ring.subjects.length,
    firstSeen: ring.firstSeen,
    lastSeen: ring.lastSeen,
    kind: l.kind,
    a: csvSafe(l.a),
    b: csvSafe(l.b),
    strength: l.strength,
    aBatch: csvSafe(l.aRef.batch),
    aLine: l.aRef.line,
    bBatch: csvSafe(l.bRef.batch),
    bLine: l.bRef.line,
    at: l.at,
    collision: l.collision === true,
  }));
}

/** `template (identity collision)` for a collision link, else the kind. */
export function linkKindLabel(link: RingLink): string {
  return link.collision === true ? `${link.kind} (identity collision)` : link.kind;
}

const DOT_COLOURS: Record<LinkKind, string> = { sha256: 'red', phash: 'orange', template: 'blue' };

/** Graphviz text of rings: one cluster per ring, subjects as nodes, links coloured by kind. */
export function ringsDot(rings: readonly Ring[]): string {
  const q = (s: string) => JSON.stringify(s);
  const out = ['graph rings {', '  node [shape=box];'];
  for (const ring of rings) {
    out.push(`  subgraph ${q(`cluster_${ring.id}`)} {`, `    label=${q(`${ring.id} (${ring.subjects.length} subjects)`)};`);
    for (const s of ring.subjects) out.push(`    ${q(s)};`);
    for (const l of ring.links) out.push(`    ${q(l.a)} -- ${q(l.b)} [label=${q(`${linkKindLabel(l)} ${l.strength}`)}, color=${DOT_COLOURS[l.kind]}];`);
    out.push('  }');
  }
  out.push('}');
  return `${out.join('\n')}\n`;
}
