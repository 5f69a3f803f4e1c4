/**
 * Defect 1 (issue 14): a client that stops reading replies and then disconnects must not leave its session stuck.
 * The server blocks in send() waiting for 'drain' (the client's HTTP/2 window is full); the cancel must end that
 * wait, the run must become detached, and a new Attach with the same run_id must resume it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type * as grpc from '@grpc/grpc-js';
import { NtkSidecarClient } from '../../src/client/ntkSidecarClient.js';
import { startTestServer, type TestServer } from '../support/startTestServer.js';
import type { RunStart } from '../../src/gen/ntksidecar/v1/RunStart.js';
import type { TrainerMessage } from '../../src/gen/ntksidecar/v1/TrainerMessage.js';
import { waitFor } from './helpers.js';

let server: TestServer;
let client: NtkSidecarClient;

beforeAll(async () => {
  server = await startTestServer();
  client = new NtkSidecarClient(server.grpcTarget);
});
afterAll(async () => {
  client?.close();
  await server?.stop();
});

const start = (runId: string): RunStart => ({ run_id: runId, probe: { num_samples: 4, num_outputs: 1, sample_ids_hash: 'h' }, loss: { kind: 'LOSS_KIND_MSE', scale: 0.5 } });

describe('a client that stops reading and disconnects', () => {
  it('ends the session: the run detaches and a new stream resumes it; other runs keep working', async () => {
    const runId = 'never-reads';
    // A second client (own channel) so its cancel cannot disturb the canary's connection.
    const reader = new NtkSidecarClient(server.grpcTarget);
    // A paused raw stream: grpc-js stops reading from HTTP/2 once its 16-message buffer is full, so the
    // server's replies pile up behind flow control (a trainer stuck in a long step that never reads).
    const stream = reader.raw.Attach(reader.metadata()) as grpc.ClientDuplexStream<TrainerMessage, unknown>;
    stream.on('error', () => undefined);
    stream.on('data', () => undefined);
    stream.pause();
    stream.write({ start: start(runId) });
    await waitFor(() => server.server.ctx.runs.get(runId)?.attached === true, 5000, 'run attached');
    // Each SnapshotHeader without tensors (distinct id) earns a negative INVALID_ARGUMENT ack of ~100 bytes: 4000
    // of them are far more than the 64 KiB HTTP/2 window plus the stream buffers. (Stray chunks no longer do: an id
    // no header opened ends the stream, docs/errors.md.)
    for (let id = 1; id <= 4000; id++) stream.write({ header: { snapshot_id: 1_000_000 + id, step: id, tensors: [] } });
    // The server runs into the full window and stops acking (it is waiting for 'drain').
    let seen = -1;
    await waitFor(() => {
      const now = server.server.ctx.runs.get(runId)!.snapshotsRejected;
      const still = now === seen && now > 0 && now < 4000;
      seen = now;
      return still;
    }, 10_000, 'the server blocked on a full HTTP/2 window');
    stream.cancel();
    reader.close();

    await waitFor(() => server.server.ctx.runs.get(runId)?.attached === false, 5000, 'run detached after the cancel');
    expect(server.server.ctx.sessions.size).toBe(0);
    const again = client.attach(start(runId));
    const accepted = await again.accepted;
    expect(accepted.resumed).toBe(true);
    expect((await again.finish()).code).toBe(0);

    const canary = client.attach(start('canary-1'));
    expect((await canary.accepted).resumed).toBe(false);
    expect((await canary.finish()).code).toBe(0);
  });
});
