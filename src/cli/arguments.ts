/** Parsers of command-line values shared by the commands (commander turns their errors into usage errors). */
import { InvalidArgumentError } from 'commander';
import { CHECK_NAMES, isCheckName, type CheckName } from '../checks/registry.js';

export function positiveInt(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1) throw new InvalidArgumentError('must be a whole number ≥ 1');
  return Number(value);
}

export function wholeNumber(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('must be a whole number ≥ 0');
  return Number(value);
}

export function checkName(value: string): CheckName {
  if (!isCheckName(value)) throw new InvalidArgumentError(`must be one of ${CHECK_NAMES.join(', ')}`);
  return value;
}
