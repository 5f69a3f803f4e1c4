/** RunStart → the constants the analysis needs (docs/science.md §0), validated with clear errors. */
import { Code, SidecarError } from '../errors.js';
import { decodeTensor } from '../ingest/decodeTensor.js';
import type { RunSetup } from '../analysis/types.js';
import type { RunStart__Output } from '../gen/ntksidecar/v1/RunStart.js';
import type { Tensor__Output } from '../gen/ntksidecar/v1/Tensor.js';
import type { RunLimits } from '../policy/advanceRun.js';

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
    trainSetSize: start.train_set_size,
    labelNoiseSigma: Number.isFinite(start.label_noise_sigma) && start.label_noise_sigma > 0 ? start.label_noise_sigma : 0,
    evalHeldOut: start.eval_probe?.held_out === true,
    sketch: start.sketch && start.sketch.dim > 0 ? { dim: start.sketch.dim, seed: start.sketch.seed } : undefined,
  };
}

/** RunStart's step/compute limits and warm-up (RunState.limits). */
export function runLimitsOf(start: RunStart__Output): RunLimits {
  return { warmupSteps: start.warmup_steps, maxSteps: start.budget?.max_steps ?? 0, maxCompute: start.budget?.max_compute ?? 0 };
}

/**
 * ProbeSet.targets → n×C row-major float64: an n×C tensor as is (regression or one-hot), or n integer class
 * labels turned into one-hot rows. Absent targets → undefined (alignment and residuals are then not computed).
 */
export function decodeTargets(start: RunStart__Output, samples: number, outputs: number): Float64Array | undefined {
  return targetsFrom(start.probe?.targets, samples, outputs, 'RunStart.probe.targets');
}

/** RunStart.eval_probe.targets, decoded like the probe's (docs/generalization.md G4). */
export function decodeEvalTargets(start: RunStart__Output, outputs: number): Float64Array | undefined {
  const probe = start.eval_probe;
  if (!probe || probe.num_samples === 0) return undefined;
  const targets = targetsFrom(probe.targets, probe.num_samples, outputs, 'RunStart.eval_probe.targets');
  if (!targets) throw new SidecarError(Code.INVALID_ARGUMENT, `RunStart.eval_probe declares ${probe.num_samples} samples but no targets; send their labels in eval_probe.targets`);
  return targets;
}

function targetsFrom(t: Tensor__Output | null | undefined, samples: number, outputs: number, where: string): Float64Array | undefined {
  if (!t || t.data.byteLength === 0) return undefined;
  if (t.dtype === 'DTYPE_UNSPECIFIED') throw new SidecarError(Code.INVALID_ARGUMENT, `${where} has no dtype; set DTYPE_F32 or DTYPE_F64`);
  const count = t.shape.reduce((a, b) => a * b, 1);
  const values = decodeTensor(t.data, t.dtype, count);
  const shape = `[${t.shape.join(', ')}]`;
  if (count === samples * outputs && (t.shape.length === 2 || outputs === 1)) return Float64Array.from(values);
  if (count === samples && t.shape.length === 1) {
    const onehot = new Float64Array(samples * outputs);
    for (let i = 0; i < samples; i++) {
      const label = values[i];
      if (!Number.isInteger(label) || label < 0 || label >= outputs) {
        throw new SidecarError(Code.INVALID_ARGUMENT, `${where}[${i}] = ${label} is not a class label in [0, ${outputs - 1}]`);
      }
      onehot[i * outputs + label] = 1;
    }
    return onehot;
  }
  throw new SidecarError(Code.INVALID_ARGUMENT, `${where} has shape ${shape}; expected [${samples}, ${outputs}] (values or one-hot) or [${samples}] (class labels)`);
}
