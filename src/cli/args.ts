/** Option parsers shared by the commands, answering from the built-in registries (vendors and checks). */
import { InvalidArgumentError } from 'commander';
import { BUILT_INS, orList } from '../app/index.js';
import type { CheckName } from '../checks/registry.js';
import type { Vendor } from '../app/index.js';

/** Check names, comma-separated, for `--help`. */
export const CHECK_LIST = BUILT_INS.checks.names.join(', ');
/** Vendor names, in registry order. */
export const VENDOR_NAMES: readonly Vendor[] = BUILT_INS.vendors.map((v) => v.name);
/** `ooto or glair`. */
export const VENDOR_CHOICE = orList(VENDOR_NAMES);
/** The quota variables, `OOTO_RATE_LIMIT / GLAIR_RATE_LIMIT`. */
export const RATE_LIMIT_VARS = BUILT_INS.vendors.map((v) => v.rateLimitVar).join(' / ');

export function positiveInt(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1) throw new InvalidArgumentError('must be a whole number ≥ 1');
  return Number(value);
}

export function wholeNumber(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('must be a whole number ≥ 0');
  return Number(value);
}

export function checkName(value: string): CheckName {
  if (!BUILT_INS.checks.has(value)) throw new InvalidArgumentError(`must be one of ${CHECK_LIST}`);
  return value;
}

export function vendorList(value: string): Vendor[] {
  const vendors = value.split(',').map((v) => v.trim());
  for (const v of vendors) {
    if (!VENDOR_NAMES.includes(v)) throw new InvalidArgumentError(`must be ${VENDOR_CHOICE} (comma-separated)`);
  }
  return vendors;
}
