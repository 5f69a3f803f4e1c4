/**
 * deploy/Dockerfile without a Docker engine: every file the build copies exists and gets through the
 * .dockerignore, every command it runs is a real npm script, the runtime stage copies only what the build stage
 * produced, the entry point is what `npm run build` emits, and the base image's glibc is new enough for the Dawn
 * binary gpu.js' WebGPU backend loads.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultConfig, parseAddress } from '../../src/config/config.js';
import { REPO_ROOT } from './support/tools.js';

const DOCKERFILE = join(REPO_ROOT, 'deploy/Dockerfile');
const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string; scripts: Record<string, string>; engines: { node: string } };

interface Instruction {
  op: string;
  args: string;
}

/** Instructions with line continuations joined and comments dropped. */
function parseDockerfile(text: string): Instruction[] {
  const out: Instruction[] = [];
  let pending = '';
  for (const raw of text.split('\n')) {
    if (/^\s*#/.test(raw) && !pending) continue;
    const line = raw.replace(/\s+$/, '');
    if (line.endsWith('\\')) {
      pending += line.slice(0, -1) + ' ';
      continue;
    }
    const full = (pending + line).trim();
    pending = '';
    if (!full) continue;
    const m = /^(\w+)\s+(.*)$/s.exec(full);
    if (m) out.push({ op: m[1].toUpperCase(), args: m[2].trim() });
  }
  return out;
}

interface Stage {
  image: string;
  name: string | undefined;
  instructions: Instruction[];
}

function stages(instructions: Instruction[]): Stage[] {
  const args = new Map<string, string>();
  const out: Stage[] = [];
  for (const ins of instructions) {
    if (ins.op === 'ARG' && out.length === 0) {
      const [k, v] = ins.args.split('=');
      args.set(k, v);
    } else if (ins.op === 'FROM') {
      const [image, as, name] = ins.args.replace(/\$\{(\w+)\}/g, (_, k: string) => args.get(k) ?? '').split(/\s+/);
      out.push({ image, name: as?.toUpperCase() === 'AS' ? name : undefined, instructions: [] });
    } else if (out.length) {
      out[out.length - 1].instructions.push(ins);
    }
  }
  return out;
}

/** .dockerignore semantics (moby patternmatcher): last matching pattern wins; a pattern matching a parent matches. */
function dockerignored(path: string, patterns: string[]): boolean {
  const toRegex = (p: string) =>
    new RegExp(
      '^' +
        p
          .replace(/\/$/, '')
          .split('/')
          .map((seg) => (seg === '**' ? '.*' : seg.replace(/[.+^$()|[\]{}]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]')))
          .join('/')
          .replace(/\.\*\//g, '(?:.*/)?') +
        '$',
    );
  const parts = path.split('/');
  const prefixes = parts.map((_, i) => parts.slice(0, i + 1).join('/'));
  let ignored = false;
  for (const raw of patterns) {
    const negate = raw.startsWith('!');
    const re = toRegex(negate ? raw.slice(1) : raw);
    if (prefixes.some((p) => re.test(p))) ignored = !negate;
  }
  return ignored;
}

function copies(stage: Stage): Array<{ from: string | undefined; sources: string[]; dest: string }> {
  return stage.instructions
    .filter((i) => i.op === 'COPY')
    .map((i) => {
      const from = /--from=(\S+)/.exec(i.args)?.[1];
      const words = i.args.replace(/--\S+/g, '').trim().split(/\s+/);
      return { from, sources: words.slice(0, -1), dest: words[words.length - 1] };
    });
}

/** glibc of the Debian releases the official node images are built on. */
const DEBIAN_GLIBC: Record<string, string> = { bullseye: '2.31', bookworm: '2.36', trixie: '2.41' };
const versionAtLeast = (a: string, b: string) => {
  const [x, y] = [a.split('.').map(Number), b.split('.').map(Number)];
  for (let i = 0; i < Math.max(x.length, y.length); i++) if ((x[i] ?? 0) !== (y[i] ?? 0)) return (x[i] ?? 0) > (y[i] ?? 0);
  return true;
};

const instructions = parseDockerfile(readFileSync(DOCKERFILE, 'utf8'));
const [build, runtime] = stages(instructions);
const ignorePatterns = readFileSync(join(REPO_ROOT, 'deploy/Dockerfile.dockerignore'), 'utf8')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith('#'));

describe('deploy/Dockerfile', () => {
  it('is a two-stage build on Debian trixie node images of the supported Node major', () => {
    expect(stages(instructions)).toHaveLength(2);
    expect(build.name).toBe('build');
    const major = /^>=(\d+)/.exec(pkg.engines.node)![1];
    for (const s of [build, runtime]) expect(s.image).toMatch(new RegExp(`^node:${major}-trixie-slim$`));
  });

  it('uses a base image whose glibc loads the Dawn binary of gpu.js’ WebGPU backend', () => {
    const release = /-(\w+)-slim$/.exec(runtime.image)![1];
    const glibc = DEBIAN_GLIBC[release];
    expect(glibc, `glibc of Debian ${release}`).toBeDefined();
    // The GLIBC_x.y symbol versions the shipped binary requires, read from the binary itself.
    const dawn = readFileSync(join(REPO_ROOT, 'node_modules/webgpu/dist/linux-x64.dawn.node')).toString('latin1');
    const needed = [...new Set([...dawn.matchAll(/GLIBC_(\d+\.\d+(?:\.\d+)?)/g)].map((m) => m[1]))].sort((a, b) => (versionAtLeast(a, b) ? 1 : -1));
    const newest = needed[needed.length - 1];
    expect(versionAtLeast(newest, '2.38'), `dawn.node needs glibc ${newest}`).toBe(true); // why trixie: bookworm has 2.36
    expect(versionAtLeast(glibc, newest), `Debian ${release} glibc ${glibc} ≥ ${newest}`).toBe(true);
    // The Vulkan loader Dawn opens, and the driver capability that brings the ICD in.
    expect(runtime.instructions.find((i) => i.op === 'RUN')?.args).toMatch(/apt-get install -y --no-install-recommends libvulkan1/);
    expect(runtime.instructions.find((i) => i.op === 'ENV')?.args).toMatch(/NVIDIA_DRIVER_CAPABILITIES=compute,utility,graphics/);
  });

  it('copies from the build context only files that exist and that the .dockerignore lets through', () => {
    const sources = [...copies(build), ...copies(runtime)].filter((c) => !c.from).flatMap((c) => c.sources);
    expect(sources.sort()).toEqual(['package-lock.json', 'package.json', 'proto', 'src', 'tsconfig.build.json', 'tsconfig.json']);
    for (const s of sources) {
      expect(existsSync(join(REPO_ROOT, s)), `${s} exists`).toBe(true);
      expect(dockerignored(s, ignorePatterns), `${s} is not ignored`).toBe(false);
    }
    expect(dockerignored('src/cli/main.ts', ignorePatterns)).toBe(false);
    expect(dockerignored('proto/ntksidecar/v1/sidecar.proto', ignorePatterns)).toBe(false);
    // …and keeps the rest out (node_modules, tests, the deploy files themselves).
    for (const p of ['node_modules/yaml/package.json', 'dist/cli/main.js', 'test/deploy/dockerfile.test.ts', 'deploy/Dockerfile', 'README.md', 'src/x.test.ts']) {
      expect(dockerignored(p, ignorePatterns), `${p} is ignored`).toBe(true);
    }
  });

  it('runs only real npm scripts, after copying what they need', () => {
    const runs = build.instructions.filter((i) => i.op === 'RUN').map((i) => i.args);
    const scripts = runs.flatMap((r) => [...r.matchAll(/npm run (\S+)/g)].map((m) => m[1]));
    expect(scripts).toEqual(['build']);
    for (const s of scripts) expect(pkg.scripts[s], `npm run ${s}`).toBeDefined();
    // npm ci needs the lockfile before it; the build needs the sources and tsconfigs before it.
    const order = build.instructions.map((i) => `${i.op} ${i.args}`);
    const at = (re: RegExp) => order.findIndex((l) => re.test(l));
    expect(at(/^COPY package\.json package-lock\.json/)).toBeLessThan(at(/^RUN npm ci/));
    for (const re of [/^COPY tsconfig\.json tsconfig\.build\.json/, /^COPY proto/, /^COPY src/]) expect(at(re)).toBeLessThan(at(/^RUN npm run build/));
    expect(pkg.scripts.build).toBe('tsc -p tsconfig.build.json');
  });

  it('runs what `npm run build` emits, with the files the code reads at run time', () => {
    const tsconfig = JSON.parse(readFileSync(join(REPO_ROOT, 'tsconfig.build.json'), 'utf8')) as { compilerOptions: { rootDir: string; outDir: string } };
    const entry = JSON.parse(/^ENTRYPOINT\s+(.*)$/m.exec(instructions.map((i) => `${i.op} ${i.args}`).join('\n'))![1]) as string[];
    expect(entry[0]).toBe('node');
    // dist/cli/main.js ← src/cli/main.ts (rootDir src, outDir dist).
    const emitted = entry[1];
    expect(emitted.startsWith(`${tsconfig.compilerOptions.outDir}/`)).toBe(true);
    const source = emitted.replace(tsconfig.compilerOptions.outDir, tsconfig.compilerOptions.rootDir).replace(/\.js$/, '.ts');
    expect(existsSync(join(REPO_ROOT, source)), source).toBe(true);
    expect(pkg.scripts.start).toBe(`node ${emitted} serve`);
    expect(JSON.parse(/^CMD\s+(.*)$/m.exec(instructions.map((i) => `${i.op} ${i.args}`).join('\n'))![1])).toEqual(['serve']);
    // The runtime stage takes from the build stage: package.json (version; "type": "module"), the production
    // node_modules, dist, and proto/ (src/protoDefinition.ts loads ../proto relative to dist/).
    const taken = copies(runtime).filter((c) => c.from === 'build').map((c) => c.sources[0]);
    expect(taken).toEqual(['/src/package.json', '/src/node_modules', `/src/${tsconfig.compilerOptions.outDir}`, '/src/proto']);
    expect(readFileSync(join(REPO_ROOT, 'src/protoDefinition.ts'), 'utf8')).toContain("'../proto/ntksidecar/v1/sidecar.proto'");
    expect(readFileSync(join(REPO_ROOT, 'src/server/sidecarServer.ts'), 'utf8')).toContain("'../../package.json'");
  });

  it('runs as the unprivileged node user, exposes the default ports and checks /healthz on the metrics port', () => {
    const ops = (op: string) => runtime.instructions.filter((i) => i.op === op).map((i) => i.args);
    expect(ops('USER')).toEqual(['node']);
    const defaults = defaultConfig();
    const grpcPort = parseAddress(defaults.grpcAddr)!.port;
    const metricsPort = parseAddress(defaults.metricsAddr)!.port;
    expect(ops('EXPOSE')).toEqual([`${grpcPort} ${metricsPort}`]);
    expect(ops('HEALTHCHECK')[0]).toContain(`http://127.0.0.1:${metricsPort}/healthz`);
  });
});
