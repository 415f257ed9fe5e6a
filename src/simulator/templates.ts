/**
 * OOTO's 1:N template database, simulated. A template is an identity key: the media's `face=<id>`
 * directive, else `sha256:<hex>` of its bytes (so only the very same photo matches itself).
 */
import { randomUUID } from 'node:crypto';
import { Prng } from './prng.js';

interface Template {
  readonly templateId: string;
  readonly identity: string;
  /** sha256 hex of the enrolled bytes; `null` when enrolled from an identity key alone. */
  readonly sha256: string | null;
}

/** The best template for a probe. */
export interface IdentifyMatch {
  /** `null` when the database is empty. */
  readonly templateId: string | null;
  /** Cosine-like similarity 0–1: same identity 0.9–1 (1 for the very same bytes); other identities < 0.5; empty database 0. */
  readonly similarity: number;
}

/** Identity key of media: its `face=` directive, else its sha256. */
export function identityOf(face: string | undefined, sha256: string): string {
  return face !== undefined ? `face:${face}` : `sha256:${sha256}`;
}

export class TemplateStore {
  readonly #byId = new Map<string, Template>();
  /** identity → template ids, in enrolment order. */
  readonly #byIdentity = new Map<string, string[]>();
  /** Every template id, in enrolment order (for the O(1) pick among other identities). */
  #ids: string[] = [];

  get size(): number {
    return this.#byId.size;
  }

  /** Enrols (or re-enrols, replacing) a template; returns its id (a fresh UUID unless given). */
  add(identity: string, sha256: string | null, templateId?: string): string {
    const id = templateId !== undefined && templateId !== '' ? templateId : randomUUID();
    if (this.#byId.has(id)) this.#remove(id);
    this.#byId.set(id, { templateId: id, identity, sha256 });
    const list = this.#byIdentity.get(identity);
    if (list) list.push(id);
    else this.#byIdentity.set(identity, [id]);
    this.#ids.push(id);
    return id;
  }

  /**
   * The best template for a probe. Same identity: the template with the very same bytes (similarity 1),
   * else the first enrolled one (0.9–0.999, from the hashes). Otherwise one of the others, picked
   * deterministically from the probe's identity, with a similarity of 0.05–0.45.
   */
  identify(identity: string, sha256: string): IdentifyMatch {
    const same = this.#byIdentity.get(identity);
    if (same && same.length > 0) {
      for (const id of same) if (this.#byId.get(id)?.sha256 === sha256) return { templateId: id, similarity: 1 };
      const id = same[0]!;
      return { templateId: id, similarity: Prng.fromText(`${sha256}|${id}`).between(0.9, 0.999) };
    }
    if (this.#ids.length === 0) return { templateId: null, similarity: 0 };
    const rng = Prng.fromText(identity);
    const id = this.#ids[rng.int(this.#ids.length)]!;
    return { templateId: id, similarity: rng.between(0.05, 0.45) };
  }

  #remove(id: string): void {
    const t = this.#byId.get(id);
    if (!t) return;
    this.#byId.delete(id);
    const list = this.#byIdentity.get(t.identity);
    if (list) {
      const rest = list.filter((x) => x !== id);
      if (rest.length > 0) this.#byIdentity.set(t.identity, rest);
      else this.#byIdentity.delete(t.identity);
    }
    this.#ids = this.#ids.filter((x) => x !== id);
  }
}
