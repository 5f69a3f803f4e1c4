/**
 * Kubernetes objects against the Kubernetes schemas from npm (kubernetes-models: the OpenAPI schemas of the
 * Kubernetes API; @kubernetes-models/prometheus-operator: the ServiceMonitor CRD), two ways:
 *  - the models' JSON-schema validators: types, formats, required fields, enums;
 *  - the models' TypeScript interfaces with TypeScript's excess-property check on the objects written out as
 *    literals: a misspelt or unknown field (`restartPolcy`) fails here, while the OpenAPI schemas, which allow
 *    unknown properties, would let it through.
 */
import { join } from 'node:path';
import ts from 'typescript';
import { ConfigMap, type IConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Service, type IService } from 'kubernetes-models/v1/Service';
import { Secret, type ISecret } from 'kubernetes-models/v1/Secret';
import { Job, type IJob } from 'kubernetes-models/batch/v1/Job';
import { Deployment, type IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import { ServiceMonitor, type IServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor';
import type { K8sObject } from './kustomize.js';
import { REPO_ROOT } from './tools.js';

interface Model {
  module: string;
  type: string;
  validate(o: K8sObject): void;
}

/** The kinds deploy/kubernetes uses. Another kind fails until it is added here. */
const MODELS: Record<string, Model> = {
  'v1/ConfigMap': { module: 'kubernetes-models/v1/ConfigMap', type: 'IConfigMap', validate: (o) => new ConfigMap(o as unknown as IConfigMap).validate() },
  'v1/Secret': { module: 'kubernetes-models/v1/Secret', type: 'ISecret', validate: (o) => new Secret(o as unknown as ISecret).validate() },
  'v1/Service': { module: 'kubernetes-models/v1/Service', type: 'IService', validate: (o) => new Service(o as unknown as IService).validate() },
  'batch/v1/Job': { module: 'kubernetes-models/batch/v1/Job', type: 'IJob', validate: (o) => new Job(o as unknown as IJob).validate() },
  'apps/v1/Deployment': { module: 'kubernetes-models/apps/v1/Deployment', type: 'IDeployment', validate: (o) => new Deployment(o as unknown as IDeployment).validate() },
  'monitoring.coreos.com/v1/ServiceMonitor': {
    module: '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor',
    type: 'IServiceMonitor',
    validate: (o) => new ServiceMonitor(o as unknown as IServiceMonitor).validate(),
  },
};

const modelOf = (o: K8sObject) => MODELS[`${o.apiVersion}/${o.kind}`];
const label = (o: K8sObject) => `${o.kind}/${o.metadata.name}`;

/** JSON-schema validation of each object; one message per invalid object. */
export function schemaProblems(objects: K8sObject[]): string[] {
  const problems: string[] = [];
  for (const o of objects) {
    const model = modelOf(o);
    if (!model) {
      problems.push(`${label(o)}: no schema for ${o.apiVersion} ${o.kind} in test/deploy/support/k8sSchema.ts`);
      continue;
    }
    try {
      model.validate(o);
    } catch (err) {
      problems.push(`${label(o)}: ${(err as Error).message}`);
    }
  }
  return problems;
}

/**
 * Type-checks objects as TypeScript literals of the models' interfaces, all in one program (in memory; nothing
 * is written). Returns TypeScript's diagnostics, each prefixed with `where` and the object it concerns.
 */
export function typeProblems(items: Array<{ where: string; object: K8sObject }>): string[] {
  const file = join(REPO_ROOT, 'test/deploy/__k8s_objects__.ts'); // virtual; inside the repo for module resolution
  const imports = new Map<string, string>();
  const chunks: string[] = [];
  const owners: Array<{ firstLine: number; owner: string }> = [];
  items.forEach(({ where, object }, i) => {
    const model = modelOf(object);
    if (!model) return;
    imports.set(model.module, model.type);
    chunks.push(`export const o${i}: ${model.type} = ${JSON.stringify(object, null, 1)};`);
    owners.push({ firstLine: 0, owner: `${where} ${label(object)}` });
  });
  const header = [...imports].map(([module, type]) => `import type { ${type} } from '${module}';`);
  let line = header.length;
  chunks.forEach((c, i) => {
    owners[i].firstLine = line;
    line += c.split('\n').length;
  });
  const source = [...header, ...chunks].join('\n');

  const options: ts.CompilerOptions = {
    strict: true,
    noEmit: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    skipLibCheck: true,
    types: [],
  };
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (name, lang, ...rest) => (name === file ? ts.createSourceFile(name, source, lang) : getSourceFile(name, lang, ...rest));
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (name) => name === file || fileExists(name);
  const program = ts.createProgram([file], options, host);
  const sf = program.getSourceFile(file)!;
  return ts.getPreEmitDiagnostics(program, sf).map((d) => {
    const text = ts.flattenDiagnosticMessageText(d.messageText, '\n');
    if (d.file !== sf || d.start === undefined) return text;
    const at = sf.getLineAndCharacterOfPosition(d.start).line; // 0-based
    const owner = [...owners].reverse().find((o) => o.firstLine <= at);
    return `${owner?.owner ?? '?'}: ${text}`;
  });
}
