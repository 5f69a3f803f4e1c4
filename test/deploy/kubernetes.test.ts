/**
 * deploy/kubernetes: every kustomization renders (support/kustomize.ts), every object passes the Kubernetes
 * schemas from npm (support/k8sSchema.ts), and the manifests agree with the code: the flags and NTK_SIDECAR_*
 * variables are ones `ntk-sidecar --help` lists, the ConfigMap's config and policy files load through the real
 * config and policy code, and the ports, probe paths and gRPC health service are ones a real sidecar serves.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';
import { parse as parseYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAddress, resolveConfig, type Config } from '../../src/config/config.js';
import { policySetFrom } from '../../src/policy/policy.js';
import { startTestServer, type TestServer } from '../support/startTestServer.js';
import { loadRules } from './support/deployFiles.js';
import { schemaProblems, typeProblems } from './support/k8sSchema.js';
import { containersOf, podSpecOf, renderKustomization, type K8sObject } from './support/kustomize.js';
import { REPO_ROOT } from './support/tools.js';

const K8S = join(REPO_ROOT, 'deploy/kubernetes');
const KUSTOMIZATIONS = ['base', 'overlays/gpu', 'overlays/shadow', 'overlays/cohort-postgres', 'shared'] as const;
const rendered = new Map(KUSTOMIZATIONS.map((k) => [k, renderKustomization(join(K8S, k))]));

type Probe = { httpGet?: { path: string; port: number | string }; grpc?: { port: number }; periodSeconds?: number; failureThreshold?: number };
type Container = Record<string, unknown> & {
  name: string;
  image?: string;
  args?: string[];
  restartPolicy?: string;
  env?: Array<{ name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }>;
  ports?: Array<{ name?: string; containerPort: number }>;
  startupProbe?: Probe;
  readinessProbe?: Probe;
  livenessProbe?: Probe;
  resources?: { requests?: Record<string, string | number>; limits?: Record<string, string | number> };
  volumeMounts?: Array<{ name: string; mountPath: string }>;
  securityContext?: Record<string, unknown>;
};
type PodTemplate = { metadata: { labels: Record<string, string>; annotations?: Record<string, string> }; spec: Record<string, unknown> };

function only(objects: K8sObject[], kind: string): K8sObject {
  const found = objects.filter((o) => o.kind === kind);
  expect(found, kind).toHaveLength(1);
  return found[0];
}
const workloadOf = (objects: K8sObject[]) => objects.find((o) => o.kind === 'Job' || o.kind === 'Deployment')!;
const templateOf = (o: K8sObject) => (o.spec as { template: PodTemplate }).template;
function sidecarOf(objects: K8sObject[]): Container {
  const c = containersOf(podSpecOf(workloadOf(objects))!).find((x) => x.name === 'ntk-sidecar');
  expect(c, 'ntk-sidecar container').toBeDefined();
  return c as Container;
}

/** `ntk-sidecar --help` from the real CLI. */
function cliHelp(): string {
  const res = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', '--help'], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 30_000 });
  expect(res.status, res.stderr).toBe(0);
  return res.stdout;
}

/**
 * What the sidecar container would run with: the config file from the ConfigMap it mounts (found through the
 * `--config` argument), its NTK_SIDECAR_* environment (a Secret reference counts as set) and its flags, resolved
 * by the real src/config code. Also the policy document the config points at, from the same ConfigMap.
 */
function effectiveConfig(objects: K8sObject[]): { config: Config; policy: unknown; configMap: Record<string, string>; mountPath: string } {
  const sidecar = sidecarOf(objects);
  const pod = podSpecOf(workloadOf(objects))!;
  const args = sidecar.args ?? [];
  expect(args[0]).toBe('serve');
  const configPath = args[args.indexOf('--config') + 1];
  expect(configPath, '--config FILE').toBeTruthy();
  const mount = (sidecar.volumeMounts ?? []).find((m) => configPath.startsWith(m.mountPath + '/'));
  expect(mount, `a volume mounted over ${configPath}`).toBeDefined();
  const volume = (pod.volumes as Array<{ name: string; configMap?: { name: string } }>).find((v) => v.name === mount!.name);
  const cm = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === volume?.configMap?.name);
  expect(cm, `ConfigMap ${volume?.configMap?.name} of volume ${mount!.name}`).toBeDefined();
  const data = cm!.data as Record<string, string>;
  const fileKey = posix.relative(mount!.mountPath, configPath);
  expect(Object.keys(data)).toContain(fileKey);

  const env: Record<string, string> = {};
  // A variable from a Secret the kustomization renders takes the Secret's value; one created out of band, a marker.
  const secretValue = (ref: { name: string; key: string }) => {
    const secret = objects.find((o) => o.kind === 'Secret' && o.metadata.name === ref.name);
    const stringData = secret?.stringData as Record<string, string> | undefined;
    const data = secret?.data as Record<string, string> | undefined;
    return stringData?.[ref.key] ?? (data?.[ref.key] !== undefined ? Buffer.from(data[ref.key], 'base64').toString() : 'from-a-secret');
  };
  for (const e of sidecar.env ?? []) env[e.name] = e.value ?? (e.valueFrom?.secretKeyRef ? secretValue(e.valueFrom.secretKeyRef) : '');
  const flags: Record<string, string> = {};
  for (let i = 1; i < args.length; i += 2) if (args[i] !== '--config') flags[args[i].replace(/^--/, '')] = args[i + 1];
  const config = resolveConfig({ file: { path: configPath, values: parseYaml(data[fileKey]) as Record<string, unknown> }, env, flags });

  expect(config.policyFile, 'policy file').toBeDefined();
  const policyKey = posix.relative(mount!.mountPath, config.policyFile!);
  expect(Object.keys(data), `${config.policyFile} in the ConfigMap`).toContain(policyKey);
  return { config, policy: parseYaml(data[policyKey]), configMap: data, mountPath: mount!.mountPath };
}

describe('Kubernetes manifests', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server?.stop();
  });

  it('render into the expected objects', () => {
    const kinds = (k: (typeof KUSTOMIZATIONS)[number]) => rendered.get(k)!.map((o) => `${o.kind}/${o.metadata.name.replace(/-[a-z0-9]{10}$/, '-<hash>')}`).sort();
    for (const k of ['base', 'overlays/gpu', 'overlays/shadow'] as const) {
      expect(kinds(k), k).toEqual(['ConfigMap/ntk-sidecar-config-<hash>', 'Job/trainer', 'Service/ntk-sidecar-metrics', 'ServiceMonitor/ntk-sidecar']);
    }
    expect(kinds('shared')).toEqual(['ConfigMap/ntk-sidecar-config-<hash>', 'Deployment/ntk-sidecar', 'Service/ntk-sidecar', 'ServiceMonitor/ntk-sidecar']);
    // The cohort store's connection string comes from a Secret, never from the ConfigMap.
    expect(kinds('overlays/cohort-postgres')).toEqual(['ConfigMap/ntk-sidecar-config-<hash>', 'Job/trainer', 'Secret/ntk-sidecar-cohort-store', 'Service/ntk-sidecar-metrics', 'ServiceMonitor/ntk-sidecar']);
    const env = sidecarOf(rendered.get('overlays/cohort-postgres')!).env ?? [];
    expect(env.find((e) => e.name === 'NTK_SIDECAR_COHORT_STORE')?.valueFrom?.secretKeyRef).toEqual({ name: 'ntk-sidecar-cohort-store', key: 'url' });
  });

  it('validate against the Kubernetes and Prometheus Operator schemas, unknown fields included', () => {
    const all = [...rendered].flatMap(([where, objects]) => objects.map((object) => ({ where, object })));
    expect(schemaProblems(all.map((x) => x.object))).toEqual([]);
    // One program for all (a TypeScript program costs seconds), with a misspelt field planted in a copy to show
    // that the type check catches what the schemas alone would not.
    const probe = structuredClone(only(rendered.get('base')!, 'Job'));
    (containersOf(podSpecOf(probe)!)[0] as Record<string, unknown>).restartPolcy = 'Always';
    expect(schemaProblems([probe])).toEqual([]);
    const problems = typeProblems([...all, { where: 'planted', object: probe }]);
    expect(problems.filter((p) => !p.startsWith('planted '))).toEqual([]);
    expect(problems).toEqual([expect.stringMatching(/^planted Job\/trainer: .*'"restartPolcy"' does not exist in type 'IContainer'/)]);
  });

  it('run the sidecar as a native sidecar beside the trainer, talking over the pod’s loopback', () => {
    for (const k of ['base', 'overlays/gpu', 'overlays/shadow'] as const) {
      const objects = rendered.get(k)!;
      const pod = podSpecOf(only(objects, 'Job'))!;
      const init = pod.initContainers as Container[];
      const main = pod.containers as Container[];
      expect(init.map((c) => [c.name, c.restartPolicy]), k).toEqual([['ntk-sidecar', 'Always']]);
      expect(main.map((c) => c.name), k).toEqual(['trainer']);
      const { config } = effectiveConfig(objects);
      const grpcAddr = parseAddress(config.grpcAddr)!;
      expect(grpcAddr.host, 'gRPC on loopback only').toBe('127.0.0.1');
      expect(main[0].env).toContainEqual({ name: 'NTK_SIDECAR_TARGET', value: `127.0.0.1:${grpcAddr.port}` });
      // The startup probe holds the trainer back until the sidecar serves.
      expect(init[0].startupProbe?.httpGet?.path).toBe('/readyz');
    }
  });

  it('pass only flags and NTK_SIDECAR_* variables that `ntk-sidecar --help` lists', () => {
    const help = cliHelp();
    const helpFlags = new Set([...help.matchAll(/^\s+(--[a-z-]+)/gm)].map((m) => m[1]));
    const helpEnv = new Set([...help.matchAll(/\[(NTK_SIDECAR_[A-Z_]+)\]/g)].map((m) => m[1]));
    expect(helpFlags.has('--config')).toBe(true);
    expect(helpEnv.size).toBeGreaterThan(10);
    expect(help).toMatch(/ntk-sidecar serve \[flags\]/);
    for (const [k, objects] of rendered) {
      const sidecar = sidecarOf(objects);
      for (const a of (sidecar.args ?? []).filter((x) => x.startsWith('--'))) expect(helpFlags.has(a), `${k}: ${a}`).toBe(true);
      for (const e of (sidecar.env ?? []).filter((x) => x.name.startsWith('NTK_SIDECAR_'))) expect(helpEnv.has(e.name), `${k}: ${e.name}`).toBe(true);
    }
  });

  it('configure the sidecar through files the real config and policy code accept', () => {
    for (const [k, objects] of rendered) {
      const { config, policy } = effectiveConfig(objects);
      const set = policySetFrom(policy, `${k} policy.yaml`);
      expect(set.byName.get('default')!.enforced, k).toBe(k !== 'overlays/shadow');
      // Writable directories the read-only root needs: the data directory and /tmp are volumes.
      const mounts = (sidecarOf(objects).volumeMounts ?? []).map((m) => m.mountPath);
      expect(mounts, k).toEqual(expect.arrayContaining([config.dataDir, '/tmp']));
      expect(sidecarOf(objects).securityContext, k).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, runAsUser: 1000 });
      expect(podSpecOf(workloadOf(objects))!.securityContext, k).toMatchObject({ runAsNonRoot: true });
    }
    expect(parseAddress(effectiveConfig(rendered.get('shared')!).config.grpcAddr)).toEqual({ host: '0.0.0.0', port: 50051 });
    expect(effectiveConfig(rendered.get('shared')!).config.authToken).toBeDefined();
  });

  it('expose the metrics port the config sets, with scrape annotations, a Service and a ServiceMonitor that meet', () => {
    const jobRegex = /up\{job=~"([^"]+)"\}/.exec(loadRules().find((r) => r.alert === 'NtkSidecarDown')!.expr)![1];
    for (const [k, objects] of rendered) {
      const { config } = effectiveConfig(objects);
      const metricsPort = parseAddress(config.metricsAddr)!.port;
      const sidecar = sidecarOf(objects);
      const port = (sidecar.ports ?? []).find((p) => p.name === 'ntk-metrics');
      expect(port?.containerPort, k).toBe(metricsPort);
      const template = templateOf(workloadOf(objects));
      expect(template.metadata.annotations, k).toMatchObject({ 'prometheus.io/scrape': 'true', 'prometheus.io/port': String(metricsPort), 'prometheus.io/path': '/metrics' });

      const svc = only(objects, 'Service');
      const spec = svc.spec as { selector: Record<string, string>; ports: Array<{ name: string; port: number; targetPort: number | string }> };
      for (const [l, v] of Object.entries(spec.selector)) expect(template.metadata.labels[l], `${k}: Service selects the pods`).toBe(v);
      const svcPort = spec.ports.find((p) => p.name === 'ntk-metrics')!;
      const target = typeof svcPort.targetPort === 'number' ? svcPort.targetPort : (sidecar.ports ?? []).find((p) => p.name === svcPort.targetPort)?.containerPort;
      expect(target, `${k}: Service targetPort`).toBe(metricsPort);

      const sm = only(objects, 'ServiceMonitor').spec as { selector: { matchLabels: Record<string, string> }; endpoints: Array<{ port: string; path: string }> };
      for (const [l, v] of Object.entries(sm.selector.matchLabels)) expect(svc.metadata.labels?.[l], `${k}: ServiceMonitor selects the Service`).toBe(v);
      expect(sm.endpoints.map((e) => [e.port, e.path]), k).toEqual([['ntk-metrics', '/metrics']]);
      // The operator names the job after the Service: NtkSidecarDown and the Fleet dashboard must match it.
      expect(svc.metadata.name, k).toMatch(new RegExp(`^${jobRegex}$`));
    }
  });

  it('probe paths and ports the real sidecar serves', async () => {
    const base = server.metricsUrl.replace(/\/metrics$/, '');
    const checked = new Set<string>();
    for (const [k, objects] of rendered) {
      const { config } = effectiveConfig(objects);
      const sidecar = sidecarOf(objects);
      for (const [which, probe] of Object.entries({ startup: sidecar.startupProbe, readiness: sidecar.readinessProbe, liveness: sidecar.livenessProbe })) {
        expect(probe, `${k}: ${which} probe`).toBeDefined();
        if (probe!.httpGet) {
          const { path, port } = probe!.httpGet;
          const number = typeof port === 'number' ? port : (sidecar.ports ?? []).find((p) => p.name === port)?.containerPort;
          expect(number, `${k}: ${which} probe port`).toBe(parseAddress(config.metricsAddr)!.port);
          checked.add(path);
        } else {
          expect(probe!.grpc?.port, `${k}: ${which} gRPC probe port`).toBe(parseAddress(config.grpcAddr)!.port);
          checked.add('grpc.health.v1.Health');
        }
      }
      expect(sidecar.livenessProbe?.httpGet?.path, `${k}: liveness must not depend on readiness`).toBe('/healthz');
    }
    expect([...checked].sort()).toEqual(['/healthz', '/readyz', 'grpc.health.v1.Health']);
    for (const path of ['/healthz', '/readyz']) expect((await fetch(base + path)).status, path).toBe(200);
    // The kubelet's gRPC probe calls grpc.health.v1.Health/Check with service "".
    const Health = grpc.makeGenericClientConstructor(healthService, 'Health');
    const client = new Health(server.grpcTarget, grpc.credentials.createInsecure()) as unknown as grpc.Client & {
      check(req: { service: string }, cb: (err: grpc.ServiceError | null, res: { status: string }) => void): void;
    };
    try {
      const res = await new Promise<{ status: string }>((resolve, reject) => client.check({ service: '' }, (err, r) => (err ? reject(err) : resolve(r))));
      expect(res.status).toBe('SERVING');
    } finally {
      client.close();
    }
  });

  it('request resources for every container and give the GPU variant a GPU with the graphics capability', () => {
    for (const [k, objects] of rendered) {
      for (const c of containersOf(podSpecOf(workloadOf(objects))!) as Container[]) {
        expect(c.resources?.requests?.cpu, `${k} ${c.name} cpu request`).toBeDefined();
        expect(c.resources?.requests?.memory, `${k} ${c.name} memory request`).toBeDefined();
      }
    }
    const gpu = sidecarOf(rendered.get('overlays/gpu')!);
    expect(gpu.resources?.limits?.['nvidia.com/gpu']).toBe(1);
    expect(gpu.env?.find((e) => e.name === 'NVIDIA_DRIVER_CAPABILITIES')?.value?.split(',')).toEqual(expect.arrayContaining(['compute', 'graphics']));
    expect(sidecarOf(rendered.get('base')!).resources?.limits?.['nvidia.com/gpu']).toBeUndefined();
  });

  it('use the image this package builds, tagged with its version', () => {
    const version = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
    for (const [k, objects] of rendered) expect(sidecarOf(objects).image, k).toBe(`ghcr.io/ntk-sidecar/ntk-sidecar:${version}`);
  });
});
