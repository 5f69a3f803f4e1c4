/**
 * The sidecar process: the gRPC service (with grpc.health.v1 and reflection), the HTTP endpoint for
 * /metrics, /healthz and /readyz, and graceful shutdown. The only importer of @grpc/grpc-js on the server side.
 */
import { createServer, type Server as HttpServer } from 'node:http';
import { readFileSync } from 'node:fs';
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
import type { ProtoGrpcType } from '../gen/sidecar.js';
import type { NtkSidecarHandlers } from '../gen/ntksidecar/v1/NtkSidecar.js';
import { AttachSession, type DuplexCall } from './attachSession.js';
import { RunTable, restoredRun, type StoredRun } from './runTable.js';
import { RunStore } from '../store/runStore.js';
import { runReport, runSummary } from './reports.js';
import type { LogLevel, ServerContext } from './serverContext.js';

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

function toStatus(err: unknown): Partial<grpc.StatusObject> {
  if (err instanceof SidecarError) return { code: err.code as number as grpc.status, details: err.message };
  return { code: grpc.status.INTERNAL, details: `internal error: ${err instanceof Error ? err.message : String(err)}` };
}

/** Wraps a unary handler: SidecarError → its status, anything else → INTERNAL; checks the bearer token. */
function unary<Req, Res>(ctx: ServerContext, fn: (req: Req) => Res) {
  return (call: grpc.ServerUnaryCall<Req, Res>, callback: grpc.sendUnaryData<Res>) => {
    try {
      authorize(ctx, call.metadata);
      callback(null, fn(call.request));
    } catch (err) {
      if (!(err instanceof SidecarError)) ctx.log('error', `unary handler failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      callback(toStatus(err));
    }
  };
}

function authorize(ctx: ServerContext, metadata: grpc.Metadata): void {
  const token = ctx.config.authToken;
  if (token === undefined) return;
  const sent = metadata.get('authorization')[0];
  if (sent !== `Bearer ${token}`) {
    throw new SidecarError(Code.UNAUTHENTICATED, 'missing or wrong bearer token; send metadata "authorization: Bearer <token>"');
  }
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
      void new AttachSession(ctx, call as unknown as DuplexCall).serve();
    },
    CheckStop: unary(ctx, (req) => {
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
      return runReport(ctx.runs.require(req.run_id));
    }),
    ListRuns: unary(ctx, (req) => ({
      runs: [...ctx.runs.values()]
        .filter((r) => (!req.job_id || r.start.job_id === req.job_id) && (!req.cohort || r.start.cohort === req.cohort))
        .map(runSummary),
    })),
    EndRun: unary(ctx, (req) => {
      if (!req.run_id) throw new SidecarError(Code.INVALID_ARGUMENT, 'EndRunRequest.run_id is empty');
      const run = ctx.runs.get(req.run_id);
      if (!run) return { run_id: req.run_id, existed: false };
      ctx.runs.end(run, req.status === 'RUN_STATUS_UNSPECIFIED' ? 'RUN_STATUS_COMPLETED' : req.status, ctx.now());
      return { run_id: run.id, existed: true, last_decision: run.decision?.message };
    }),
  };
}

function bindGrpc(server: grpc.Server, addr: string, creds: grpc.ServerCredentials): Promise<number> {
  return new Promise((resolve, reject) =>
    server.bindAsync(addr, creds, (err, port) => (err ? reject(new Error(`cannot listen on ${addr} for gRPC: ${err.message}`)) : resolve(port))),
  );
}

function credentials(config: Config): grpc.ServerCredentials {
  const { certFile, keyFile, clientCaFile } = config.tls;
  if (!certFile || !keyFile) return grpc.ServerCredentials.createInsecure();
  const ca = clientCaFile ? readFileSync(clientCaFile) : null;
  return grpc.ServerCredentials.createSsl(ca, [{ cert_chain: readFileSync(certFile), private_key: readFileSync(keyFile) }], ca !== null);
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
  const stored = await store.open();
  const pool = await ComputePool.start(config.computeWorkers, config.backend);
  const runs = new RunTable(config.limits.maxActiveRuns, (id) => void pool.drop(id), store);
  for (const doc of stored) runs.restore(restoredRun(doc as StoredRun, policies, (message) => log('warn', message)));
  if (stored.length) log('info', `restored ${stored.length} run(s) from ${config.dataDir}`);
  if (pool.fallbackReason) log('warn', `kernel backend fell back to ${pool.backend}: ${pool.fallbackReason}`);
  const metrics = createSidecarMetrics({ version, runs: () => runs.metricViews() });
  metrics.setBackend(pool.backend);
  const ctx: ServerContext = { config, runs, pool, policies, metrics, version, sessions: new Set(), now: () => Date.now(), log };

  let stopping = false;
  const packageDefinition = loadPackageDefinition();
  const proto = grpc.loadPackageDefinition(packageDefinition) as unknown as ProtoGrpcType;
  const server = new grpc.Server({
    'grpc.max_receive_message_length': config.limits.maxReceiveBytes,
    'grpc.max_send_message_length': 16 * 1024 * 1024,
  });
  server.addService(proto.ntksidecar.v1.NtkSidecar.service, handlers(ctx, () => stopping));
  const health = new HealthImplementation({ '': 'SERVING', [SERVICE_NAME]: 'SERVING' });
  health.addToServer(server);
  new ReflectionService(packageDefinition).addToServer(server);

  const grpcAddr = parseAddress(config.grpcAddr)!;
  let port: number;
  try {
    port = await bindGrpc(server, config.grpcAddr, credentials(config));
  } catch (err) {
    await pool.close();
    throw err;
  }
  const grpcAddress = `${formatHost(grpcAddr.host)}:${port}`;

  let http: HttpServer | undefined;
  let metricsUrl: string | undefined;
  if (config.metricsAddr !== 'off') {
    const m = parseAddress(config.metricsAddr)!;
    http = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { allow: 'GET, HEAD' }).end();
      } else if (path === '/metrics') {
        metrics.registry.metrics().then(
          (body) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(body),
          (err: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics collection failed: ${String(err)}\n`),
        );
      } else if (path === '/healthz') {
        res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
      } else if (path === '/readyz') {
        const ready = !stopping && pool.backend !== 'none';
        res.writeHead(ready ? 200 : 503, { 'content-type': 'text/plain' }).end(ready ? 'ready\n' : 'shutting down\n');
      } else {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /metrics, /healthz or /readyz\n');
      }
    });
    try {
      await new Promise<void>((resolve, reject) => {
        http!.once('error', (err) => reject(new Error(`cannot listen on ${config.metricsAddr} for metrics: ${err.message}`)));
        http!.listen(m.port, m.host, resolve);
      });
    } catch (err) {
      server.forceShutdown();
      await pool.close();
      throw err;
    }
    const address = http.address();
    const boundPort = typeof address === 'object' && address ? address.port : m.port;
    const host = m.host === '0.0.0.0' || m.host === '::' ? '127.0.0.1' : m.host;
    metricsUrl = `http://${formatHost(host)}:${boundPort}`;
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
