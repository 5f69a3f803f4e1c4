/**
 * What the analysis of one snapshot yields (docs/science.md A5–A13), as plain numbers. The compute worker fills it
 * per snapshot; the stopping policy (A14) reads a run's history of them. Absent = not computable for this
 * snapshot (no kernel, no logits, no loss convention, first snapshot, …), never a made-up value.
 */

import type { GeneralizationReportFields } from './generalization.js';
import type { GeneralizationForecast } from './generalizationForecast.js';

export type LossKind = 'mse' | 'cross_entropy';
export type OptimizerKind = 'sgd' | 'momentum' | 'adam';

/** Run constants the formulas need (from RunStart). */
export interface RunSetup {
  samples: number; // n
  outputs: number; // C
  loss: LossKind | undefined;
  /** c_L of docs/science.md §0 (MSE); 0 = unknown → absolute MSE quantities are refused (docs/science.md E4). */
  lossScale: number;
  optimizer: { kind: OptimizerKind; momentum: number; beta1: number; weightDecay: number };
  /** M, the training-set size (RunStart.train_set_size); 0 = unknown (docs/generalization.md G1). */
  trainSetSize: number;
  /** Declared label-noise σ; 0 = unknown (docs/generalization.md G3). */
  labelNoiseSigma: number;
  /** The evaluation probe is held out (docs/generalization.md G4). */
  evalHeldOut: boolean;
  /** Sketch dimension m and seed when the kernel comes from sketches. */
  sketch?: { dim: number; seed: number };
}

/** A6: drift between kernels. */
export interface DriftDiagnostics {
  distancePrev?: number; // S(K_{t−1}, K_t)
  distanceInit?: number; // S(K_0, K_t)
  velocityPerKstep?: number; // S(K_{t−1},K_t)/(s_t − s_{t−1}) · 1000
  relativeChangeInit?: number; // ‖K_t − K_0‖_F/‖K_0‖_F
  traceRatio?: number; // tr K_t / tr K_{t−1}
  subspaceOverlap?: number; // O_10
  /** (PR+1)/m when sketches are compared (independent-Ω floor, A6/E7); absent for exact kernels. */
  sketchFloor?: number;
  /** false when the pair must not be compared (sketch seed or dim changed, kernel kind changed). */
  comparable: boolean;
}

/** A7 on the traced kernel (full when C = 1). */
export interface AlignmentDiagnostics {
  uncentered: number;
  centered: number;
  /** a_k for k ∈ {1, C, 10, 100} (those ≤ size). */
  curve: Array<{ k: number; value: number }>;
}

/** A8 on the full kernel. */
export interface ResidualDiagnostics {
  /** E_k for k ∈ {1, 5, C, ⌈0.1·N⌉}. */
  topk: Array<{ k: number; fraction: number }>;
  rayleigh: number; // κ_r = rᵀKr/‖r‖²
  residualNorm: number; // ‖r‖
  learnedModes?: number; // n_learned over the last interval
  linearizationGap?: number; // g_lin(t)
}

/** A5. */
export interface StabilityDiagnostics {
  gnSharpness: number;
  threshold: number; // θ_opt
  eosRatio: number; // R_EoS
  preconditioned: boolean; // true when the kernel is Adam-preconditioned K_P
}

/** A9–A12 at this snapshot (the anchor). Steps are network steps. */
export interface PredictionDiagnostics {
  /** kernel_model_valid of A11/A14: R²_time ≥ 0.8 and the kernel model applies. */
  valid: boolean;
  timeScale: number; // â
  timeR2: number; // R²_time (NaN with < 5 points)
  kess: { K1?: number; K2?: number; K3?: number; K4?: number };
  predictedLossAtKess?: number;
  /** L(s_t + H) on the predicted curve, H = 0.2·s_t (A14). */
  lossAtHorizon?: number;
  gain: { perStep?: number; avgRatio?: number; remaining?: number };
  floor?: number; // L_∞
}

export interface SnapshotDiagnostics {
  snapshotId: number;
  step: number;
  trainLoss: number;
  /** Spectrum headline numbers of the kernel used for sharpness and drift. */
  lambdaMax?: number;
  trace?: number;
  participation?: number;
  stability?: StabilityDiagnostics;
  drift?: DriftDiagnostics;
  alignment?: AlignmentDiagnostics;
  residual?: ResidualDiagnostics;
  prediction?: PredictionDiagnostics;
  /** docs/generalization.md G1–G4. */
  generalization?: GeneralizationReportFields;
  /** docs/generalization.md G5: the learning-curve forecast, when the policy's rule reads it. */
  generalizationForecast?: GeneralizationForecast;
}
