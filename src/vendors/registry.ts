/**
 * The vendor registry: one line per vendor folder. A new vendor is a folder exporting a
 * VendorDefinition (see definition.ts) and a line here; a test may pass its own list to the runtime
 * instead (test/integration/third-vendor).
 */
import type { VendorDefinition } from './definition.js';
import { glairVendor } from './glair/vendor.js';
import { ootoVendor } from './ooto/vendor.js';

export const VENDORS: readonly VendorDefinition[] = [ootoVendor, glairVendor];
