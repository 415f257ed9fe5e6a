/**
 * The composition root's lists: the vendor registry (src/vendors/registry.ts) and the check modules
 * (jobs/index.ts), the only import of jobs/ in src/. Everything below takes them as a dependency; a
 * test passes lists of its own (a throw-away third vendor) without editing src/.
 */
import { CHECK_MODULES } from '../../jobs/index.js';
import { CheckRegistry, type AnyCheckModule } from '../checks/registry.js';
import { parseConfig, type Config } from '../config/config.js';
import type { VendorDefinition } from '../vendors/definition.js';
import { VENDORS } from '../vendors/registry.js';

/** The vendors and checks one runtime works with. */
export interface Registries {
  readonly vendors: readonly VendorDefinition[];
  readonly checks: CheckRegistry;
}

/**
 * Builds the registries. @throws Error for a check without a processor, on an unknown vendor, or a
 * name used twice (start-up refuses it).
 */
export function buildRegistries(vendors: readonly VendorDefinition[] = VENDORS, checks: readonly AnyCheckModule[] = CHECK_MODULES): Registries {
  return { vendors, checks: new CheckRegistry(checks, vendors) };
}

/** The built-in vendors and checks. */
export const BUILT_INS: Registries = buildRegistries();

/**
 * Parses the environment (default: `process.env`) into a Config with every registered vendor's
 * variables. @throws ConfigError naming every bad variable.
 */
export function loadConfig(env?: Readonly<Record<string, string | undefined>>, vendors: readonly VendorDefinition[] = BUILT_INS.vendors): Config {
  return parseConfig(vendors, env);
}
