/**
 * The test renderer (support/kustomize.ts) against kustomize itself: the fixtures under fixtures/kustomize were
 * rendered by `kubectl kustomize` (kustomize v5.5.0) into *.expected.yaml; the renderer must produce the same
 * objects, hash suffixes included. And it refuses what it does not implement instead of ignoring it.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { configMapHash, renderKustomization, type K8sObject } from './support/kustomize.js';

const FIXTURES = fileURLToPath(new URL('./fixtures/kustomize/', import.meta.url));

const byKey = (objects: K8sObject[]) => new Map(objects.map((o) => [`${o.apiVersion}/${o.kind}/${o.metadata.name}`, o]));

function expected(name: string): K8sObject[] {
  return parseAllDocuments(readFileSync(join(FIXTURES, `${name}.expected.yaml`), 'utf8')).map((d) => d.toJS() as K8sObject);
}

describe('test kustomize renderer', () => {
  it('renders a base as kustomize v5.5.0 does: generated ConfigMap, hash suffix, every kind of reference', () => {
    const got = byKey(renderKustomization(join(FIXTURES, 'base')));
    const want = byKey(expected('base'));
    expect([...got.keys()].sort()).toEqual([...want.keys()].sort());
    for (const [k, o] of want) expect(got.get(k), k).toEqual(o);
    expect(got.has('v1/ConfigMap/app-config-5cdhg9kh98')).toBe(true);
  });

  it('renders an overlay as kustomize v5.5.0 does: merged generator, strategic-merge patch, images', () => {
    const got = byKey(renderKustomization(join(FIXTURES, 'overlay')));
    const want = byKey(expected('overlay'));
    expect([...got.keys()].sort()).toEqual([...want.keys()].sort());
    // Deep equality includes list order: the patch's env/ports entries first, then the base's (kyaml merge2).
    for (const [k, o] of want) expect(got.get(k), k).toEqual(o);
    expect(got.has('v1/ConfigMap/app-config-95tkm48c6g')).toBe(true);
  });

  it('hashes ConfigMaps like kustomize: Go JSON escaping of <, >, & and U+2028 included', () => {
    // Suffixes computed by kustomize v5.5.0 for these exact data.
    expect(configMapHash({ 'a.yaml': 'x: 1\n', 'b.txt': 'hello <&>\n' })).toBe('k25k59h8g8');
    expect(configMapHash({ 'notes.txt': 'escaped by Go: <&> and U+2028 \u2028 and ü\n', 'settings.yaml': 'maxRows: 4096 # 8·N² bytes\n' })).toBe('5cdhg9kh98');
  });

  it('refuses fields it does not implement, files outside the root and patches without a target', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ntk-kustomize-'));
    try {
      const write = (rel: string, text: string) => {
        mkdirSync(join(dir, rel, '..'), { recursive: true });
        writeFileSync(join(dir, rel), text);
      };
      const head = 'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n';
      write('a/kustomization.yaml', `${head}namePrefix: x-\n`);
      expect(() => renderKustomization(join(dir, 'a'))).toThrow(/namePrefix are not implemented/);
      write('outside.yaml', 'x: 1\n');
      write('b/kustomization.yaml', `${head}configMapGenerator:\n  - name: c\n    files: [../outside.yaml]\n`);
      expect(() => renderKustomization(join(dir, 'b'))).toThrow(/outside/);
      write('c/kustomization.yaml', `${head}patches:\n  - path: p.yaml\n`);
      write('c/p.yaml', 'apiVersion: v1\nkind: Service\nmetadata: { name: nope }\n');
      expect(() => renderKustomization(join(dir, 'c'))).toThrow(/targets v1\/Service\/nope, which no resource defines/);
      write('d/kustomization.yaml', `${head}configMapGenerator:\n  - name: c\n    behavior: merge\n    files: [x.yaml]\n`);
      write('d/x.yaml', 'x: 1\n');
      expect(() => renderKustomization(join(dir, 'd'))).toThrow(/behavior merge but no base defines it/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
