/** Option parsers shared by the commands, answering from the built-in registries (vendors and checks). */
import { InvalidArgumentError, Option, type Command } from 'commander';
import { BUILT_INS, ENQUEUE_OPTIONS, orList, readOptionText, type EnqueueOptionName } from '../app/index.js';
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

export function checkName(value: string): CheckName {
  if (!BUILT_INS.checks.has(value)) throw new InvalidArgumentError(`must be one of ${CHECK_LIST}`);
  return value;
}

/** Every enqueue option, in `--help` order. */
export const ENQUEUE_OPTION_NAMES = Object.keys(ENQUEUE_OPTIONS) as EnqueueOptionName[];

/**
 * Adds enqueue options (src/app/enqueue-options.ts: flag, help, how its text is read) to a command:
 * all of them to `enqueue`, all but `--dry-run` to `run`, the caps to `batch raise` (with its own
 * words in `help`). The application layer checks the values.
 */
export function addEnqueueOptions(command: Command, names: readonly EnqueueOptionName[], help: Partial<Record<EnqueueOptionName, string>> = {}): Command {
  for (const name of names) {
    const spec = ENQUEUE_OPTIONS[name];
    const option = new Option(spec.flag, help[name] ?? (name === 'check' ? `${spec.help} (${CHECK_LIST})` : spec.help));
    if (name === 'check') option.argParser(checkName);
    else if (spec.kind !== 'flag') {
      option.argParser((text: string) => {
        try {
          return readOptionText(name, text);
        } catch (error) {
          throw new InvalidArgumentError(error instanceof Error ? error.message : String(error));
        }
      });
    }
    command.addOption(option);
  }
  return command;
}

export function vendorList(value: string): Vendor[] {
  const vendors = value.split(',').map((v) => v.trim());
  for (const v of vendors) {
    if (!VENDOR_NAMES.includes(v)) throw new InvalidArgumentError(`must be ${VENDOR_CHOICE} (comma-separated)`);
  }
  return vendors;
}
