/** Starts the real sidecar on 127.0.0.1:0 (gRPC and HTTP) for a test, with optional config overrides. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultConfig, validateConfig, type Config } from '../../src/config/config.js';
import { startSidecarServer, type SidecarServer } from '../../src/server/sidecarServer.js';

export interface TestServer {
  grpcTarget: string;
  metricsUrl: string;
  server: SidecarServer;
  stop(): Promise<void>;
}

export async function startTestServer(
  overrides: (c: Config) => void = () => undefined,
  opts: { policyDocument?: unknown; log?: (level: 'debug' | 'info' | 'warn' | 'error', message: string) => void } = {},
): Promise<TestServer> {
  const config = defaultConfig();
  config.grpcAddr = '127.0.0.1:0';
  config.metricsAddr = '127.0.0.1:0';
  config.backend = 'reference';
  config.computeWorkers = 1;
  config.shutdownGraceSeconds = 2;
  config.logLevel = 'error';
  config.dataDir = mkdtempSync(join(tmpdir(), 'ntk-sidecar-test-'));
  overrides(config);
  validateConfig(config);
  const server = await startSidecarServer({ config, policyDocument: opts.policyDocument, log: opts.log ?? (() => undefined) });
  return {
    grpcTarget: server.grpcAddress,
    metricsUrl: `${server.metricsUrl!}/metrics`,
    server,
    stop: () => server.stop(),
  };
}
