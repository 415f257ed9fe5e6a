#!/usr/bin/env node
// Thin launcher: the compiled CLI lives in dist/ (built by `npm ci` through the `prepare` script).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const entry = new URL('../dist/src/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  process.stderr.write('rescreen: not built yet — run `npm ci` (or `npm run build`) in the project root first.\n');
  process.exit(2);
}
const { main } = await import(entry.href);
await main(process.argv);
