/** The package version (read in src/config/version.ts, so the workers can record it too). */
export { packageVersion } from '../config/version.js';
