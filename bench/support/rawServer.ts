/**
 * The ingest baseline: a grpc-js server for the same NtkSidecar service and proto (so messages are decoded the
 * same way) that does no work — it answers RunStart with RunAccepted and SnapshotEnd with an ack and a CONTINUE
 * decision, and drops every chunk. Same receive limit as the sidecar. Runs as its own process:
 *
 *   node --import tsx bench/support/rawServer.ts     → prints "raw server on 127.0.0.1:PORT"
 */
import * as grpc from '@grpc/grpc-js';
import { loadPackageDefinition } from '../../src/protoDefinition.js';
import type { ProtoGrpcType } from '../../src/gen/sidecar.js';
import type { TrainerMessage__Output } from '../../src/gen/ntksidecar/v1/TrainerMessage.js';
import type { SidecarMessage } from '../../src/gen/ntksidecar/v1/SidecarMessage.js';

const MiB = 1024 * 1024;
const proto = grpc.loadPackageDefinition(loadPackageDefinition()) as unknown as ProtoGrpcType;
const server = new grpc.Server({ 'grpc.max_receive_message_length': 16 * MiB, 'grpc.max_send_message_length': 16 * MiB });

server.addService(proto.ntksidecar.v1.NtkSidecar.service, {
  Attach(call: grpc.ServerDuplexStream<TrainerMessage__Output, SidecarMessage>) {
    let runId = '';
    call.on('data', (msg: TrainerMessage__Output) => {
      if (msg.start) {
        runId = msg.start.run_id;
        call.write({ accepted: { run_id: runId, max_chunk_bytes: 16 * MiB - 65536, backend: 'none', server_version: 'raw' } });
      } else if (msg.end) {
        const id = msg.end.snapshot_id;
        call.write({ ack: { snapshot_id: id, accepted: true, code: 0, message: '' } });
        call.write({ decision: { run_id: runId, snapshot_id: id, action: 'ACTION_CONTINUE', reason: 'REASON_WARMUP' } });
      } else if (msg.finish) {
        call.end();
      }
    });
    call.on('end', () => call.end());
    call.on('error', () => undefined);
  },
});

server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, port) => {
  if (err) {
    console.error(err.message);
    process.exit(1);
  }
  console.log(`raw server on 127.0.0.1:${port}`);
});
process.on('SIGTERM', () => server.tryShutdown(() => process.exit(0)));
