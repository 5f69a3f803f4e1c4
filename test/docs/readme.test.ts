/**
 * The README's two fresh-machine commands are what CI runs (.ci/run): the test command verbatim, and the start
 * command through scripts/check-start.sh, which runs `npm start` after CI's `npm ci` and waits for /healthz.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const ci = readFileSync(new URL('../../.ci/run', import.meta.url), 'utf8');
const checkStart = readFileSync(new URL('../../scripts/check-start.sh', import.meta.url), 'utf8');

/** The sh code blocks of the README's "Quick start" section, in order. */
function quickStartCommands(): string[] {
  const section = readme.slice(readme.indexOf('## Quick start'), readme.indexOf('\n## ', readme.indexOf('## Quick start') + 1));
  return [...section.matchAll(/```sh\n([^`]+?)\n```/g)].map((m) => m[1].trim());
}

describe('README quick start', () => {
  it('has exactly the two commands, and CI runs them as written', () => {
    const [start, test] = quickStartCommands();
    expect(start).toBe('npm ci && npm start');
    expect(test).toBe('npm ci && npm run setup:test && npm test');
    expect(ci.split('\n')).toContain(test);
    expect(ci).toMatch(/^bash scripts\/check-start\.sh$/m);
    expect(checkStart).toMatch(/^npm start /m);
  });
});
