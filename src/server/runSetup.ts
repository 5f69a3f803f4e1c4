/** RunStart → the constants the analysis needs (docs/science.md §0), validated with clear errors. */
import { Code, SidecarError } from '../errors.js';
import { decodeTensor } from '../ingest/decodeTensor.js';
import type { RunSetup } from '../analysis/types.js';
import type { RunStart__Output } from '../gen/ntksidecar/v1/RunStart.js';

export function runSetupFrom(start: RunStart__Output, samples: number, outputs: number): RunSetup {
  const loss = start.loss?.kind === 'LOSS_KIND_MSE' ? 'mse' : start.loss?.kind === 'LOSS_KIND_CROSS_ENTROPY' ? 'cross_entropy' : undefined;
  const opt = start.optimizer;
  const kind = opt?.kind === 'OPTIMIZER_KIND_MOMENTUM' ? 'momentum' : opt?.kind === 'OPTIMIZER_KIND_ADAM' ? 'adam' : 'sgd';
  return {
    samples,
    outputs,
    loss,
    lossScale: start.loss?.scale ?? 0,
    optimizer: { kind, momentum: opt?.momentum ?? 0, beta1: opt?.beta1 || 0.9, weightDecay: opt?.weight_decay ?? 0 },
    sketch: start.sketch && start.sketch.dim > 0 ? { dim: start.sketch.dim, seed: start.sketch.seed } : undefined,
  };
}

/**
 * ProbeSet.targets → n×C row-major float64: an n×C tensor as is (regression or one-hot), or n integer class
 * labels turned into one-hot rows. Absent targets → undefined (alignment and residuals are then not computed).
 */
export function decodeTargets(start: RunStart__Output, samples: number, outputs: number): Float64Array | undefined {
  const t = start.probe?.targets;
  if (!t || t.data.byteLength === 0) return undefined;
  if (t.dtype === 'DTYPE_UNSPECIFIED') throw new SidecarError(Code.INVALID_ARGUMENT, 'RunStart.probe.targets has no dtype; set DTYPE_F32 or DTYPE_F64');
  const count = t.shape.reduce((a, b) => a * b, 1);
  const values = decodeTensor(t.data, t.dtype, count);
  const shape = `[${t.shape.join(', ')}]`;
  if (count === samples * outputs && (t.shape.length === 2 || outputs === 1)) return Float64Array.from(values);
  if (count === samples && t.shape.length === 1) {
    const onehot = new Float64Array(samples * outputs);
    for (let i = 0; i < samples; i++) {
      const label = values[i];
      if (!Number.isInteger(label) || label < 0 || label >= outputs) {
        throw new SidecarError(Code.INVALID_ARGUMENT, `RunStart.probe.targets[${i}] = ${label} is not a class label in [0, ${outputs - 1}]`);
      }
      onehot[i * outputs + label] = 1;
    }
    return onehot;
  }
  throw new SidecarError(Code.INVALID_ARGUMENT, `RunStart.probe.targets has shape ${shape}; expected [${samples}, ${outputs}] (values or one-hot) or [${samples}] (class labels)`);
}
