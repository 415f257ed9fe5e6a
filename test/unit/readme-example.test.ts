/** The README shows the example project's test inline: that copy must be the real file, byte for byte. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const EXAMPLE = 'examples/integration-test/test/onboarding.test.ts';

describe('README "Testing your integration with rescreen"', () => {
  it('shows examples/integration-test/test/onboarding.test.ts exactly', () => {
    const readme = readFileSync(`${root}README.md`, 'utf8');
    const marker = readme.indexOf(`<!-- ${EXAMPLE}`);
    expect(marker, 'the README names the example file above its copy').toBeGreaterThan(0);
    const open = readme.indexOf('```ts\n', marker);
    const close = readme.indexOf('\n```\n', open);
    const shown = readme.slice(open + '```ts\n'.length, close + 1);
    expect(shown).toBe(readFileSync(`${root}${EXAMPLE}`, 'utf8'));
  });
});
