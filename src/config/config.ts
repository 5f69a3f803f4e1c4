/**
 * One typed Config with defaults, validated at start-up (fail fast, with the offending flag and value).
 * Sources, lowest to highest precedence: defaults < config file (--config) < NTK_SIDECAR_* env < flags.
 * Only src/cli reads argv and env; it hands the raw sources to `resolveConfig`.
 */
import { BACKEND_KINDS, type BackendKind } from '../kernel/gramBackend.js';

export interface Limits {
  /** gRPC max receive message size (bytes). */
  maxReceiveBytes: number;
  /** Largest TensorChunk.data accepted (bytes); must fit in a message. */
  maxChunkBytes: number;
  /** Largest N = n·C accepted. The kernel costs 8·N² bytes per run. */
  maxRows: number;
  /** Largest declared snapshot (sum of tensor bytes). Streaming keeps memory flat in P, so this is large. */
  maxSnapshotBytes: number;
  /** Runs held at once (active or detached); per-run metric series are bounded by it. */
  maxActiveRuns: number;
  /**
   * Memory budget for the runs' kernel state, in bytes (issue 14 #6): a RunStart whose worst case (runMemoryBytes)
   * does not fit next to the runs held is refused before anything is allocated. 0 = half of the machine's memory.
   */
  maxMemoryBytes: number;
}

export interface Config {
  grpcAddr: string;
  metricsAddr: string;
  /** The run pages on the metrics port (GET /, GET /runs/{id}; issue 16). */
  ui: boolean;
  dataDir: string;
  /** Record what every run sends under this directory (replayable with `ntk-sidecar replay`); undefined = off. */
  recordDir: string | undefined;
  /** Cohort state (docs/cohorts.md): "memory" (this process) or a postgres:// URL shared by several sidecars. */
  cohortStore: string;
  policyFile: string | undefined;
  backend: BackendKind;
  limits: Limits;
  /** Exact eigensolver up to this order, top-k Lanczos beyond (docs/science.md A0). */
  exactMax: number;
  /** Eigenpairs computed by Lanczos beyond exactMax. */
  topK: number;
  /** Worker threads for kernel accumulation and eigensolves. */
  computeWorkers: number;
  /** Seconds to wait for in-flight work at shutdown before cancelling it. */
  shutdownGraceSeconds: number;
  /** HTTP/2 keepalive: ping every connection after this many seconds (0 = off), drop it when the ping is unanswered. */
  keepaliveSeconds: number;
  keepaliveTimeoutSeconds: number;
  tls: { certFile: string | undefined; keyFile: string | undefined; clientCaFile: string | undefined };
  /** Bearer token required in the `authorization` metadata (and by /metrics) when set. */
  authToken: string | undefined;
  /** A second token for dashboards: CheckStop, GetRun, ListRuns and /metrics only (needs --auth-token). */
  readOnlyToken: string | undefined;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
}

const MiB = 1024 * 1024;

export function defaultConfig(): Config {
  return {
    grpcAddr: '127.0.0.1:50051',
    metricsAddr: '127.0.0.1:9464', // loopback: /metrics names every run; bind 0.0.0.0 explicitly to expose it
    ui: true,
    dataDir: './ntk-sidecar-data',
    recordDir: undefined,
    cohortStore: 'memory',
    policyFile: undefined,
    backend: 'auto',
    limits: {
      maxReceiveBytes: 16 * MiB,
      maxChunkBytes: 16 * MiB - 64 * 1024,
      maxRows: 8192,
      maxSnapshotBytes: 2 ** 50, // 1 PiB: P is unbounded by design; N is what costs memory
      maxActiveRuns: 64,
      maxMemoryBytes: 0,
    },
    exactMax: 2048,
    topK: 64,
    computeWorkers: 2,
    shutdownGraceSeconds: 5,
    keepaliveSeconds: 30,
    keepaliveTimeoutSeconds: 10,
    tls: { certFile: undefined, keyFile: undefined, clientCaFile: undefined },
    authToken: undefined,
    readOnlyToken: undefined,
    logLevel: 'info',
  };
}

/** Flat option names shared by flags (`--max-rows`), env (`NTK_SIDECAR_MAX_ROWS`) and config files (`maxRows`). */
export const OPTIONS = {
  'grpc-addr': { type: 'address', help: 'gRPC listen address host:port', get: (c: Config) => c.grpcAddr, set: (c: Config, v: string) => { c.grpcAddr = v; } },
  'metrics-addr': { type: 'address', help: 'HTTP address for /metrics, /healthz, /readyz ("off" disables)', get: (c: Config) => c.metricsAddr, set: (c: Config, v: string) => { c.metricsAddr = v; } },
  ui: { type: 'onOff', help: 'run pages on the metrics port (GET /, /runs/{id}): on | off', get: (c: Config) => (c.ui ? 'on' : 'off'), set: (c: Config, v: string) => { c.ui = v === 'on'; } },
  'data-dir': { type: 'string', help: 'directory for run history', get: (c: Config) => c.dataDir, set: (c: Config, v: string) => { c.dataDir = v; } },
  'record-dir': { type: 'string', help: 'record every run (RunStart, kernels, logits, losses) here for `replay`', get: (c: Config) => c.recordDir, set: (c: Config, v: string) => { c.recordDir = v; } },
  'cohort-store': { type: 'cohortStore', help: 'cohort state: memory | postgres://user@host:port/db (shared by sidecars)', get: (c: Config) => c.cohortStore, set: (c: Config, v: string) => { c.cohortStore = v; } },
  policy: { type: 'string', help: 'policy file (YAML or JSON)', get: (c: Config) => c.policyFile, set: (c: Config, v: string) => { c.policyFile = v; } },
  backend: { type: 'backend', help: `kernel backend: ${BACKEND_KINDS.join(' | ')}`, get: (c: Config) => c.backend, set: (c: Config, v: string) => { c.backend = v as BackendKind; } },
  'max-receive-bytes': { type: 'int', help: 'gRPC max receive message size in bytes', get: (c: Config) => c.limits.maxReceiveBytes, set: (c: Config, v: string) => { c.limits.maxReceiveBytes = Number(v); } },
  'max-chunk-bytes': { type: 'int', help: 'largest chunk payload in bytes', get: (c: Config) => c.limits.maxChunkBytes, set: (c: Config, v: string) => { c.limits.maxChunkBytes = Number(v); } },
  'max-rows': { type: 'int', help: 'largest N = n*C (kernel memory is 8*N^2 bytes)', get: (c: Config) => c.limits.maxRows, set: (c: Config, v: string) => { c.limits.maxRows = Number(v); } },
  'max-snapshot-bytes': { type: 'int', help: 'largest declared snapshot in bytes', get: (c: Config) => c.limits.maxSnapshotBytes, set: (c: Config, v: string) => { c.limits.maxSnapshotBytes = Number(v); } },
  'max-active-runs': { type: 'int', help: 'runs held at once', get: (c: Config) => c.limits.maxActiveRuns, set: (c: Config, v: string) => { c.limits.maxActiveRuns = Number(v); } },
  'max-memory': { type: 'int', help: 'memory budget in bytes for the runs held (each reserves 40*N^2 + 1 MiB); 0 = half of RAM', get: (c: Config) => c.limits.maxMemoryBytes, set: (c: Config, v: string) => { c.limits.maxMemoryBytes = Number(v); } },
  'exact-max': { type: 'int', help: 'exact eigensolver up to this order, Lanczos beyond', get: (c: Config) => c.exactMax, set: (c: Config, v: string) => { c.exactMax = Number(v); } },
  'top-k': { type: 'int', help: 'eigenpairs computed by Lanczos', get: (c: Config) => c.topK, set: (c: Config, v: string) => { c.topK = Number(v); } },
  'compute-workers': { type: 'int', help: 'worker threads for kernel and eigen work', get: (c: Config) => c.computeWorkers, set: (c: Config, v: string) => { c.computeWorkers = Number(v); } },
  'shutdown-grace-seconds': { type: 'number', help: 'seconds to finish in-flight work at shutdown', get: (c: Config) => c.shutdownGraceSeconds, set: (c: Config, v: string) => { c.shutdownGraceSeconds = Number(v); } },
  'keepalive-seconds': { type: 'number', help: 'HTTP/2 ping interval; a dead peer frees its runs (0 = off)', get: (c: Config) => c.keepaliveSeconds, set: (c: Config, v: string) => { c.keepaliveSeconds = Number(v); } },
  'keepalive-timeout-seconds': { type: 'number', help: 'drop a connection whose ping is not answered in time', get: (c: Config) => c.keepaliveTimeoutSeconds, set: (c: Config, v: string) => { c.keepaliveTimeoutSeconds = Number(v); } },
  'tls-cert': { type: 'string', help: 'server certificate (PEM); enables TLS', get: (c: Config) => c.tls.certFile, set: (c: Config, v: string) => { c.tls.certFile = v; } },
  'tls-key': { type: 'string', help: 'server private key (PEM)', get: (c: Config) => c.tls.keyFile, set: (c: Config, v: string) => { c.tls.keyFile = v; } },
  'tls-client-ca': { type: 'string', help: 'CA bundle (PEM) for client certificates; enables mTLS', get: (c: Config) => c.tls.clientCaFile, set: (c: Config, v: string) => { c.tls.clientCaFile = v; } },
  'auth-token': { type: 'string', help: 'bearer token clients must send (gRPC and /metrics)', get: (c: Config) => c.authToken, set: (c: Config, v: string) => { c.authToken = v; } },
  'read-only-token': { type: 'string', help: 'second bearer token for dashboards: CheckStop, GetRun, ListRuns, /metrics', get: (c: Config) => c.readOnlyToken, set: (c: Config, v: string) => { c.readOnlyToken = v; } },
  'log-level': { type: 'level', help: 'debug | info | warn | error', get: (c: Config) => c.logLevel, set: (c: Config, v: string) => { c.logLevel = v as Config['logLevel']; } },
} as const;

export type OptionName = keyof typeof OPTIONS;

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

export function envName(option: OptionName): string {
  return `NTK_SIDECAR_${option.toUpperCase().replace(/-/g, '_')}`;
}

function camel(option: string): string {
  return option.replace(/-([a-z])/g, (_, ch: string) => ch.toUpperCase());
}

/** Config file keys: camelCase option names (`maxRows`), or the flag spelling (`max-rows`). */
function fromFile(file: Record<string, unknown>, source: string): Map<OptionName, string> {
  const out = new Map<OptionName, string>();
  const byKey = new Map<string, OptionName>();
  for (const name of Object.keys(OPTIONS) as OptionName[]) {
    byKey.set(name, name);
    byKey.set(camel(name), name);
  }
  for (const [key, value] of Object.entries(file)) {
    const name = byKey.get(key);
    if (!name) throw new ConfigError(`${source}: unknown key "${key}"; known keys: ${[...byKey.keys()].filter((k) => !k.includes('-')).join(', ')}`);
    if (value === null || typeof value === 'object') throw new ConfigError(`${source}: "${key}" must be a string or number, got ${JSON.stringify(value)}`);
    out.set(name, String(value));
  }
  return out;
}

export interface ConfigSources {
  file?: { path: string; values: Record<string, unknown> };
  env?: Record<string, string | undefined>;
  flags?: Partial<Record<OptionName, string>>;
}

/** Merge the sources over the defaults and validate. Throws ConfigError naming the source and the value. */
export function resolveConfig(sources: ConfigSources): Config {
  const config = defaultConfig();
  const layers: Array<[string, Map<OptionName, string>]> = [];
  if (sources.file) layers.push([sources.file.path, fromFile(sources.file.values, sources.file.path)]);
  if (sources.env) {
    const env = new Map<OptionName, string>();
    for (const name of Object.keys(OPTIONS) as OptionName[]) {
      const value = sources.env[envName(name)];
      if (value !== undefined && value !== '') env.set(name, value);
    }
    layers.push(['environment', env]);
  }
  if (sources.flags) {
    const flags = new Map<OptionName, string>();
    for (const [k, v] of Object.entries(sources.flags)) if (v !== undefined) flags.set(k as OptionName, v);
    layers.push(['flags', flags]);
  }
  for (const [source, values] of layers) {
    for (const [name, raw] of values) {
      checkValue(name, raw, source);
      OPTIONS[name].set(config, raw);
    }
  }
  validateConfig(config);
  return config;
}

function checkValue(name: OptionName, raw: string, source: string): void {
  const where = `${source}: --${name}=${JSON.stringify(raw)}`;
  switch (OPTIONS[name].type) {
    case 'int':
      if (!/^\d+$/.test(raw) || !Number.isSafeInteger(Number(raw))) throw new ConfigError(`${where} is not a non-negative integer`);
      break;
    case 'number':
      if (!Number.isFinite(Number(raw)) || Number(raw) < 0) throw new ConfigError(`${where} is not a non-negative number`);
      break;
    case 'address':
      if (raw !== 'off' && !parseAddress(raw)) throw new ConfigError(`${where} is not host:port (e.g. 127.0.0.1:50051, [::1]:0)`);
      break;
    case 'backend':
      if (!(BACKEND_KINDS as readonly string[]).includes(raw)) throw new ConfigError(`${where}: choose ${BACKEND_KINDS.join(', ')}`);
      break;
    case 'cohortStore':
      if (raw !== 'memory' && !/^postgres(ql)?:\/\/./.test(raw)) throw new ConfigError(`${where}: choose memory or a postgres://… (or postgresql://…) URL`);
      break;
    case 'onOff':
      if (raw !== 'on' && raw !== 'off') throw new ConfigError(`${where}: choose on or off`);
      break;
    case 'level':
      if (!['debug', 'info', 'warn', 'error'].includes(raw)) throw new ConfigError(`${where}: choose debug, info, warn or error`);
      break;
    case 'string':
      if (raw === '') throw new ConfigError(`${where} is empty`);
      break;
  }
}

export function parseAddress(addr: string): { host: string; port: number } | undefined {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(addr);
  if (!m) return undefined;
  const port = Number(m[3]);
  if (port > 65535) return undefined;
  return { host: m[1] ?? m[2], port };
}

/** Cross-field checks: the ones a single value cannot catch. */
export function validateConfig(c: Config): void {
  const l = c.limits;
  const positive: Array<[string, number]> = [
    ['max-receive-bytes', l.maxReceiveBytes], ['max-chunk-bytes', l.maxChunkBytes], ['max-rows', l.maxRows],
    ['max-snapshot-bytes', l.maxSnapshotBytes], ['max-active-runs', l.maxActiveRuns], ['exact-max', c.exactMax],
    ['top-k', c.topK], ['compute-workers', c.computeWorkers],
  ];
  for (const [name, v] of positive) if (!(v >= 1)) throw new ConfigError(`--${name}=${v} must be at least 1`);
  if (l.maxChunkBytes > l.maxReceiveBytes - 1024) {
    throw new ConfigError(`--max-chunk-bytes=${l.maxChunkBytes} must leave room for the message envelope: at most --max-receive-bytes − 1024 = ${l.maxReceiveBytes - 1024}`);
  }
  if (l.maxReceiveBytes > 2 ** 31 - 1) throw new ConfigError(`--max-receive-bytes=${l.maxReceiveBytes} exceeds gRPC's 2 GiB message limit`);
  const kernelBytes = 8 * l.maxRows * l.maxRows;
  if (kernelBytes > 2 ** 33) throw new ConfigError(`--max-rows=${l.maxRows} needs ${(kernelBytes / 2 ** 30).toFixed(1)} GiB per kernel; at most 32768 rows (8 GiB) is supported`);
  if (c.topK > c.exactMax) throw new ConfigError(`--top-k=${c.topK} must not exceed --exact-max=${c.exactMax}`);
  if ((c.tls.certFile === undefined) !== (c.tls.keyFile === undefined)) throw new ConfigError('--tls-cert and --tls-key must be given together');
  if (c.tls.clientCaFile !== undefined && c.tls.certFile === undefined) throw new ConfigError('--tls-client-ca (mTLS) needs --tls-cert and --tls-key');
  if (c.readOnlyToken !== undefined && c.authToken === undefined) throw new ConfigError('--read-only-token needs --auth-token (without it every client may do everything)');
  if (c.readOnlyToken !== undefined && c.readOnlyToken === c.authToken) throw new ConfigError('--read-only-token must differ from --auth-token');
  if (c.keepaliveSeconds > 0 && !(c.keepaliveTimeoutSeconds > 0)) throw new ConfigError(`--keepalive-timeout-seconds=${c.keepaliveTimeoutSeconds} must be above 0 when keepalive is on`);
}
