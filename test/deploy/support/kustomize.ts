/**
 * A small kustomize for the tests: Debian bookworm packages no kustomize (and its kubectl 1.20 embeds kustomize
 * 2.0.3, which predates directories in `resources`), so test/deploy renders deploy/kubernetes itself. It
 * implements exactly the fields those kustomizations use, the way kustomize v5 does, and throws on any other
 * field rather than ignoring it:
 *   resources (files and kustomization directories), configMapGenerator (files; behavior create | merge |
 *   replace; the content-hash name suffix and the rewriting of references to it), patches (strategic-merge
 *   files), images.
 * Its output was compared with `kubectl kustomize` (kustomize v5.5.0) on every kustomization of deploy/kubernetes
 * when it was written; kustomize.test.ts pins the hash suffix to values kustomize computed.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { parseAllDocuments, parse as parseYaml } from 'yaml';

export type K8sObject = Record<string, unknown> & {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
};

interface Kustomization {
  apiVersion?: string;
  kind?: string;
  resources?: string[];
  configMapGenerator?: Array<{ name: string; behavior?: 'create' | 'merge' | 'replace'; files?: string[] }>;
  patches?: Array<{ path: string }>;
  images?: Array<{ name: string; newName?: string; newTag?: string }>;
}

const SUPPORTED = new Set(['apiVersion', 'kind', 'resources', 'configMapGenerator', 'patches', 'images']);

/** A ConfigMap made by a generator: hashed at the end of the build that owns it. */
interface Generated {
  object: K8sObject;
  /** The name before the hash suffix (what resources refer to). */
  baseName: string;
}

interface Build {
  objects: K8sObject[];
  generated: Generated[];
}

/** Go's json.Marshal of a map: keys sorted, <, >, & and U+2028/2029 escaped. */
function goJson(value: unknown): string {
  const sorted = (v: unknown): unknown =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, sorted((v as Record<string, unknown>)[k])])) : v;
  return JSON.stringify(sorted(value)).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * kustomize's ConfigMap name suffix (api/hasher): sha256 of the Go JSON of {data, kind: "ConfigMap", name}, the
 * first 10 hex digits with 0→g, 1→h, 3→k, a→m, e→t. kustomize v5 hashes the generated map before it is named:
 * the name field is "" (the suffixes kustomize.test.ts pins, computed by kustomize v5.5.0, agree only so).
 */
export function configMapHash(data: Record<string, string>): string {
  const hex = createHash('sha256').update(goJson({ kind: 'ConfigMap', name: '', data })).digest('hex');
  const swap: Record<string, string> = { '0': 'g', '1': 'h', '3': 'k', a: 'm', e: 't' };
  return [...hex.slice(0, 10)].map((c) => swap[c] ?? c).join('');
}

function readKustomization(dir: string): Kustomization {
  const path = join(dir, 'kustomization.yaml');
  if (!existsSync(path)) throw new Error(`${dir} has no kustomization.yaml`);
  const k = parseYaml(readFileSync(path, 'utf8')) as Kustomization;
  const unknown = Object.keys(k).filter((f) => !SUPPORTED.has(f));
  if (unknown.length) throw new Error(`${path}: field(s) ${unknown.join(', ')} are not implemented by test/deploy/support/kustomize.ts`);
  if (k.kind !== 'Kustomization' || k.apiVersion !== 'kustomize.config.k8s.io/v1beta1') throw new Error(`${path}: not a kustomize.config.k8s.io/v1beta1 Kustomization`);
  return k;
}

function readObjects(path: string): K8sObject[] {
  return parseAllDocuments(readFileSync(path, 'utf8'))
    .map((d) => {
      if (d.errors.length) throw new Error(`${path}: ${d.errors[0].message}`);
      return d.toJS() as K8sObject | null;
    })
    .filter((o): o is K8sObject => o !== null);
}

/** kustomize's load restrictor: generator and patch files must lie inside the kustomization's directory. */
function inside(dir: string, file: string): string {
  const path = resolve(dir, file);
  if (!path.startsWith(resolve(dir) + '/')) throw new Error(`${file} is outside ${dir} (kustomize refuses files outside the kustomization root)`);
  return path;
}

const key = (o: K8sObject) => `${o.apiVersion}/${o.kind}/${o.metadata.name}`;

/** Strategic-merge-patch list keys for the fields our patches touch (k8s.io/api patchMergeKey tags). */
const MERGE_KEYS: Record<string, string> = { containers: 'name', initContainers: 'name', env: 'name', volumes: 'name', volumeMounts: 'mountPath', ports: 'containerPort', tolerations: '' };

function strategicMerge(target: unknown, patch: unknown, field = ''): unknown {
  if (Array.isArray(patch)) {
    const mergeKey = MERGE_KEYS[field];
    if (!mergeKey || !Array.isArray(target)) return structuredClone(patch); // lists without a merge key are replaced
    // kustomize (kyaml merge2) lists the patch's elements first, merged with their match, then the target's
    // elements the patch does not name, in their order.
    const rest = [...(target as Array<Record<string, unknown>>)];
    const out: unknown[] = [];
    for (const item of patch as Array<Record<string, unknown>>) {
      if ('$patch' in item) throw new Error('$patch directives are not implemented');
      const i = rest.findIndex((t) => t[mergeKey] === item[mergeKey]);
      out.push(i < 0 ? structuredClone(item) : strategicMerge(rest.splice(i, 1)[0], item));
    }
    return [...out, ...structuredClone(rest)];
  }
  if (patch && typeof patch === 'object') {
    const out = target && typeof target === 'object' && !Array.isArray(target) ? structuredClone(target as Record<string, unknown>) : {};
    for (const [k, v] of Object.entries(patch)) {
      if (k.startsWith('$')) throw new Error(`strategic-merge directive ${k} is not implemented`);
      if (v === null) delete out[k];
      else out[k] = strategicMerge(out[k], v, k);
    }
    return out;
  }
  return patch;
}

/** The pod spec of a workload (Pod, Job, Deployment, StatefulSet, DaemonSet), if it has one. */
export function podSpecOf(o: K8sObject): Record<string, unknown> | undefined {
  if (o.kind === 'Pod') return o.spec as Record<string, unknown>;
  const template = (o.spec as { template?: { spec?: Record<string, unknown> } } | undefined)?.template;
  return template?.spec;
}

type Container = Record<string, unknown> & { name: string; image?: string };
export function containersOf(pod: Record<string, unknown>): Container[] {
  return [...((pod.initContainers as Container[] | undefined) ?? []), ...((pod.containers as Container[] | undefined) ?? [])];
}

/** Rewrites ConfigMap references in pod specs (kustomize's nameReference for ConfigMap). */
function renameConfigMapRefs(objects: K8sObject[], from: string, to: string): void {
  for (const o of objects) {
    const pod = podSpecOf(o);
    if (!pod) continue;
    for (const v of (pod.volumes as Array<Record<string, { name?: string; sources?: Array<{ configMap?: { name: string } }> }>> | undefined) ?? []) {
      if (v.configMap?.name === from) v.configMap.name = to;
      for (const s of v.projected?.sources ?? []) if (s.configMap?.name === from) s.configMap.name = to;
    }
    for (const c of containersOf(pod)) {
      for (const e of (c.env as Array<{ valueFrom?: { configMapKeyRef?: { name: string } } }> | undefined) ?? []) {
        if (e.valueFrom?.configMapKeyRef?.name === from) e.valueFrom.configMapKeyRef.name = to;
      }
      for (const e of (c.envFrom as Array<{ configMapRef?: { name: string } }> | undefined) ?? []) if (e.configMapRef?.name === from) e.configMapRef.name = to;
    }
  }
}

function build(dir: string): Build {
  const k = readKustomization(dir);
  const objects: K8sObject[] = [];
  const generated: Generated[] = [];
  for (const r of k.resources ?? []) {
    const path = resolve(dir, r);
    if (statSync(path).isDirectory()) {
      const sub = build(path);
      objects.push(...sub.objects);
      generated.push(...sub.generated);
    } else {
      objects.push(...readObjects(path));
    }
  }
  const seen = new Set<string>();
  for (const o of objects) {
    if (seen.has(key(o))) throw new Error(`${dir}: ${key(o)} is defined twice`);
    seen.add(key(o));
  }

  for (const g of k.configMapGenerator ?? []) {
    const data: Record<string, string> = {};
    for (const f of g.files ?? []) data[basename(f)] = readFileSync(inside(dir, f), 'utf8');
    const behavior = g.behavior ?? 'create';
    const existing = generated.find((x) => x.baseName === g.name);
    if (behavior === 'create') {
      if (existing) throw new Error(`${dir}: configMapGenerator ${g.name} already exists (use behavior: merge or replace)`);
      const object: K8sObject = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: g.name }, data };
      objects.unshift(object);
      generated.push({ object, baseName: g.name });
    } else {
      if (!existing) throw new Error(`${dir}: configMapGenerator ${g.name} has behavior ${behavior} but no base defines it`);
      existing.object.data = behavior === 'merge' ? { ...(existing.object.data as Record<string, string>), ...data } : data;
    }
  }

  for (const p of k.patches ?? []) {
    for (const patch of readObjects(inside(dir, p.path))) {
      const i = objects.findIndex((o) => key(o) === key(patch));
      if (i < 0) throw new Error(`${dir}: patch ${p.path} targets ${key(patch)}, which no resource defines`);
      objects[i] = strategicMerge(objects[i], patch) as K8sObject;
    }
  }

  for (const img of k.images ?? []) {
    for (const o of objects) {
      const pod = podSpecOf(o);
      if (!pod) continue;
      for (const c of containersOf(pod)) {
        const [name, tag] = (c.image ?? '').split(':');
        if (name !== img.name) continue;
        const newTag = img.newTag ?? tag;
        c.image = `${img.newName ?? name}${newTag ? `:${newTag}` : ''}`;
      }
    }
  }
  return { objects, generated };
}

/** `kustomize build DIR`: the objects, generated ConfigMaps hashed and referenced by their hashed names. */
export function renderKustomization(dir: string): K8sObject[] {
  const { objects, generated } = build(dir);
  for (const g of generated) {
    const hashed = `${g.baseName}-${configMapHash(g.object.data as Record<string, string>)}`;
    g.object.metadata.name = hashed;
    renameConfigMapRefs(objects, g.baseName, hashed);
  }
  return objects;
}
