/**
 * Defects 4, 6 and 7 (issue 14): HTTP/2 keepalive frees the runs of a partitioned trainer; a memory budget
 * (--max-memory) is checked at RunStart before allocation, with the numbers; /metrics and the RPCs honour the
 * bearer token, with a read-only token for dashboards, and /metrics binds loopback by default.
 */
import { createServer, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import * as grpc from '@grpc/grpc-js';
import { NtkSidecarClient } from '../../src/client/ntkSidecarClient.js';
import { ConfigError, defaultConfig, resolveConfig } from '../../src/config/config.js';
import { runMemoryBytes } from '../../src/server/runTable.js';
import { startTestServer } from '../support/startTestServer.js';
import type { RunStart } from '../../src/gen/ntksidecar/v1/RunStart.js';
import { statusOf, waitFor } from './helpers.js';

const start = (runId: string, samples = 8): RunStart => ({ run_id: runId, probe: { num_samples: samples, num_outputs: 1, sample_ids_hash: 'h' }, loss: { kind: 'LOSS_KIND_MSE', scale: 0.5 } });

/** A TCP proxy that can be cut like a network partition: both sockets stay open, nothing passes any more. */
async function partitionableProxy(target: string) {
  const [host, port] = [target.slice(0, target.lastIndexOf(':')), Number(target.slice(target.lastIndexOf(':') + 1))];
  const pairs: Array<[Socket, Socket]> = [];
  let cut = false;
  const server = createServer((inbound) => {
    const outbound = new (inbound.constructor as typeof Socket)();
    outbound.connect(port, host);
    const forward = (from: Socket, to: Socket) => from.on('data', (b) => void (cut || to.write(b)));
    forward(inbound, outbound);
    forward(outbound, inbound);
    inbound.on('error', () => undefined);
    outbound.on('error', () => undefined);
    pairs.push([inbound, outbound]);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    target: `127.0.0.1:${(server.address() as { port: number }).port}`,
    cut: () => void (cut = true),
    close: () => {
      for (const [a, b] of pairs) {
        a.destroy();
        b.destroy();
      }
      server.close();
    },
  };
}

describe('HTTP/2 keepalive (defect 4)', () => {
  it('a partitioned trainer loses its stream; the restarted trainer resumes the run instead of ALREADY_EXISTS', async () => {
    const server = await startTestServer((c) => {
      c.keepaliveSeconds = 0.5;
      c.keepaliveTimeoutSeconds = 0.5;
    });
    const proxy = await partitionableProxy(server.grpcTarget);
    const far = new NtkSidecarClient(proxy.target);
    const near = new NtkSidecarClient(server.grpcTarget);
    try {
      const run = far.attach(start('partitioned'));
      await run.accepted;
      proxy.cut();
      await waitFor(() => server.server.ctx.runs.get('partitioned')?.attached === false, 10_000, 'keepalive dropped the partitioned connection');
      const again = near.attach(start('partitioned'));
      expect((await again.accepted).resumed).toBe(true);
      await again.finish();
    } finally {
      far.close();
      near.close();
      proxy.close();
      await server.stop();
    }
  });
});

describe('memory budget (defect 6)', () => {
  it('refuses a RunStart that does not fit, with the numbers; evicts detached runs to make room; never attached ones', async () => {
    const per = runMemoryBytes(8, 1);
    const server = await startTestServer((c) => (c.limits.maxMemoryBytes = 2 * per + 1000));
    const client = new NtkSidecarClient(server.grpcTarget);
    try {
      const a = client.attach(start('mem-a'));
      await a.accepted;
      const b = client.attach(start('mem-b'));
      await b.accepted;
      const c = client.attach(start('mem-c'));
      const refused = await c.closed;
      expect(refused.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
      expect(refused.details).toContain(`needs up to ${per} bytes`);
      expect(refused.details).toContain(`2 attached run(s) already hold ${2 * per} bytes`);
      expect(refused.details).toContain(`${2 * per + 1000} bytes`);
      expect(refused.details).toMatch(/--max-memory/);
      expect(server.server.ctx.runs.get('mem-c')).toBeUndefined();

      const huge = await client.attach(start('mem-huge', 256)).closed;
      expect(huge.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
      expect(huge.details).toMatch(/N = n·C = 256·1 = 256 rows\), more than this sidecar's whole memory budget/);

      // A detached run makes room; the attached one stays.
      a.cancel();
      await waitFor(() => server.server.ctx.runs.get('mem-a')?.attached === false, 5000, 'mem-a detached');
      const d = client.attach(start('mem-d'));
      await d.accepted;
      expect(server.server.ctx.runs.get('mem-a')).toBeUndefined();
      expect(server.server.ctx.runs.get('mem-b')?.attached).toBe(true);
      // An ended run frees its share.
      await b.finish();
      const e = client.attach(start('mem-e'));
      await e.accepted;
      await d.finish();
      await e.finish();
    } finally {
      client.close();
      await server.stop();
    }
  });
});

describe('auth (defect 7)', () => {
  it('binds /metrics to loopback by default and validates the token options', () => {
    expect(defaultConfig().metricsAddr).toBe('127.0.0.1:9464');
    expect(() => resolveConfig({ flags: { 'read-only-token': 'dash' } })).toThrow(ConfigError);
    expect(() => resolveConfig({ flags: { 'auth-token': 'same', 'read-only-token': 'same' } })).toThrow(/must differ/);
  });

  it('/metrics wants the bearer token; the read-only token reads but cannot attach or end runs', async () => {
    const server = await startTestServer((c) => {
      c.authToken = 'trainer-secret';
      c.readOnlyToken = 'dashboard-secret';
    });
    const trainer = new NtkSidecarClient(server.grpcTarget, { token: 'trainer-secret' });
    const dashboard = new NtkSidecarClient(server.grpcTarget, { token: 'dashboard-secret' });
    const nobody = new NtkSidecarClient(server.grpcTarget);
    const wrong = new NtkSidecarClient(server.grpcTarget, { token: 'trainer-secreT' });
    try {
      expect((await fetch(server.metricsUrl)).status).toBe(401);
      expect((await fetch(server.metricsUrl, { headers: { authorization: 'Bearer nope' } })).status).toBe(401);
      expect((await fetch(server.metricsUrl, { headers: { authorization: 'Bearer dashboard-secret' } })).status).toBe(200);
      expect((await fetch(server.metricsUrl, { headers: { authorization: 'Bearer trainer-secret' } })).status).toBe(200);
      expect((await fetch(server.metricsUrl.replace('/metrics', '/healthz'))).status).toBe(200); // kubelet probes

      const run = trainer.attach(start('owned'));
      await run.accepted;
      expect((await dashboard.getRun('owned')).run_id).toBe('owned');
      expect((await dashboard.listRuns()).map((r) => r.run_id)).toContain('owned');

      const denied = statusOf(await dashboard.endRun('owned').catch((e: unknown) => e));
      expect(denied.code).toBe(grpc.status.PERMISSION_DENIED);
      expect((await dashboard.attach(start('by-dashboard')).closed).code).toBe(grpc.status.PERMISSION_DENIED);
      for (const c of [nobody, wrong]) {
        expect(statusOf(await c.getRun('owned').catch((e: unknown) => e)).code).toBe(grpc.status.UNAUTHENTICATED);
        expect((await c.attach(start('x')).closed).code).toBe(grpc.status.UNAUTHENTICATED);
      }
      expect(server.server.ctx.runs.get('owned')?.state).toBe('active');
      await run.finish();
    } finally {
      for (const c of [trainer, dashboard, nobody, wrong]) c.close();
      await server.stop();
    }
  });
});
