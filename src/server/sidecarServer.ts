/**
 * The sidecar process: the gRPC service (with grpc.health.v1 and reflection), the HTTP endpoint for
 * /metrics, /healthz and /readyz, and graceful shutdown. The only importer of @grpc/grpc-js on the server side.
 */
import { createServer, type IncomingMessage, type ServerResponse, type Server as HttpServer } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { readFileSync } from 'node:fs';
import { totalmem } from 'node:os';
import { createHash, timingSafeEqual } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { loadPackageDefinition } from '../protoDefinition.js';
import { HealthImplementation } from 'grpc-health-check';
import { ReflectionService } from '@grpc/reflection';
import { Code, SidecarError } from '../errors.js';
import { parseAddress, type Config } from '../config/config.js';
import { createSidecarMetrics } from '../metrics/sidecarMetrics.js';
import { jobVerdict } from '../policy/decide.js';
import { policySetFrom, type PolicySet } from '../policy/policy.js';
import { ComputePool } from '../worker/computePool.js';
import { openCohortEngine } from '../cohort/openCohortEngine.js';
import type { ProtoGrpcType } from '../gen/sidecar.js';
import type { NtkSidecarHandlers } from '../gen/ntksidecar/v1/NtkSidecar.js';
import { AttachSession, checkOwner, type DuplexCall } from './attachSession.js';
import { RunRecorder } from '../record/runRecorder.js';
import { errorRef, internalErrorDetails } from './internalError.js';
import { RunTable, restoredRun, type Run, type StoredRun } from './runTable.js';
import { RunStore, fileName, type StoredFile } from '../store/runStore.js';
import { runReport, runSummary } from './reports.js';
import type { LogLevel, ServerContext } from './serverContext.js';
import { MAX_ID_BYTES, checkRunId, preview } from './runIdentity.js';
import { isUiPath, uiResponse } from '../ui/routes.js';
import { REFRESH_SCRIPT } from '../ui/pages.js';
import type { ListRunsRequest__Output } from '../gen/ntksidecar/v1/ListRunsRequest.js';
import type { ListRunsResponse } from '../gen/ntksidecar/v1/ListRunsResponse.js';

export const SERVICE_NAME = 'ntksidecar.v1.NtkSidecar';

export function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

export interface SidecarServerOptions {
  config: Config;
  /** Parsed policy document (the CLI reads and parses --policy). */
  policyDocument?: unknown;
  log?: (level: LogLevel, message: string) => void;
}

export interface SidecarServer {
  /** Bound gRPC address, host:port (the real port when 0 was asked for). */
  grpcAddress: string;
  /** Base URL of the HTTP endpoint, or undefined when disabled. */
  metricsUrl: string | undefined;
  backend: string;
  ctx: ServerContext;
  /** Graceful shutdown: NOT_SERVING, open streams end with UNAVAILABLE, in-flight unary calls finish. */
  stop(): Promise<void>;
}

const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

function stderrLog(min: LogLevel) {
  return (level: LogLevel, message: string) => {
    if (LEVELS[level] >= LEVELS[min]) process.stderr.write(`${new Date().toISOString()} ${level.toUpperCase()} ${message}\n`);
  };
}

/** Unknown errors reach clients as a generic INTERNAL; the detail (with the reference) goes to the log. */
function toStatus(err: unknown, ref?: string): Partial<grpc.StatusObject> {
  if (err instanceof SidecarError) return { code: err.code as number as grpc.status, details: err.message };
  return { code: grpc.status.INTERNAL, details: internalErrorDetails(ref ?? errorRef()) };
}

/** Wraps a unary handler: SidecarError → its status, anything else → INTERNAL; checks the bearer token. */
/** Marks a request whose bytes did not decode (see tolerantDeserializers). */
const UNDECODABLE = Symbol('undecodable');

/**
 * grpc-js answers a request that fails to decode with INTERNAL ("sidecar bug, retry" in docs/errors.md) — wrong for
 * protobuf garbage (issue 14 #8). The wrapped deserializers never throw: a unary request becomes a marker that
 * `unary` refuses with INVALID_ARGUMENT; an Attach message becomes an empty TrainerMessage, which the session
 * refuses (INVALID_ARGUMENT "without a kind", or FAILED_PRECONDITION as the first message).
 */
function tolerantDeserializers(service: grpc.ServiceDefinition, log: (level: LogLevel, message: string) => void): grpc.ServiceDefinition {
  const out: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
  for (const [name, method] of Object.entries(service)) {
    out[name] = {
      ...method,
      requestDeserialize: (bytes: Buffer) => {
        try {
          return method.requestDeserialize(bytes);
        } catch (err) {
          const why = err instanceof Error ? err.message : String(err);
          log('warn', `${name}: a request of ${bytes.length} bytes is not valid protobuf (${why})`);
          return method.requestStream ? {} : { [UNDECODABLE]: why };
        }
      },
    };
  }
  return out as grpc.ServiceDefinition;
}

/**
 * The client's identity under mTLS: its certificate (subject CN and SHA-256 fingerprint). Undefined without client
 * certificates: then every holder of the trainer token is one identity (docs/errors.md, "Who may do what").
 */
function peerIdentity(call: { getAuthContext(): { sslPeerCertificate?: { subject?: { CN?: string | string[] }; fingerprint256?: string } } | null }): string | undefined {
  const cert = call.getAuthContext()?.sslPeerCertificate;
  if (!cert?.fingerprint256) return undefined;
  const cn = Array.isArray(cert.subject?.CN) ? cert.subject.CN.join(',') : cert.subject?.CN;
  return `CN=${cn ?? '?'} (sha256 ${cert.fingerprint256.slice(0, 23)})`;
}

function unary<Req, Res>(ctx: ServerContext, fn: (req: Req, identity: string | undefined) => Res, need: Scope = 'read') {
  return (call: grpc.ServerUnaryCall<Req, Res>, callback: grpc.sendUnaryData<Res>) => {
    try {
      authorize(ctx, call.metadata, need);
      const undecodable = (call.request as Record<symbol, unknown> | null)?.[UNDECODABLE];
      if (undecodable !== undefined) {
        throw new SidecarError(Code.INVALID_ARGUMENT, `the request is not a valid ${call.getPath().split('/').pop()}Request protobuf message (${String(undecodable)}); send the message the proto defines`);
      }
      callback(null, fn(call.request, peerIdentity(call)));
    } catch (err) {
      const ref = err instanceof SidecarError ? undefined : errorRef();
      if (ref) ctx.log('error', `unary handler ${call.getPath()} failed (${ref}): ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      callback(toStatus(err, ref));
    }
  };
}

/** Constant-time comparison of a presented secret with the expected one (no early exit on the first difference). */
function sameSecret(sent: string, expected: string): boolean {
  const a = Buffer.from(sent, 'utf8');
  const b = Buffer.from(expected, 'utf8');
  // timingSafeEqual needs equal lengths; comparing b with itself keeps the time independent of where they differ.
  return a.length === b.length ? timingSafeEqual(a, b) : (timingSafeEqual(b, b), false);
}

/** What a presented credential may do: everything, or read only (--read-only-token). */
export type Scope = 'write' | 'read';

/**
 * The scope of an `authorization: Bearer <token>` value (gRPC metadata or HTTP header), or undefined when it is
 * missing or wrong. Without --auth-token everything is allowed.
 */
export function scopeOf(config: Config, authorization: unknown): Scope | undefined {
  if (config.authToken === undefined) return 'write';
  if (typeof authorization !== 'string' || !authorization.startsWith('Bearer ')) return undefined;
  const sent = authorization.slice('Bearer '.length);
  const write = sameSecret(sent, config.authToken);
  const read = config.readOnlyToken !== undefined && sameSecret(sent, config.readOnlyToken);
  return write ? 'write' : read ? 'read' : undefined;
}

function authorize(ctx: ServerContext, metadata: grpc.Metadata, need: Scope = 'write'): void {
  const scope = scopeOf(ctx.config, metadata.get('authorization')[0]);
  if (scope === undefined) {
    throw new SidecarError(Code.UNAUTHENTICATED, 'missing or wrong bearer token; send metadata "authorization: Bearer <token>"');
  }
  if (need === 'write' && scope === 'read') {
    throw new SidecarError(Code.PERMISSION_DENIED, 'the read-only token may call CheckStop, GetRun and ListRuns; Attach and EndRun need the --auth-token token');
  }
}

/** Largest ListRuns page (also the default): ≤ 1000 summaries of ≤ ~1 KiB each stay far below the 16 MiB send limit. */
export const MAX_LIST_PAGE = 1000;

/** ListRuns, ordered by run_id and paged (issue 14 #2): the token is the last run_id of the page, base64url. */
function listRuns(ctx: ServerContext, req: ListRunsRequest__Output): ListRunsResponse {
  checkRunId('ListRunsRequest.job_id', req.job_id);
  checkRunId('ListRunsRequest.cohort', req.cohort);
  if (req.page_size > MAX_LIST_PAGE) {
    throw new SidecarError(Code.INVALID_ARGUMENT, `ListRunsRequest.page_size is ${req.page_size}, over the maximum of ${MAX_LIST_PAGE}; ask for at most ${MAX_LIST_PAGE} and follow next_page_token`);
  }
  const size = req.page_size || MAX_LIST_PAGE;
  let after: string | undefined;
  if (req.page_token) {
    after = Buffer.from(req.page_token, 'base64url').toString('utf8');
    if (!after || Buffer.from(after, 'utf8').toString('base64url') !== req.page_token || Buffer.byteLength(after) > MAX_ID_BYTES) {
      throw new SidecarError(Code.INVALID_ARGUMENT, `ListRunsRequest.page_token ${preview(req.page_token)} is not a token this sidecar returned; pass next_page_token unchanged, or empty for the first page`);
    }
  }
  const matching: Run[] = [];
  for (const r of ctx.runs.values()) {
    if (req.job_id && r.start.job_id !== req.job_id) continue;
    if (req.cohort && r.start.cohort !== req.cohort) continue;
    if (after !== undefined && !(r.id > after)) continue;
    matching.push(r);
  }
  matching.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const page = matching.slice(0, size);
  const next = matching.length > size ? Buffer.from(page[page.length - 1].id, 'utf8').toString('base64url') : '';
  return { runs: page.map(runSummary), next_page_token: next };
}

function handlers(ctx: ServerContext, isStopping: () => boolean): NtkSidecarHandlers {
  return {
    Attach(call) {
      try {
        authorize(ctx, call.metadata);
        if (isStopping()) throw new SidecarError(Code.UNAVAILABLE, 'sidecar is shutting down; reconnect to another instance or retry later');
      } catch (err) {
        call.emit('error', toStatus(err));
        return;
      }
      void new AttachSession(ctx, call as unknown as DuplexCall, peerIdentity(call)).serve();
    },
    CheckStop: unary(ctx, (req) => {
      checkRunId('CheckStopRequest.run_id', req.run_id);
      checkRunId('CheckStopRequest.job_id', req.job_id);
      if (req.run_id) {
        const run = ctx.runs.require(req.run_id);
        if (!run.decision) throw new SidecarError(Code.NOT_FOUND, `run "${run.id}" has no decision yet: it is made after the first accepted snapshot`);
        return run.decision.message;
      }
      if (req.job_id) {
        const ranks = ctx.runs.byJob(req.job_id).flatMap((r) => (r.decision ? [r.decision] : []));
        const chosen = jobVerdict(ranks);
        if (!chosen) throw new SidecarError(Code.NOT_FOUND, `job "${req.job_id}" has no run with a decision yet`);
        return chosen.message;
      }
      throw new SidecarError(Code.INVALID_ARGUMENT, 'CheckStopRequest needs run_id or job_id');
    }),
    GetRun: unary(ctx, (req) => {
      if (!req.run_id) throw new SidecarError(Code.INVALID_ARGUMENT, 'GetRunRequest.run_id is empty');
      checkRunId('GetRunRequest.run_id', req.run_id);
      return runReport(ctx.runs.require(req.run_id));
    }),
    ListRuns: unary(ctx, (req) => listRuns(ctx, req)),
    EndRun: unary(ctx, (req, identity) => {
      if (!req.run_id) throw new SidecarError(Code.INVALID_ARGUMENT, 'EndRunRequest.run_id is empty');
      checkRunId('EndRunRequest.run_id', req.run_id);
      const run = ctx.runs.get(req.run_id);
      if (!run) return { run_id: req.run_id, existed: false };
      checkOwner(run, identity, 'end');
      ctx.runs.end(run, req.status === 'RUN_STATUS_UNSPECIFIED' ? 'RUN_STATUS_COMPLETED' : req.status, ctx.now());
      // The stream that owns the run is told now (issue 14 #7): a negative ack for a snapshot in progress, then
      // FAILED_PRECONDITION — instead of its next snapshot being dropped without an ack.
      for (const session of ctx.sessions) if (session instanceof AttachSession) session.runEnded(run.id);
      return { run_id: run.id, existed: true, last_decision: run.decision?.message };
    }, 'write'),
  };
}

function bindGrpc(server: grpc.Server, addr: string, creds: grpc.ServerCredentials): Promise<number> {
  return new Promise((resolve, reject) =>
    server.bindAsync(addr, creds, (err, port) => (err ? reject(new Error(`cannot listen on ${addr} for gRPC: ${err.message}`)) : resolve(port))),
  );
}

/** The certificate and key (and client CA) of --tls-*, read once for both ports; undefined without TLS. */
function tlsMaterial(config: Config): { cert: Buffer; key: Buffer; ca: Buffer | null } | undefined {
  const { certFile, keyFile, clientCaFile } = config.tls;
  if (!certFile || !keyFile) return undefined;
  return { cert: readFileSync(certFile), key: readFileSync(keyFile), ca: clientCaFile ? readFileSync(clientCaFile) : null };
}

function credentials(tls: ReturnType<typeof tlsMaterial>): grpc.ServerCredentials {
  if (!tls) return grpc.ServerCredentials.createInsecure();
  return grpc.ServerCredentials.createSsl(tls.ca, [{ cert_chain: tls.cert, private_key: tls.key }], tls.ca !== null);
}

function formatHost(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

export async function startSidecarServer(opts: SidecarServerOptions): Promise<SidecarServer> {
  const { config } = opts;
  const log = opts.log ?? stderrLog(config.logLevel);
  const policies: PolicySet = policySetFrom(opts.policyDocument, config.policyFile ?? 'policy');
  const version = packageVersion();
  const store = new RunStore(config.dataDir, (message) => log('warn', message));
  // Runs are restored before the worker threads start, so that nothing keeps a failed start-up alive.
  const started: { pool?: ComputePool } = {};
  const runs = new RunTable(config.limits.maxActiveRuns, (id) => void started.pool?.drop(id), store, memoryBudget(config));
  await restoreRuns(store, runs, policies, config, log);
  const pool = await ComputePool.start(config.computeWorkers, config.backend);
  started.pool = pool;
  try {
    return await serveWith(opts, log, policies, version, store, runs, pool);
  } catch (err) {
    await pool.close(); // worker threads would keep a failed start-up alive
    throw err;
  }
}

/**
 * Checks the shape of a run document read from the store (issue 14 #3): a file of the wrong shape is refused here,
 * with the field named, instead of failing somewhere later. Shallow: the top-level fields the server reads.
 */
function checkStoredRun(doc: unknown): StoredRun {
  const fail = (what: string): never => {
    throw new Error(what);
  };
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) fail(`"run" is ${doc === null ? 'null' : Array.isArray(doc) ? 'an array' : typeof doc}, expected an object`);
  const d = doc as Record<string, unknown>;
  const isObject = (v: unknown) => v !== null && typeof v === 'object' && !Array.isArray(v);
  if (typeof d.id !== 'string' || d.id === '') fail('"id" is not a non-empty string');
  if (!isObject(d.start)) fail('"start" (the RunStart) is not an object');
  if ((d.start as Record<string, unknown>).run_id !== d.id) fail(`"start.run_id" differs from "id"`);
  for (const key of ['samples', 'outputs'] as const) {
    if (!Number.isSafeInteger(d[key]) || (d[key] as number) < 1) fail(`"${key}" is ${JSON.stringify(d[key])}, expected a positive integer`);
  }
  for (const key of ['snapshotsAccepted', 'snapshotsRejected', 'kernelSnapshots', 'lastStep', 'touchedAtMs'] as const) {
    if (typeof d[key] !== 'number') fail(`"${key}" is ${JSON.stringify(d[key])}, expected a number`);
  }
  for (const key of ['lastLoss', 'computeSpent'] as const) if (typeof d[key] !== 'number') fail(`"${key}" is not a number`);
  for (const key of ['observed', 'diagnostics', 'recentDecisions'] as const) if (!Array.isArray(d[key])) fail(`"${key}" is not an array`);
  if (!isObject(d.detectorState)) fail('"detectorState" is not an object');
  if (!(d.decisionsByReason instanceof Map)) fail('"decisionsByReason" is not a map');
  if (!['active', 'detached', 'ended'].includes(d.state as string)) fail(`"state" is ${JSON.stringify(d.state)}, expected active, detached or ended`);
  if (typeof d.status !== 'string') fail('"status" is not a string');
  if (typeof d.policyName !== 'string') fail('"policyName" is not a string');
  return doc as StoredRun;
}

/** --max-memory, or half of the machine's memory when it is 0. */
export function memoryBudget(config: Config): number {
  return config.limits.maxMemoryBytes || Math.floor(totalmem() / 2);
}

/**
 * Reads the run files back (issue 14 #3): a file of the wrong shape, or whose name is not its run id's, is moved to
 * runs/unreadable/ with a warning naming it; unfinished runs are restored first, then the most recently touched,
 * up to --max-active-runs (the rest stay on disk and are named in a warning).
 */
async function restoreRuns(store: RunStore, runs: RunTable, policies: PolicySet, config: Config, log: (level: LogLevel, message: string) => void): Promise<void> {
  const candidates: Array<{ file: StoredFile; run: Run }> = [];
  for (const file of await store.open()) {
    try {
      const doc = checkStoredRun(file.run);
      checkRunId('run id', doc.id);
      if (fileName(doc.id) !== file.name) throw new Error(`it holds run ${preview(doc.id)}, whose file would be ${fileName(doc.id)}`);
      if (!(Number.isFinite(doc.computeSpent) && doc.computeSpent >= 0)) {
        // An older sidecar kept a NaN compute_spent for good (issue 14 #5): start counting again from 0.
        log('warn', `run ${preview(doc.id)} in ${file.path} has compute_spent ${doc.computeSpent}; it was reset to 0 so that the compute budget applies again`);
        doc.computeSpent = 0;
      }
      candidates.push({ file, run: restoredRun(doc, policies, (message) => log('warn', message)) });
    } catch (err) {
      await store.setAside(file.name, err instanceof Error ? err.message : String(err));
    }
  }
  const rank = (r: Run) => (r.state === 'ended' ? 1 : 0);
  candidates.sort((a, b) => rank(a.run) - rank(b.run) || b.run.touchedAtMs - a.run.touchedAtMs);
  const left: string[] = [];
  for (const c of candidates) if (!runs.restore(c.run)) left.push(c.file.path);
  const restored = candidates.length - left.length;
  if (restored) log('info', `restored ${restored} run(s) from ${config.dataDir}`);
  if (left.length) {
    log('warn', `${left.length} stored run(s) were not restored: --max-active-runs=${config.limits.maxActiveRuns} or --max-memory=${memoryBudget(config)} is full (their files stay on disk): ${left.slice(0, 5).join(', ')}${left.length > 5 ? ', …' : ''}`);
  }
}

async function serveWith(
  opts: SidecarServerOptions,
  log: (level: LogLevel, message: string) => void,
  policies: PolicySet,
  version: string,
  store: RunStore,
  runs: RunTable,
  pool: ComputePool,
): Promise<SidecarServer> {
  const { config } = opts;
  if (pool.fallbackReason) log('warn', `kernel backend fell back to ${pool.backend}: ${pool.fallbackReason}`);
  const metrics = createSidecarMetrics({ version, runs: () => runs.metricViews() });
  metrics.setBackend(pool.backend);
  const recorder = config.recordDir
    ? new RunRecorder(config.recordDir, { backend: pool.backend, exactMax: config.exactMax, topK: config.topK, sidecarVersion: version }, (m) => log('warn', m))
    : undefined;
  const cohort = policies.cohort ? openCohortEngine(policies.cohort, config.cohortStore, log) : undefined;
  if (!cohort && config.cohortStore !== 'memory') log('warn', '--cohort-store is set but the policy file has no cohort: section; no cohort rules apply');
  const ctx: ServerContext = { config, runs, pool, policies, metrics, recorder, cohort, version, sessions: new Set(), now: () => Date.now(), log };

  let stopping = false;
  const packageDefinition = loadPackageDefinition();
  const proto = grpc.loadPackageDefinition(packageDefinition) as unknown as ProtoGrpcType;
  const server = new grpc.Server({
    'grpc.max_receive_message_length': config.limits.maxReceiveBytes,
    'grpc.max_send_message_length': 16 * 1024 * 1024,
    // HTTP/2 keepalive (issue 14 #4): a partitioned or dead trainer's connection is dropped after
    // keepalive + timeout seconds; its calls are cancelled, its sessions end and its runs detach, so the restarted
    // trainer's RunStart resumes the run instead of getting ALREADY_EXISTS for ever.
    ...(config.keepaliveSeconds > 0
      ? { 'grpc.keepalive_time_ms': Math.round(config.keepaliveSeconds * 1000), 'grpc.keepalive_timeout_ms': Math.round(config.keepaliveTimeoutSeconds * 1000) }
      : {}),
  });
  server.addService(tolerantDeserializers(proto.ntksidecar.v1.NtkSidecar.service, log), handlers(ctx, () => stopping));
  const health = new HealthImplementation({ '': 'SERVING', [SERVICE_NAME]: 'SERVING' });
  health.addToServer(server);
  new ReflectionService(packageDefinition).addToServer(server);

  const grpcAddr = parseAddress(config.grpcAddr)!;
  const tls = tlsMaterial(config);
  const port = await bindGrpc(server, config.grpcAddr, credentials(tls));
  const grpcAddress = `${formatHost(grpcAddr.host)}:${port}`;

  let http: HttpServer | HttpsServer | undefined;
  let metricsUrl: string | undefined;
  if (config.metricsAddr !== 'off') {
    const m = parseAddress(config.metricsAddr)!;
    // The run pages (issue 16): only their own inline script runs, and nothing is fetched from elsewhere.
    const uiHeaders = {
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      'content-security-policy': `default-src 'none'; script-src 'sha256-${createHash('sha256').update(REFRESH_SCRIPT).digest('base64')}'; style-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
    };
    const handle = (req: IncomingMessage, res: ServerResponse) => {
      const [path, query = ''] = (req.url ?? '/').split('?', 2);
      const ui = config.ui && isUiPath(path);
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { allow: 'GET, HEAD' }).end();
      } else if ((path === '/metrics' || ui) && scopeOf(config, req.headers.authorization) === undefined) {
        // /metrics and the run pages name every run, job and cohort: with --auth-token they want the same bearer
        // token (either one).
        res.writeHead(401, { 'content-type': 'text/plain', 'www-authenticate': 'Bearer realm="ntk-sidecar"' }).end('missing or wrong bearer token; send "Authorization: Bearer <token>"\n');
      } else if (path === '/metrics') {
        metrics.registry.metrics().then(
          (body) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(body),
          (err: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics collection failed: ${String(err)}\n`),
        );
      } else if (ui) {
        try {
          const page = uiResponse(runs, path, query, version);
          res.writeHead(page.status, { 'content-type': page.contentType, ...uiHeaders }).end(page.body);
        } catch (err) {
          const ref = errorRef();
          log('error', `page ${preview(path)} failed (${ref}): ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
          res.writeHead(500, { 'content-type': 'text/plain' }).end(`internal error (${ref}); the sidecar logged the details\n`);
        }
      } else if (path === '/healthz') {
        res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
      } else if (path === '/readyz') {
        const ready = !stopping && pool.backend !== 'none';
        res.writeHead(ready ? 200 : 503, { 'content-type': 'text/plain' }).end(ready ? 'ready\n' : 'shutting down\n');
      } else {
        res.writeHead(404, { 'content-type': 'text/plain' }).end(`not found: try ${config.ui ? '/ (the run pages), ' : ''}/metrics, /healthz or /readyz\n`);
      }
    };
    // With --tls-cert the metrics port speaks HTTPS with the same certificate. It asks for no client certificate even
    // under mTLS: kubelet probes and Prometheus authenticate with the bearer token instead (docs/errors.md).
    http = tls ? createHttpsServer({ cert: tls.cert, key: tls.key }, handle) : createServer(handle);
    try {
      await new Promise<void>((resolve, reject) => {
        http!.once('error', (err) => reject(new Error(`cannot listen on ${config.metricsAddr} for metrics: ${err.message}`)));
        http!.listen(m.port, m.host, resolve);
      });
    } catch (err) {
      server.forceShutdown();
      throw err;
    }
    const address = http.address();
    const boundPort = typeof address === 'object' && address ? address.port : m.port;
    const host = m.host === '0.0.0.0' || m.host === '::' ? '127.0.0.1' : m.host;
    metricsUrl = `${tls ? 'https' : 'http'}://${formatHost(host)}:${boundPort}`;
  }
  log('info', `ntk-sidecar ${version} serving gRPC on ${grpcAddress}${metricsUrl ? `, metrics on ${metricsUrl}/metrics` : ''}, backend ${pool.backend}`);

  let stopped: Promise<void> | undefined;
  const stop = () => {
    stopped ??= (async () => {
      stopping = true;
      health.setStatus('', 'NOT_SERVING');
      health.setStatus(SERVICE_NAME, 'NOT_SERVING');
      for (const session of ctx.sessions) session.shutdown();
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, config.shutdownGraceSeconds * 1000);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      });
      await pool.close();
      recorder?.close();
      await cohort?.close();
      await store.flush();
      if (http) {
        http.closeAllConnections();
        await new Promise<void>((resolve) => http!.close(() => resolve()));
      }
      log('info', 'ntk-sidecar stopped');
    })();
    return stopped;
  };

  return { grpcAddress, metricsUrl, backend: pool.backend, ctx, stop };
}
