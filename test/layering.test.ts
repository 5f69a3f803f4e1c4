/**
 * Layering of src/ (docs/design.md §2), checked on the import graph: no import cycles, and the pure numeric core
 * (kernel, spectrum, analysis, policy) reaches — directly or through any chain of imports — no Node builtin, no
 * gRPC, no prom-client, no database driver and no module of the I/O edge. eslint.config.js enforces the direct
 * imports file by file; this test adds the transitive closure, dynamic `import()` and cycles (ESLint has no
 * import/no-cycle without a plugin).
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SRC = join(ROOT, 'src');
const CORE = ['kernel', 'spectrum', 'analysis', 'policy'];
const EDGE = ['server', 'worker', 'metrics', 'store', 'cli', 'cohort'];
const BUILTINS = new Set(builtinModules);

export interface ImportEdge {
  specifier: string;
  typeOnly: boolean;
}

/** Every module specifier a TypeScript source names: static imports/exports (type-only marked) and import(). */
export function importsOf(source: string): ImportEdge[] {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`\\])\/\/.*$/gm, '$1');
  const out: ImportEdge[] = [];
  const fromRe = /(?:^|[;\n}])\s*(import|export)\s+(type\s+)?([^'";]*?)\s*from\s*['"]([^'"]+)['"]/g;
  for (const m of code.matchAll(fromRe)) {
    // `import { type A, type B } from` is type-only too; `import { type A, b }` is not.
    const names = m[3];
    const braced = /^\{([^}]*)\}$/.exec(names.trim());
    const allTypes = braced !== null && braced[1].split(',').map((s) => s.trim()).filter(Boolean).every((s) => s.startsWith('type '));
    out.push({ specifier: m[4], typeOnly: Boolean(m[2]) || allTypes });
  }
  for (const m of code.matchAll(/(?:^|[;\n])\s*import\s*['"]([^'"]+)['"]/g)) out.push({ specifier: m[1], typeOnly: false });
  for (const m of code.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)) out.push({ specifier: m[1], typeOnly: false });
  return out;
}

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return walk(path);
    return /\.ts$/.test(name) && !/\.d\.ts$/.test(name) ? [path] : [];
  });
}

/** src-relative path of a relative specifier's target (`./a.js` → `kernel/a.ts`), or undefined outside src/. */
function resolveRelative(from: string, specifier: string): string | undefined {
  const abs = resolve(dirname(from), specifier);
  for (const candidate of [abs.replace(/\.js$/, '.ts'), abs, `${abs}.ts`, join(abs, 'index.ts')]) {
    if (existsSync(candidate) && statSync(candidate).isFile()) return relative(SRC, candidate);
  }
  return undefined;
}

interface Graph {
  /** src-relative module → src-relative modules it imports (value imports only when runtimeOnly). */
  local: Map<string, Set<string>>;
  /** src-relative module → bare package or builtin specifiers it names. */
  external: Map<string, Set<string>>;
}

function buildGraph(runtimeOnly: boolean): Graph {
  const local = new Map<string, Set<string>>();
  const external = new Map<string, Set<string>>();
  for (const file of walk(SRC)) {
    const key = relative(SRC, file);
    if (key.startsWith('gen/')) continue; // generated from the proto: leaves
    const deps = new Set<string>();
    const ext = new Set<string>();
    for (const { specifier, typeOnly } of importsOf(readFileSync(file, 'utf8'))) {
      if (runtimeOnly && typeOnly) continue;
      if (specifier.startsWith('.')) {
        const target = resolveRelative(file, specifier);
        if (target && !target.startsWith('gen/')) deps.add(target);
      } else ext.add(specifier);
    }
    local.set(key, deps);
    external.set(key, ext);
  }
  return { local, external };
}

/** Every elementary cycle found by a depth-first search (one representative per back edge). */
function findCycles(local: Map<string, Set<string>>): string[][] {
  const cycles: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (node: string) => {
    state.set(node, 'open');
    stack.push(node);
    for (const next of local.get(node) ?? []) {
      if (state.get(next) === 'open') cycles.push([...stack.slice(stack.indexOf(next)), next]);
      else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(node, 'done');
  };
  for (const node of [...local.keys()].sort()) if (!state.has(node)) visit(node);
  return cycles;
}

const folderOf = (key: string) => (key.includes('/') ? key.slice(0, key.indexOf('/')) : '');

function forbiddenForCore(specifier: string): boolean {
  const bare = specifier.replace(/^node:/, '');
  return specifier.startsWith('node:') || BUILTINS.has(bare) || BUILTINS.has(bare.split('/')[0])
    || specifier.startsWith('@grpc/') || specifier === 'grpc-health-check' || specifier === 'prom-client'
    || specifier === 'pg' || specifier.startsWith('pg/');
}

/** For each core module, the first forbidden thing it reaches and the import chain that reaches it. */
export function coreViolations(graph: Graph): string[] {
  const problems: string[] = [];
  for (const start of [...graph.local.keys()].filter((k) => CORE.includes(folderOf(k))).sort()) {
    const seen = new Map<string, string[]>([[start, [start]]]);
    const queue = [start];
    while (queue.length) {
      const node = queue.shift() as string;
      const path = seen.get(node) as string[];
      if (EDGE.includes(folderOf(node))) {
        problems.push(`${path.join(' → ')} (edge folder ${folderOf(node)}/)`);
        break;
      }
      const bad = [...(graph.external.get(node) ?? [])].find(forbiddenForCore);
      if (bad) {
        problems.push(`${[...path, bad].join(' → ')}`);
        break;
      }
      for (const next of graph.local.get(node) ?? []) {
        if (!seen.has(next)) {
          seen.set(next, [...path, next]);
          queue.push(next);
        }
      }
    }
  }
  return problems;
}

describe('src/ import graph (docs/design.md §2)', () => {
  it('parses the import forms the sources use', () => {
    const edges = importsOf([
      "import { a } from './a.js';",
      "import type { B } from '../b.js';",
      "import { type C, type D } from './c.js';",
      "import { type E, f } from './e.js';",
      "export * from './g.js';",
      "import './side.js';",
      "const m = await import('node:fs');",
      "// import { x } from './commented.js';",
      "/* import { y } from './block.js'; */",
    ].join('\n'));
    expect(edges).toEqual([
      { specifier: './a.js', typeOnly: false },
      { specifier: '../b.js', typeOnly: true },
      { specifier: './c.js', typeOnly: true },
      { specifier: './e.js', typeOnly: false },
      { specifier: './g.js', typeOnly: false },
      { specifier: './side.js', typeOnly: false },
      { specifier: 'node:fs', typeOnly: false },
    ]);
  });

  it('sees the whole of src/', () => {
    const { local } = buildGraph(false);
    for (const folder of ['kernel', 'spectrum', 'analysis', 'policy', 'server', 'metrics']) {
      expect([...local.keys()].some((k) => k.startsWith(`${folder}/`)), folder).toBe(true);
    }
  });

  it('has no runtime import cycles', () => {
    expect(findCycles(buildGraph(true).local).map((c) => c.join(' → '))).toEqual([]);
  });

  it('has no type-level import cycles', () => {
    // Type-only cycles cost nothing at run time but tie the modules together: shared types live in leaf modules
    // (policy/verdict.ts for Verdict), so a new cycle fails this test.
    expect(findCycles(buildGraph(false).local).map((c) => c.join(' → '))).toEqual([]);
  });

  it('keeps the numeric core pure, transitively (kernel, spectrum, analysis, policy)', () => {
    expect(coreViolations(buildGraph(false))).toEqual([]);
  });

  it('catches a core module that reaches node:fs, prom-client or an edge folder through a chain', () => {
    const graph: Graph = {
      local: new Map([
        ['kernel/a.ts', new Set(['random.ts'])],
        ['random.ts', new Set<string>()],
        ['spectrum/b.ts', new Set(['metrics/m.ts'])],
        ['metrics/m.ts', new Set<string>()],
        ['analysis/c.ts', new Set(['util.ts'])],
        ['util.ts', new Set<string>()],
      ]),
      external: new Map([
        ['kernel/a.ts', new Set<string>()],
        ['random.ts', new Set(['node:fs'])],
        ['spectrum/b.ts', new Set<string>()],
        ['metrics/m.ts', new Set(['prom-client'])],
        ['analysis/c.ts', new Set(['worker_threads'])],
        ['util.ts', new Set<string>()],
      ]),
    };
    expect(coreViolations(graph)).toEqual([
      'analysis/c.ts → worker_threads',
      'kernel/a.ts → random.ts → node:fs',
      'spectrum/b.ts → metrics/m.ts (edge folder metrics/)',
    ]);
    expect(findCycles(new Map([['a.ts', new Set(['b.ts'])], ['b.ts', new Set(['a.ts'])]]))).toEqual([['a.ts', 'b.ts', 'a.ts']]);
  });
});
