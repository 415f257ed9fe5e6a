/** GLAIR's name and label: its definition (./vendor.ts) and its client read them here. */
import type { VendorIdentity } from '../types.js';

export const GLAIR = { name: 'glair', label: 'GLAIR' } as const satisfies VendorIdentity;
