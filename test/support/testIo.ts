/** Small I/O helpers the suites share: float64 bytes for inline tensors, a text sink for CLI output. */
import { Writable } from 'node:stream';

/** Little-endian float64 bytes of `values` (proto Tensor.data with DTYPE_F64). */
export function f64Bytes(values: ArrayLike<number>): Uint8Array {
  return new Uint8Array(Float64Array.from(values).buffer);
}

/** A writable stream that keeps what is written, for commands that print. */
export function textSink(): { stream: Writable; text: () => string } {
  let text = '';
  const stream = new Writable({
    write(chunk: Buffer | string, _enc, cb) {
      text += chunk.toString();
      cb();
    },
  });
  return { stream, text: () => text };
}
