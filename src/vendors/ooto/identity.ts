/** OOTO's name and label: its definition (./vendor.ts) and its client read them here. */
import type { VendorIdentity } from '../types.js';

export const OOTO = { name: 'ooto', label: 'OOTO' } as const satisfies VendorIdentity;
