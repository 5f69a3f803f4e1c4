/**
 * A short synthetic training run streamed into a real sidecar, so that the per-run series the dashboards and
 * rules query exist on /metrics: a linear model f = J w trained by full-batch gradient descent on MSE (the kernel
 * K = J Jᵀ is frozen, the lazy regime, so every diagnostic of docs/science.md A5–A12 is computable), a shadow-mode run
 * whose step budget latches a would-stop, and one rejected snapshot.
 */
import { NtkSidecarClient, type AttachedRun } from '../../../src/client/ntkSidecarClient.js';
import { mulberry32, normalArray } from '../../../src/random.js';
import { jacobianWithSpectrum, powerLawSpectrum } from '../../support/matrices.js';
import type { RunStart } from '../../../src/gen/ntksidecar/v1/RunStart.js';

/** Policy document for startTestServer: `shadow` is the shadow-mode policy of the README, with a small budget. */
export const SYNTHETIC_POLICY = { policies: { shadow: { enforced: false, maxSteps: 200 } } };

export const SYNTHETIC_LABELS = { job_id: 'deploy-job', cohort: 'deploy-sweep' } as const;
export const LAZY_RUN_ID = 'deploy-lazy';
export const SHADOW_RUN_ID = 'deploy-shadow';

export interface SyntheticRuns {
  client: NtkSidecarClient;
  /** Both runs stay attached (an ended run's series are removed); close() ends them. */
  runs: AttachedRun[];
  /**
   * Trains on so that counters move while Prometheus watches: `accepted` more kernel snapshots of the shadow run
   * (without logits, so the lazy run keeps the latest residual and prediction series), then `rejected` malformed
   * ones on the lazy run.
   */
  more(accepted: number, rejected: number): Promise<void>;
  close(): Promise<void>;
}

const SAMPLES = 32;
const PARAMS = 200;
export const STEPS_PER_SNAPSHOT = 40;
const SNAPSHOTS = 6;
/** Snapshots streamSyntheticRuns sends before it resolves: SNAPSHOTS kernel snapshots per run, and one malformed. */
export const INITIAL_SNAPSHOT_COUNT = 2 * SNAPSHOTS + 1;
const SCALARS_EVERY = 5;

function runStart(runId: string, targets: Float64Array, extra: Partial<RunStart> = {}): RunStart {
  return {
    run_id: runId,
    ...SYNTHETIC_LABELS,
    probe: {
      num_samples: SAMPLES,
      num_outputs: 1,
      sample_ids_hash: 'deploy-probe',
      targets: { dtype: 'DTYPE_F64', shape: [SAMPLES, 1], data: Buffer.from(targets.buffer, targets.byteOffset, targets.byteLength) },
    },
    loss: { kind: 'LOSS_KIND_MSE', scale: 1 / (2 * SAMPLES) },
    optimizer: { kind: 'OPTIMIZER_KIND_SGD' },
    learning_rate: LEARNING_RATE,
    param_count: PARAMS,
    ...extra,
  };
}

// K = J Jᵀ has eigenvalues λ_i = i^−1.2 (λ_1 = 1, a power-law decay like a real network's). Mode i decays by
// 1 − 2·c_L·η·λ_i = 1 − η·λ_i/N per step: 0.75 for the top mode (stable; EoS ratio 1/8), 0.996 for the last, so
// the loss still falls, ever more slowly, at the end of the run.
const LEARNING_RATE = 8;

/** Full-batch GD on L = c_L‖Jw − y‖² for a linear model f = J w, from w = 0. */
class LinearModel {
  readonly cL = 1 / (2 * SAMPLES);
  readonly w = new Float64Array(PARAMS);
  readonly f = new Float64Array(SAMPLES);
  step = 0;

  constructor(
    readonly j: Float64Array,
    readonly targets: Float64Array,
  ) {}

  loss(): number {
    let s = 0;
    for (let i = 0; i < SAMPLES; i++) s += (this.f[i] - this.targets[i]) ** 2;
    return this.cL * s;
  }

  /** One step: w ← w − η·2c_L·Jᵀ(Jw − y), then f = J w. */
  train(): void {
    const { j, w, f, targets } = this;
    for (let p = 0; p < PARAMS; p++) {
      let g = 0;
      for (let i = 0; i < SAMPLES; i++) g += j[i * PARAMS + p] * (f[i] - targets[i]);
      w[p] -= LEARNING_RATE * 2 * this.cL * g;
    }
    for (let i = 0; i < SAMPLES; i++) {
      let s = 0;
      for (let p = 0; p < PARAMS; p++) s += j[i * PARAMS + p] * w[p];
      f[i] = s;
    }
    this.step++;
  }
}

/** Streams the runs; resolves once every snapshot is acknowledged. */
export async function streamSyntheticRuns(grpcTarget: string): Promise<SyntheticRuns> {
  const rng = mulberry32(2024);
  const model = new LinearModel(jacobianWithSpectrum(powerLawSpectrum(SAMPLES, 1.2), PARAMS, rng), Float64Array.from(normalArray(rng, SAMPLES)));
  const client = new NtkSidecarClient(grpcTarget);
  const lazy = client.attach(runStart(LAZY_RUN_ID, model.targets));
  const shadow = client.attach(runStart(SHADOW_RUN_ID, model.targets, { policy: 'shadow' }));
  const runs = [lazy, shadow];
  let snapshotId = 0;

  /** Trains STEPS_PER_SNAPSHOT steps (with scalars in between) and sends a kernel snapshot to `to`. */
  const trainAndSnapshot = async (to: AttachedRun[], withLogits: boolean) => {
    for (let k = 0; k < STEPS_PER_SNAPSHOT; k++) {
      model.train();
      if (model.step % SCALARS_EVERY === 0 && k !== STEPS_PER_SNAPSHOT - 1) {
        for (const run of to) await run.sendScalars({ step: model.step, train_loss: model.loss(), learning_rate: LEARNING_RATE });
      }
    }
    const id = ++snapshotId;
    const snapshot = {
      id,
      step: model.step,
      trainLoss: model.loss(),
      learningRate: LEARNING_RATE,
      computeSpent: model.step * 6 * PARAMS * SAMPLES,
      tensors: [
        { kind: 'TENSOR_KIND_JACOBIAN' as const, rows: SAMPLES, cols: PARAMS, data: model.j },
        ...(withLogits ? [{ kind: 'TENSOR_KIND_LOGITS' as const, rows: SAMPLES, cols: 1, data: Float64Array.from(model.f) }] : []),
      ],
    };
    for (const run of to) {
      const res = await run.sendSnapshot(snapshot);
      if (!res.ack.accepted) throw new Error(`synthetic snapshot ${id} rejected: ${res.ack.message}`);
    }
  };
  /** Logits with C = 3 against a C = 1 probe: rejected alone, the stream goes on. */
  const sendMalformed = async () => {
    const bad = await lazy.sendSnapshot({ id: ++snapshotId, step: model.step, trainLoss: model.loss(), tensors: [{ kind: 'TENSOR_KIND_LOGITS', rows: SAMPLES, cols: 3, data: new Float64Array(SAMPLES * 3) }] });
    if (bad.ack.accepted) throw new Error('the malformed synthetic snapshot was accepted');
  };

  try {
    for (const run of runs) await run.accepted;
    for (let snap = 1; snap <= SNAPSHOTS; snap++) await trainAndSnapshot(runs, true);
    await sendMalformed();
  } catch (err) {
    for (const run of runs) run.cancel();
    client.close();
    throw err;
  }
  return {
    client,
    runs,
    async more(accepted: number, rejected: number) {
      for (let i = 0; i < accepted; i++) await trainAndSnapshot([shadow], false);
      for (let i = 0; i < rejected; i++) await sendMalformed();
    },
    async close() {
      for (const run of runs) await run.finish().catch(() => run.cancel());
      client.close();
    },
  };
}
