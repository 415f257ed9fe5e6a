/**
 * The check registry: the list of check modules (jobs/*.ts, each one self-describing) that the
 * producer (validation, routing), the worker (processor lookup), the dry run and the CSV export ask
 * instead of naming checks. Built by the composition root (src/runtime/built-ins.ts) from jobs/index.ts
 * and the vendor registry; a test builds one with a check of its own. Nothing here names a check.
 */
import type { z } from 'zod';
import type { CheckInput, MediaLimits } from '../media/types.js';
import type { Vendor } from '../vendors/types.js';
import type { Processor } from './processor.js';
import type { CheckName, CheckOutcome, RecordFieldValue, Verdict } from './types.js';

export type { CheckInput };

export type { CheckName };

/**
 * One check, described by its own module in jobs/: what a manifest line must carry (`payload`, the
 * fields beyond `check` and `subject`), which vendor queue runs it, what media it takes, and the
 * processor that calls the vendor.
 */
export interface CheckModule<Client = never> {
  readonly name: CheckName;
  readonly vendor: Vendor;
  /** What the check takes: one photo (JPEG/PNG), one mp4 video, or a list of JPEG/PNG frames. */
  readonly input: CheckInput;
  /** One line for `--help` and the README table. */
  readonly description: string;
  /**
   * The line's fields beyond `check` and `subject`: `ref` (photo, video) or `frames`, and the check's
   * own `options` when it has any (their schema is the check's: generic code only carries them).
   */
  readonly payload: z.ZodObject;
  /** The verdicts the check can give, the good (expected at onboarding) one first. */
  readonly verdicts: readonly [Verdict, Verdict];
  /**
   * Fields the check adds to its completed records, at the top level, from its outcome's `fields`
   * (ooto-identify: the best-matching `templateId`); the CSV export gives each a column.
   */
  readonly recordFields?: readonly string[];
  readonly processor: Processor<Client>;
}

/** A check module of any client type, as the registry holds it. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the client type is each module's own; the runner passes the vendor's client.
export type AnyCheckModule = CheckModule<any>;

/** Declares a check module (typed against its vendor's client). */
export function defineCheck<Client>(module: CheckModule<Client>): CheckModule<Client> {
  return module;
}

/** What the check registry needs of a vendor (a VendorDefinition is one): its name and media caps. */
export interface VendorRef {
  readonly name: Vendor;
  readonly media?: MediaLimits;
}

/** The checks a process knows, in order, and the vendors they use. */
export class CheckRegistry {
  readonly #byName = new Map<CheckName, AnyCheckModule>();
  readonly #media = new Map<Vendor, MediaLimits>();
  /** Check names in registry order. */
  readonly names: readonly CheckName[];
  /** The vendors the checks use, in the registry's vendor order. */
  readonly vendors: readonly Vendor[];
  /** Every field a check adds to its records, in check order, each once (the CSV export's extra columns). */
  readonly recordFields: readonly string[];

  /**
   * @param modules the check modules (jobs/index.ts, plus any a test adds)
   * @param vendors every registered vendor, in order (the vendor registry); a check on a vendor not in it is refused
   * @throws Error for a duplicate name, an unknown vendor, or a module without a processor (start-up refuses it)
   */
  constructor(
    readonly modules: readonly AnyCheckModule[],
    vendors: readonly VendorRef[],
  ) {
    for (const v of vendors) this.#media.set(v.name, v.media ?? {});
    for (const m of modules) {
      if (this.#byName.has(m.name)) throw new Error(`check ${m.name} is registered twice`);
      if (!this.#media.has(m.vendor)) throw new Error(`check ${m.name} names vendor ${m.vendor}, which is not registered`);
      this.#byName.set(m.name, m);
    }
    const missing = modules.filter((m) => typeof m.processor !== 'function').map((m) => m.name);
    if (missing.length > 0) throw new Error(`no processor for check(s): ${missing.join(', ')}`);
    this.names = modules.map((m) => m.name);
    this.vendors = vendors.map((v) => v.name);
    this.recordFields = [...new Set(modules.flatMap((m) => m.recordFields ?? []))];
  }

  has(value: unknown): value is CheckName {
    return typeof value === 'string' && this.#byName.has(value);
  }

  /** The module of a registered check. @throws Error when it is not registered (a job from another build). */
  get(name: CheckName): AnyCheckModule {
    const m = this.#byName.get(name);
    if (m === undefined) throw new Error(`unknown check ${JSON.stringify(name)}`);
    return m;
  }

  vendorOf(name: CheckName): Vendor {
    return this.get(name).vendor;
  }

  /** The verdicts the check gives, the good (expected at onboarding) one first. */
  verdictsOf(name: CheckName): readonly [Verdict, Verdict] {
    return this.get(name).verdicts;
  }

  isVendor(value: unknown): value is Vendor {
    return typeof value === 'string' && this.vendors.includes(value);
  }

  /** The media caps of the check's vendor (the dry-run probe applies them as the worker's loader does). */
  mediaLimitsOf(name: CheckName): MediaLimits {
    return this.#media.get(this.vendorOf(name)) ?? {};
  }

  /** The fields the check declares, from its outcome (a declared field the outcome left out is `null`). */
  recordFieldsOf(name: CheckName, outcome: Pick<CheckOutcome, 'fields'>): Record<string, RecordFieldValue> {
    return Object.fromEntries((this.get(name).recordFields ?? []).map((field) => [field, outcome.fields?.[field] ?? null]));
  }
}
