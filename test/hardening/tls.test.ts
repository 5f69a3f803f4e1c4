/**
 * TLS and mTLS on both ports (issue 14 #7, issue 16): with --tls-cert the gRPC port refuses plaintext and clients
 * without the CA, --tls-client-ca refuses clients without a certificate, and the metrics port (metrics and run pages)
 * speaks HTTPS with the same certificate, refusing plain HTTP. Certificates are made by openssl for the test.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NtkSidecarClient } from '../../src/client/ntkSidecarClient.js';
import { startTestServer, type TestServer } from '../support/startTestServer.js';

const openssl = spawnSync('openssl', ['version']).status === 0;
if (!openssl) console.warn('SKIPPED test/hardening/tls.test.ts: openssl is not installed (it makes the test certificates)');

let dir: string;
let ca: Buffer;
let servers: TestServer[] = [];

/** A CA, a server certificate for 127.0.0.1 and two client certificates, all signed by the CA. */
function makeCertificates(): void {
  dir = mkdtempSync(join(tmpdir(), 'ntk-sidecar-tls-'));
  const run = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  run('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=ntk-test-ca', '-keyout', 'ca.key', '-out', 'ca.pem');
  for (const [name, ext] of [['server', 'subjectAltName=IP:127.0.0.1'], ['client', 'extendedKeyUsage=clientAuth'], ['intruder', 'extendedKeyUsage=clientAuth']]) {
    writeFileSync(join(dir, `${name}.ext`), `${ext}\n`);
    run('req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${name}`, '-keyout', `${name}.key`, '-out', `${name}.csr`);
    run('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-extfile', `${name}.ext`, '-out', `${name}.pem`);
  }
  ca = readFileSync(join(dir, 'ca.pem'));
}

function get(url: string, opts: { ca?: Buffer } = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = (url.startsWith('https') ? httpsRequest : httpRequest)(url, { ca: opts.ca, timeout: 5000 }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.end();
  });
}

async function attach(target: string, credentials: grpc.ChannelCredentials, runId = `tls-${Math.random()}`, jobId = ''): Promise<unknown> {
  const client = new NtkSidecarClient(target, { credentials });
  try {
    const run = client.attach({ run_id: runId, job_id: jobId, probe: { num_samples: 2, num_outputs: 1 } });
    try {
      return await run.accepted;
    } finally {
      // Leave the run detached, as a trainer that goes away does.
      run.cancel();
      await run.closed.catch(() => undefined);
    }
  } finally {
    client.close();
  }
}

function clientCredentials(name: string): grpc.ChannelCredentials {
  return grpc.credentials.createSsl(ca, readFileSync(join(dir, `${name}.key`)), readFileSync(join(dir, `${name}.pem`)));
}

beforeAll(async () => {
  if (!openssl) return;
  makeCertificates();
}, 60_000);
afterAll(async () => {
  for (const s of servers) await s.stop();
  servers = [];
});

describe.skipIf(!openssl)('TLS', () => {
  it('serves gRPC over TLS only, and metrics and run pages over HTTPS with the same certificate', async () => {
    const server = await startTestServer((c) => {
      c.tls = { certFile: join(dir, 'server.pem'), keyFile: join(dir, 'server.key'), clientCaFile: undefined };
    });
    servers.push(server);
    expect(server.metricsUrl.startsWith('https://')).toBe(true);
    expect(await attach(server.grpcTarget, grpc.credentials.createSsl(ca))).toMatchObject({ resumed: false });
    await expect(attach(server.grpcTarget, grpc.credentials.createInsecure())).rejects.toMatchObject({ code: grpc.status.UNAVAILABLE });
    await expect(attach(server.grpcTarget, grpc.credentials.createSsl())).rejects.toMatchObject({ code: grpc.status.UNAVAILABLE }); // unknown CA

    const metrics = await get(server.metricsUrl, { ca });
    expect(metrics.status).toBe(200);
    expect(metrics.body).toMatch(/^ntk_sidecar_build_info\{/m);
    expect((await get(server.metricsUrl.replace('/metrics', '/'), { ca })).status).toBe(200);
    await expect(get(server.metricsUrl)).rejects.toThrow(/self[- ]signed|unable to verify|certificate/i); // no CA: refused
    const plain = await get(server.metricsUrl.replace('https://', 'http://')).catch((err: Error) => err);
    expect(plain instanceof Error || plain.status === 400).toBe(true); // plain HTTP gets no metrics
  });

  it('with a client CA (mTLS) refuses gRPC clients without a certificate it signed', async () => {
    const server = await startTestServer((c) => {
      c.tls = { certFile: join(dir, 'server.pem'), keyFile: join(dir, 'server.key'), clientCaFile: join(dir, 'ca.pem') };
    });
    servers.push(server);
    expect(await attach(server.grpcTarget, clientCredentials('client'))).toMatchObject({ resumed: false });
    await expect(attach(server.grpcTarget, grpc.credentials.createSsl(ca))).rejects.toMatchObject({ code: grpc.status.UNAVAILABLE });
  });

  it('binds a run to the client certificate that started it: another certificate cannot resume, end or join its job', async () => {
    const server = await startTestServer((c) => {
      c.tls = { certFile: join(dir, 'server.pem'), keyFile: join(dir, 'server.key'), clientCaFile: join(dir, 'ca.pem') };
    });
    servers.push(server);
    expect(await attach(server.grpcTarget, clientCredentials('client'), 'owned', 'job-1')).toMatchObject({ resumed: false });
    const denied = { code: grpc.status.PERMISSION_DENIED, details: expect.stringMatching(/belongs to the client certificate CN=client .* not CN=intruder/) };
    await expect(attach(server.grpcTarget, clientCredentials('intruder'), 'owned', 'job-1')).rejects.toMatchObject(denied);
    await expect(attach(server.grpcTarget, clientCredentials('intruder'), 'fake-rank', 'job-1')).rejects.toMatchObject(denied);
    const intruder = new NtkSidecarClient(server.grpcTarget, { credentials: clientCredentials('intruder') });
    await expect(intruder.endRun('owned')).rejects.toMatchObject(denied);
    // Reading stays open to every authenticated client; the owner's stream has closed, the run is not ended.
    await expect.poll(async () => (await intruder.getRun('owned')).state).toBe('detached');
    intruder.close();
    // The owner resumes and ends it.
    expect(await attach(server.grpcTarget, clientCredentials('client'), 'owned', 'job-1')).toMatchObject({ resumed: true });
    const owner = new NtkSidecarClient(server.grpcTarget, { credentials: clientCredentials('client') });
    expect((await owner.endRun('owned')).existed).toBe(true);
    owner.close();
  });
});
