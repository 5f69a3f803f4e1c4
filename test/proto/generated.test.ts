/**
 * The TypeScript types in src/gen are generated from the proto and committed; this fails when they are stale
 * (run `npm run gen`). It regenerates with the exact `npm run gen` command into a temp dir and compares.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : [join(dir, e.name)]));
}

describe('generated proto types', () => {
  it('match the proto (npm run gen)', () => {
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: Record<string, string> };
    const args = pkg.scripts.gen.split(/\s+/);
    const out = mkdtempSync(join(tmpdir(), 'ntk-gen-'));
    try {
      const o = args.indexOf('-O');
      args[o + 1] = out;
      execFileSync(join('node_modules', '.bin', args[0]), args.slice(1), { stdio: 'pipe' });
      const want = files(out).map((f) => relative(out, f)).sort();
      const have = files('src/gen').map((f) => relative('src/gen', f)).sort();
      expect(have).toEqual(want);
      for (const f of want) expect(readFileSync(join('src/gen', f), 'utf8'), `src/gen/${f} is stale: run npm run gen`).toBe(readFileSync(join(out, f), 'utf8'));
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
