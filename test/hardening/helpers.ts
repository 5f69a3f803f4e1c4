/** Small helpers shared by the hardening suites (issue 14). */
import * as grpc from '@grpc/grpc-js';

/** Polls `cond` until it holds or `timeoutMs` passes (then throws naming `what`). */
export async function waitFor(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The status a failed unary call or stream ended with. */
export function statusOf(err: unknown): { code: number; details: string } {
  const e = err as grpc.ServiceError;
  return { code: e.code, details: e.details };
}

/** Writes raw bytes as one Attach message (no protobuf encoding by the client) and returns the stream's status. */
export async function rawAttachStatus(target: string, message: Buffer): Promise<grpc.StatusObject> {
  const raw = new grpc.Client(target, grpc.credentials.createInsecure());
  const stream = raw.makeBidiStreamRequest('/ntksidecar.v1.NtkSidecar/Attach', (b: Buffer) => b, (b: Buffer) => b);
  try {
    return await new Promise<grpc.StatusObject>((resolve) => {
      stream.on('status', resolve);
      stream.on('data', () => undefined);
      stream.on('error', () => undefined);
      stream.write(message);
    });
  } finally {
    raw.close();
  }
}
