/**
 * Stream and process lifecycle against the real server: a client vanishing mid-snapshot, concurrent runs,
 * grpc.health.v1 and reflection, and graceful shutdown (NOT_SERVING, UNAVAILABLE, metrics closed).
 */
import { createRequire } from 'node:module';
import { afterAll, describe, expect, it } from 'vitest';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { NtkSidecarClient } from '../../src/client/ntkSidecarClient.js';
import { mulberry32 } from '../../src/random.js';
import { jacobianWithSpectrum, powerLawSpectrum } from '../support/matrices.js';
import { startTestServer, type TestServer } from '../support/startTestServer.js';
import type { RunStart } from '../../src/gen/ntksidecar/v1/RunStart.js';

const require = createRequire(import.meta.url);
const servers: TestServer[] = [];
afterAll(async () => {
  for (const s of servers) await s.stop();
});

async function start(over?: Parameters<typeof startTestServer>[0]): Promise<TestServer> {
  const s = await startTestServer(over);
  servers.push(s);
  return s;
}

function runStart(runId: string, samples: number): RunStart {
  return { run_id: runId, probe: { num_samples: samples, num_outputs: 1 }, loss: { kind: 'LOSS_KIND_MSE', scale: 0.5 } };
}

type HealthClient = grpc.Client & { Check(req: { service: string }, cb: (err: grpc.ServiceError | null, res?: { status: string }) => void): void };

function healthClient(target: string): HealthClient {
  const def = protoLoader.loadSync(require.resolve('grpc-health-check/proto/health/v1/health.proto'), { enums: String });
  const pkg = grpc.loadPackageDefinition(def) as unknown as { grpc: { health: { v1: { Health: new (t: string, c: grpc.ChannelCredentials) => HealthClient } } } };
  return new pkg.grpc.health.v1.Health(target, grpc.credentials.createInsecure());
}

function healthStatus(c: HealthClient, service: string): Promise<string> {
  return new Promise((resolve, reject) => c.Check({ service }, (err, res) => (err ? reject(err) : resolve(res!.status))));
}

describe('lifecycle', () => {
  it('keeps a run usable after its client disconnects mid-snapshot, and runs two streams at once', async () => {
    const server = await start();
    const client = new NtkSidecarClient(server.grpcTarget);
    const samples = 24;
    const lambda = powerLawSpectrum(samples, 1);
    const j = Float32Array.from(jacobianWithSpectrum(lambda, 3000, mulberry32(1)));

    const first = client.attach(runStart('flaky', samples));
    await first.accepted;
    // Half a snapshot, then the trainer dies.
    await first.write({ header: { snapshot_id: 1, step: 1, tensors: [{ tensor: 'TENSOR_KIND_JACOBIAN', dtype: 'DTYPE_F32', rows: samples, cols: 3000 }] } });
    const half = new Uint8Array(j.buffer.slice(0, samples * 1500 * 4)); // not the column layout, but byte-valid
    await first.write({ chunk: { snapshot_id: 1, tensor: 'TENSOR_KIND_JACOBIAN', offset: 0, rows: samples, cols: 1500, dtype: 'DTYPE_F32', data: half } });
    first.cancel();
    await first.closed;
    await expect.poll(async () => (await client.getRun('flaky')).state).toBe('detached');

    // Reattach resumes the run; meanwhile a second run streams concurrently.
    const again = client.attach(runStart('flaky', samples));
    const other = client.attach(runStart('steady', samples));
    expect((await again.accepted).resumed).toBe(true);
    expect((await other.accepted).resumed).toBe(false);
    const tensors = [{ kind: 'TENSOR_KIND_JACOBIAN' as const, rows: samples, cols: 3000, data: j }];
    const [a, b] = await Promise.all([
      again.sendSnapshot({ id: 2, step: 2, trainLoss: 1, chunkBytes: 32 * 1024, tensors }),
      other.sendSnapshot({ id: 1, step: 1, trainLoss: 1, chunkBytes: 32 * 1024, tensors }),
    ]);
    expect(a.ack.accepted && b.ack.accepted).toBe(true);
    const [ra, rb] = await Promise.all([client.getRun('flaky'), client.getRun('steady')]);
    expect(ra.latest!.spectra[0].eigenvalues).toEqual(rb.latest!.spectra[0].eigenvalues); // same data, same result
    expect(ra.snapshots_accepted).toBe(1);
    expect(Math.abs(ra.latest!.spectra[0].eigenvalues[0] - 1)).toBeLessThan(1e-5);
    await again.finish();
    await other.finish();
    client.close();
  });

  it('never resumes an ended run: a RunStart after RunEnd or EndRun is FAILED_PRECONDITION', async () => {
    const server = await start();
    const client = new NtkSidecarClient(server.grpcTarget);
    const done = client.attach(runStart('finished', 4));
    await done.accepted;
    await done.finish();
    const op = client.attach(runStart('stopped-by-operator', 4));
    await op.accepted;
    await client.endRun('stopped-by-operator', 'RUN_STATUS_STOPPED');
    await op.closed.catch(() => undefined);
    for (const id of ['finished', 'stopped-by-operator']) {
      const again = client.attach(runStart(id, 4));
      await expect(again.accepted).rejects.toMatchObject({ code: grpc.status.FAILED_PRECONDITION, details: expect.stringMatching(new RegExp(`run "${id}" has ended \\(RUN_STATUS_(COMPLETED|STOPPED)\\); an ended run is not resumed — start a new run_id`)) });
      expect((await client.getRun(id)).state).toBe('ended');
    }
    client.close();
  });

  it('serves grpc.health.v1 and server reflection', async () => {
    const server = await start();
    const health = healthClient(server.grpcTarget);
    expect(await healthStatus(health, '')).toBe('SERVING');
    expect(await healthStatus(health, 'ntksidecar.v1.NtkSidecar')).toBe('SERVING');
    health.close();

    const def = protoLoader.loadSync(require.resolve('@grpc/reflection/build/proto/grpc/reflection/v1/reflection.proto'), { keepCase: true });
    type ListReply = { list_services_response?: { service: Array<{ name: string }> } };
    type Reflection = grpc.Client & { ServerReflectionInfo(): grpc.ClientDuplexStream<object, ListReply> };
    const pkg = grpc.loadPackageDefinition(def) as unknown as { grpc: { reflection: { v1: { ServerReflection: new (t: string, c: grpc.ChannelCredentials) => Reflection } } } };
    const reflection = new pkg.grpc.reflection.v1.ServerReflection(server.grpcTarget, grpc.credentials.createInsecure());
    const stream = reflection.ServerReflectionInfo();
    const names = await new Promise<string[]>((resolve, reject) => {
      stream.on('data', (res: ListReply) => resolve((res.list_services_response?.service ?? []).map((s) => s.name)));
      stream.on('error', reject);
      stream.write({ list_services: '' });
    });
    stream.end();
    reflection.close();
    expect(names).toContain('ntksidecar.v1.NtkSidecar');
  });

  it('shuts down gracefully: health NOT_SERVING, open streams end UNAVAILABLE, metrics closed', async () => {
    const server = await startTestServer(); // stopped by the test itself
    const client = new NtkSidecarClient(server.grpcTarget);
    const run = client.attach(runStart('long-lived', 4));
    await run.accepted;
    expect((await fetch(server.metricsUrl.replace('/metrics', '/readyz'))).status).toBe(200);
    const health = healthClient(server.grpcTarget);
    const watched = new Promise<string>((resolve) => {
      // Health flips before the listener closes; a Check racing the close may also fail with UNAVAILABLE.
      const poll = () => healthStatus(health, '').then((s) => (s === 'NOT_SERVING' ? resolve(s) : setTimeout(poll, 5)), () => resolve('NOT_SERVING'));
      poll();
    });
    const stopping = server.stop();
    const status = await run.closed;
    expect(status.code).toBe(grpc.status.UNAVAILABLE);
    expect(status.details).toMatch(/shutting down/);
    expect(await watched).toBe('NOT_SERVING');
    await stopping;
    await expect(fetch(server.metricsUrl)).rejects.toThrow();
    health.close();
    client.close();
  });
});
