import { describe, expect, it } from 'vitest';
import { initialDetectorState, updateDetectors, type DetectorFlags, type LossPoint } from '../../src/analysis/detectors.js';
import type { DriftDiagnostics, SnapshotDiagnostics } from '../../src/analysis/types.js';
import { simulateUv, uvInit } from '../support/uvModel.js';
import { decide } from '../../src/policy/decide.js';
import type { Verdict } from '../../src/policy/verdict.js';
import { DEFAULT_POLICY, type Policy } from '../../src/policy/policy.js';
import { evaluateStopping, stopVotesOf } from '../../src/policy/stopping.js';
import type { ObservedKess } from '../../src/analysis/observedKess.js';

const quietDrift: DriftDiagnostics = { distancePrev: 0, distanceInit: 0, velocityPerKstep: 0, traceRatio: 1, subspaceOverlap: 1, comparable: true };

/** An observed-curve estimator that always says "past KESS, nothing left to gain": only the guards can stop a STOP. */
const wouldStop: ObservedKess = (losses) => {
  const now = losses[losses.length - 1].loss;
  return { kessStep: 0, lossNow: now, lossAtHorizon: now };
};

/**
 * A small honest estimator for logits-only tests: K2 on the raw points (central differences, s_0 = first point) and a
 * local power law through the last two points for L(s_t + H).
 */
const observedK2: ObservedKess = (losses, { horizon, rho }) => {
  const pts = losses.filter((p) => Number.isFinite(p.loss));
  const first = pts[0];
  const last = pts[pts.length - 1];
  let kessStep: number | undefined;
  for (let j = 1; j < pts.length - 1; j++) {
    const g = (pts[j - 1].loss - pts[j + 1].loss) / (pts[j + 1].step - pts[j - 1].step);
    if (g * (pts[j].step - first.step) <= rho * (first.loss - pts[j].loss)) { kessStep = pts[j].step; break; }
  }
  const prev = pts[pts.length - 2];
  const b = Math.log(prev.loss / last.loss) / Math.log((last.step + 1) / (prev.step + 1));
  return { kessStep, lossNow: last.loss, lossAtHorizon: last.loss * ((last.step + 1) / (last.step + 1 + horizon)) ** b };
};

interface Point { step: number; verdict: Verdict; flags: DetectorFlags }

/** Runs detectors and decide() snapshot by snapshot, as the server will. Kernel runs put every snapshot in history. */
function run(snaps: SnapshotDiagnostics[], opts: { policy?: Policy; observedKess?: ObservedKess; logitsOnly?: boolean } = {}): Point[] {
  const policy = opts.policy ?? DEFAULT_POLICY;
  let state = initialDetectorState();
  let previous: Verdict | undefined;
  const history: SnapshotDiagnostics[] = [];
  const losses: LossPoint[] = [];
  const out: Point[] = [];
  snaps.forEach((d, i) => {
    if (!opts.logitsOnly) history.push(d);
    losses.push({ step: d.step, loss: d.trainLoss });
    const r = updateDetectors(state, { history, losses }, policy.stopping);
    state = r.state;
    previous = decide({
      step: d.step, computeSpent: 0, trainLoss: d.trainLoss, dataFinite: true, snapshots: i + 1, kernelSnapshots: history.length,
      run: { warmupSteps: 0, maxSteps: 0, maxCompute: 0 },
      analysis: { history, flags: r.flags, losses, observedKess: opts.observedKess ?? wouldStop },
    }, policy, previous);
    out.push({ step: d.step, verdict: previous, flags: r.flags });
  });
  return out;
}

// Example A of docs/science.md C6/C7: K = diag(100, 10, 0.1), N = 3, c_L = 1/6, η = 0.015, f_0 = 0, y = 1 (a linear model).
const RATES = [0.5, 0.05, 0.0005]; // ηλ_i/N
const lossA = (s: number) => RATES.reduce((acc, r) => acc + (1 - r) ** (2 * s), 0) / 6;
const K2_A = 28.0763; // C7 oracle, used as the prediction module's output

/** Lazy kernel-regime history: frozen kernel (velocity 0, C5), g_lin = 0, valid prediction with K2 = 28.08. */
function lazyRun(steps: number[], over: (s: number, i: number) => Partial<SnapshotDiagnostics> = () => ({})): SnapshotDiagnostics[] {
  return steps.map((s, i) => ({
    snapshotId: i, step: s, trainLoss: lossA(s), lambdaMax: 100, trace: 110.1,
    stability: { gnSharpness: 100 / 3, threshold: 2 / 0.015, eosRatio: 0.25, preconditioned: false },
    drift: i === 0 ? undefined : quietDrift,
    residual: { topk: [], rayleigh: 1, residualNorm: 1, linearizationGap: i === 0 ? undefined : 0 },
    prediction: {
      valid: true, timeScale: 1, timeR2: 0.999, kess: { K2: K2_A },
      lossAtHorizon: lossA(1.2 * s), gain: { perStep: (lossA(s) - lossA(s + 1)) },
    },
    ...over(s, i),
  }));
}
const every5 = Array.from({ length: 21 }, (_, i) => 5 * i);

describe('A14 chain on a lazy kernel-regime run', () => {
  it('never stops before K2 and stops on the second snapshot with s ≥ s* and horizon gain < δ_H', () => {
    const points = run(lazyRun(every5));
    const gain = (s: number) => (lossA(s) - lossA(1.2 * s)) / lossA(s);
    const firstVote = every5.find((s) => s >= K2_A && gain(s) < 0.02)!;
    const stopAt = every5[every5.indexOf(firstVote) + 1];
    expect(firstVote).toBe(40); // gain(30) = 2.7%, gain(35) = 2.1%, gain(40) = 1.7% (closed form above)
    for (const p of points) {
      if (p.step < K2_A) expect(p.verdict.action, `step ${p.step}`).toBe('ACTION_CONTINUE');
      if (p.step < stopAt) expect(p.verdict.action).toBe('ACTION_CONTINUE');
      else expect(p.verdict).toMatchObject({ action: 'ACTION_STOP', reason: 'REASON_KESS_REACHED' });
    }
    const at = (s: number) => points.find((p) => p.step === s)!.verdict;
    expect(at(5).reason).toBe('REASON_WARMUP'); // 2 snapshots < minSnapshots 3
    expect(at(10).reason).toBe('REASON_FEATURE_LEARNING'); // first kernel unmeasured: only 2 quiet snapshots so far
    expect(at(25)).toMatchObject({ reason: 'REASON_BEFORE_KESS', evidence: { kess_step: K2_A, predicted_curve: 1 } });
    expect(at(35).reason).toBe('REASON_LARGE_PREDICTED_GAIN');
    expect(at(35).evidence.horizon_gain).toBeCloseTo(gain(35), 12);
    expect(at(40)).toMatchObject({ reason: 'REASON_STOP_PENDING', evidence: { stop_votes: 1 } });
    expect(at(45).evidence).toMatchObject({ stop_votes: 2, would_stop_step: 45, kess_step: K2_A });
    expect(at(45).detail).toMatch(/K2 step 28\.08 on the kernel-predicted curve/);
    expect(at(100)).toBe(at(45)); // latched
    expect(points.at(-1)!.flags.regime).toBe('lazy');
  });

  it('shadow mode gives the same verdicts, with the would-stop step', () => {
    const shadow = run(lazyRun(every5), { policy: { ...DEFAULT_POLICY, enforced: false } }).map((p) => p.verdict);
    expect(shadow).toEqual(run(lazyRun(every5)).map((p) => p.verdict));
    expect(shadow.at(-1)!.evidence.would_stop_step).toBe(45);
  });

  it('hysteresis: one vote is STOP_PENDING, a CONTINUE in between resets the count', () => {
    // R_EoS jumps above 1.1 at step 45 only: the vote from step 40 is lost and voting restarts at 50.
    const points = run(lazyRun(every5, (s) => (s === 45 ? { stability: { gnSharpness: 1, threshold: 1, eosRatio: 1.2, preconditioned: false } } : {})));
    const at = (s: number) => points.find((p) => p.step === s)!.verdict;
    expect(at(40)).toMatchObject({ reason: 'REASON_STOP_PENDING', evidence: { stop_votes: 1 } });
    expect(at(45)).toMatchObject({ action: 'ACTION_CONTINUE', reason: 'REASON_UNSTABLE', evidence: { eos_ratio: 1.2 } });
    expect(at(45).detail).toMatch(/R_EoS = 1\.2 > 1\.1/);
    expect(at(50)).toMatchObject({ reason: 'REASON_STOP_PENDING', evidence: { stop_votes: 1 } });
    expect(at(55)).toMatchObject({ action: 'ACTION_STOP', reason: 'REASON_KESS_REACHED', evidence: { would_stop_step: 55 } });
    expect(stopVotesOf(at(50))).toBe(1);
    expect(stopVotesOf(at(45))).toBe(0);
    // More votes when the policy asks for them.
    const three = run(lazyRun(every5), { policy: { ...DEFAULT_POLICY, stopping: { ...DEFAULT_POLICY.stopping, stopVotes: 3 } } });
    expect(three.find((p) => p.verdict.action === 'ACTION_STOP')!.step).toBe(50);
  });

  it('falls back to the observed curve when the prediction is not trusted (EoS, g_lin > 0.3, low R²_time)', () => {
    const seen: number[] = [];
    const farKess: ObservedKess = (losses, at) => {
      seen.push(at.step);
      expect(at).toMatchObject({ horizon: 0.2 * at.step, rho: 0.1 });
      return { kessStep: 1e9, lossNow: losses[losses.length - 1].loss };
    };
    const gap = run(lazyRun(every5, () => ({ residual: { topk: [], rayleigh: 1, residualNorm: 1, linearizationGap: 0.4 } })), { observedKess: farKess });
    const last = gap.at(-1)!.verdict;
    expect(last).toMatchObject({ reason: 'REASON_BEFORE_KESS', evidence: { predicted_curve: 0, kess_step: 1e9 } });
    expect(last.detail).toMatch(/observed curve \(g_lin 0\.4 > 0\.3\)/);
    expect(seen).toContain(100);

    const r2 = run(lazyRun(every5, (s) => ({ prediction: { valid: true, timeScale: 1, timeR2: 0.5, kess: { K2: K2_A }, lossAtHorizon: lossA(1.2 * s), gain: {} } })), { observedKess: farKess });
    expect(r2.at(-1)!.verdict.detail).toMatch(/R²_time 0\.5 < 0\.8/);

    // Edge of stability: R_EoS in [0.9, 1.1] for 3 snapshots with a non-monotone loss.
    const eos = run(lazyRun(every5, (s, i) => ({
      trainLoss: lossA(s) * (i % 2 ? 1.01 : 0.99),
      stability: { gnSharpness: 1, threshold: 1, eosRatio: 1.0, preconditioned: false },
    })), { observedKess: farKess });
    expect(eos.at(-1)!.flags.edgeOfStability).toBe(true);
    expect(eos.at(-1)!.verdict.detail).toMatch(/observed curve \(edge of stability\)/);
  });

  it('decides on a valid prediction whose R²_time is not measured yet (NaN: the A11 default scale), issue 11', () => {
    // Snapshots every step leave < 5 losses after each anchor, so â is the default and R²_time NaN; the prediction
    // module marks it valid (η_eff known). The old gate `!(R² ≥ 0.8)` sent it to the observed curve, which here would
    // never stop (farKess).
    const farKess: ObservedKess = (losses) => ({ kessStep: 1e9, lossNow: losses[losses.length - 1].loss });
    const nan = run(lazyRun(every5, (s) => ({ prediction: { valid: true, timeScale: 1, timeR2: NaN, kess: { K2: K2_A }, lossAtHorizon: lossA(1.2 * s), gain: {} } })), { observedKess: farKess });
    expect(nan.find((p) => p.verdict.action === 'ACTION_STOP')!.step).toBe(45);
    expect(nan.find((p) => p.step === 25)!.verdict.evidence).toMatchObject({ predicted_curve: 1 });
    // A prediction marked invalid still falls back, NaN or not.
    const invalid = run(lazyRun(every5, () => ({ prediction: { valid: false, timeScale: 1, timeR2: NaN, kess: { K2: K2_A }, gain: {} } })), { observedKess: farKess });
    expect(invalid.at(-1)!.verdict).toMatchObject({ reason: 'REASON_BEFORE_KESS', evidence: { predicted_curve: 0 } });
  });

  it('never votes STOP on an observed curve flagged diverging (issue 11 item 4)', () => {
    // Invalid kernel prediction (a diverging one reports valid = false and no KESS), and a rising observed loss.
    const rising: ObservedKess = (losses) => ({ lossNow: losses[losses.length - 1].loss, diverging: true, kessStep: 0, lossAtHorizon: 0 });
    const points = run(lazyRun(every5, () => ({ prediction: { valid: false, timeScale: 1, timeR2: NaN, kess: {}, gain: {} } })), { observedKess: rising });
    expect(points.every((p) => p.verdict.action === 'ACTION_CONTINUE')).toBe(true);
    const last = points.at(-1)!.verdict;
    expect(last).toMatchObject({ reason: 'REASON_BEFORE_KESS', evidence: { predicted_curve: 0 } });
    expect(last.evidence.kess_step).toBeUndefined();
    expect(last.detail).toMatch(/kernel model marked invalid; observed loss rising, no sweet spot/);
  });

  it('keeps going while the gain per step is above the price', () => {
    // g(40) ≈ 4.3e-4 per step (fast mode still decaying); the slow mode alone gives ≈ 1.6e-4.
    const price = 2e-4;
    const priced = { ...DEFAULT_POLICY, stopping: { ...DEFAULT_POLICY.stopping, price } };
    const points = run(lazyRun(every5), { policy: priced });
    const at40 = points.find((p) => p.step === 40)!.verdict;
    expect(at40).toMatchObject({ reason: 'REASON_LARGE_PREDICTED_GAIN', evidence: { price } });
    expect(at40.evidence.gain_per_step).toBeCloseTo(lossA(40) - lossA(41), 15);
    expect(at40.detail).toMatch(/above the price 2\.000e-4/);
    // Once g ≤ p (horizon gain still < δ_H there), the usual two votes.
    const firstCheap = every5.find((s) => s >= 40 && lossA(s) - lossA(s + 1) <= price)!;
    expect(firstCheap).toBeLessThan(95);
    expect((lossA(firstCheap) - lossA(1.2 * firstCheap)) / lossA(firstCheap)).toBeLessThan(0.02);
    expect(points.find((p) => p.verdict.action === 'ACTION_STOP')?.step).toBe(firstCheap + 5);
  });
});

describe('A14 guards', () => {
  it('the uv catapult gives REASON_CATAPULT and no STOP during the spike', () => {
    const m = 1000;
    const tr = simulateUv(uvInit(m, 0), m, 2.5, 80);
    const snaps: SnapshotDiagnostics[] = [];
    for (let t = 0; t <= 80; t++) {
      snaps.push({
        snapshotId: t, step: t, trainLoss: tr.loss[t], lambdaMax: tr.lambda[t], trace: tr.lambda[t],
        stability: { gnSharpness: tr.lambda[t], threshold: 2 / tr.eta, eosRatio: (tr.eta * tr.lambda[t]) / 2, preconditioned: false },
        drift: t === 0 ? undefined : { ...quietDrift, traceRatio: tr.lambda[t] / tr.lambda[t - 1] },
      });
    }
    const points = run(snaps); // the observed estimator would stop at once: only the guards hold the run
    const inSpike = points.filter((p) => p.flags.catapultInProgress && p.step >= 2);
    expect(inSpike.length).toBeGreaterThan(5);
    for (const p of inSpike) expect(p.verdict).toMatchObject({ action: 'ACTION_CONTINUE', reason: 'REASON_CATAPULT' });
    expect(inSpike[0].verdict.detail).toMatch(/Catapult in progress since step 1/);
    const end = points.findIndex((p, i) => i > 2 && !p.flags.catapultInProgress);
    expect(points.slice(0, end).every((p) => p.verdict.action === 'ACTION_CONTINUE')).toBe(true);
    expect(points.at(-1)!.flags.catapultEvents).toBe(1);
    // After the catapult (λ now below 2/η) nothing holds the run: two votes and STOP.
    expect(points[end + 1].verdict).toMatchObject({ action: 'ACTION_STOP', reason: 'REASON_KESS_REACHED' });
  });

  it('a staircase plateau with a moving kernel gives LOADED_PLATEAU, never STOP, then FEATURE_LEARNING after the drop', () => {
    // Loss 1 → 0.5 over 5 snapshots, flat at 0.5 for 15, then the next stair; the kernel moves throughout.
    const loss = (i: number) => (i < 5 ? 1 - 0.1 * i : i < 20 ? 0.5 - 1e-4 * (i - 5) : 0.5 * 0.8 ** (i - 19));
    const moving = { ...quietDrift, distancePrev: 0.05, velocityPerKstep: 5, distanceInit: 0.3 };
    const snaps: SnapshotDiagnostics[] = Array.from({ length: 26 }, (_, i) => ({
      snapshotId: i, step: 10 * i, trainLoss: loss(i), lambdaMax: 10, drift: i === 0 ? undefined : moving,
    }));
    const points = run(snaps);
    expect(points.some((p) => p.verdict.action === 'ACTION_STOP')).toBe(false);
    const plateau = points.filter((p) => p.flags.plateau);
    expect(plateau.length).toBeGreaterThan(8);
    for (const p of plateau) expect(p.verdict.reason).toBe('REASON_LOADED_PLATEAU');
    expect(plateau[0].verdict.detail).toMatch(/Loaded plateau: .*distance 0\.05/);
    expect(points.at(-1)!.verdict.reason).toBe('REASON_FEATURE_LEARNING');
    expect(points.at(-1)!.flags.regime).toBe('rich');
    // Kernel moving until step 90, then quiet by distance/velocity; only tr K growth (> 5%/interval) holds the plateau.
    const quietFrom10 = (ratio: number) => run(snaps.map((d, i) => ({ ...d, drift: i === 0 ? undefined : i < 10 ? moving : { ...quietDrift, traceRatio: ratio } })));
    const growing = quietFrom10(1.08).filter((p) => p.step >= 130 && p.step < 200);
    for (const p of growing) {
      expect(p.flags).toMatchObject({ plateau: true, kernelMoving: false, kernelMovingRecently: false });
      expect(p.verdict).toMatchObject({ reason: 'REASON_LOADED_PLATEAU', evidence: { trace_growth: expect.closeTo(0.08, 12) } });
    }
    // Control: the same plateau without trace growth is stoppable (by the always-stop estimator).
    expect(quietFrom10(1.0).find((p) => p.verdict.action === 'ACTION_STOP')!.step).toBe(130);
  });

  it('holds FEATURE_LEARNING while the kernel moved in any of the last M snapshots', () => {
    // K2 at 48 and no horizon gain: the run would vote from 50 on, but O_10 = 0.8 at step 50 holds 50, 55, 60.
    const late = run(lazyRun(every5, (s) => ({
      ...(s === 50 ? { drift: { ...quietDrift, subspaceOverlap: 0.8 } } : {}),
      prediction: { valid: true, timeScale: 1, timeR2: 0.999, kess: { K2: 48 }, lossAtHorizon: lossA(s), gain: {} },
    })));
    const v = (s: number) => late.find((p) => p.step === s)!.verdict;
    expect(v(50)).toMatchObject({ reason: 'REASON_FEATURE_LEARNING', evidence: { overlap: 0.8 } });
    expect(v(55).reason).toBe('REASON_FEATURE_LEARNING');
    expect(v(60).reason).toBe('REASON_FEATURE_LEARNING');
    expect(v(65)).toMatchObject({ reason: 'REASON_STOP_PENDING' });
    expect(v(70)).toMatchObject({ action: 'ACTION_STOP', reason: 'REASON_KESS_REACHED' });
  });

  it('a NaN loss is DIVERGED even with the analysis attached', () => {
    const snaps = lazyRun(every5.slice(0, 6));
    snaps[5] = { ...snaps[5], trainLoss: Number.NaN };
    const points = run(snaps);
    expect(points[5].verdict).toMatchObject({ action: 'ACTION_STOP', reason: 'REASON_DIVERGED', evidence: { would_stop_step: 25 } });
  });

  it('evaluateStopping refuses to stop without a horizon loss', () => {
    const flags = run(lazyRun(every5)).at(-1)!.flags;
    const v = evaluateStopping({
      step: 100, history: lazyRun([100], () => ({ prediction: undefined })), flags, losses: [{ step: 100, loss: 1 }],
      observedKess: () => ({ kessStep: 10, lossNow: 1 }), votes: 1,
    });
    expect(v).toMatchObject({ action: 'ACTION_CONTINUE', reason: 'REASON_LARGE_PREDICTED_GAIN' });
    expect(v.detail).toMatch(/no loss at the horizon/);
  });
});

describe('logits-only mode (docs/science.md B)', () => {
  const logits = (losses: number[], every = 10): SnapshotDiagnostics[] =>
    losses.map((l, i) => ({ snapshotId: i, step: every * (i + 1), trainLoss: l }));

  it('never stops while the loss keeps falling with a large horizon gain', () => {
    const losses = Array.from({ length: 60 }, (_, i) => (10 * (i + 1) + 1) ** -0.5); // K2 at s* = 33.3 (A12)
    const points = run(logits(losses), { logitsOnly: true, observedKess: observedK2 });
    expect(points.some((p) => p.verdict.action === 'ACTION_STOP' || p.verdict.reason === 'REASON_STOP_PENDING')).toBe(false);
    const tail = points.at(-1)!.verdict;
    // 1 − 1.2^{−1/2} = 8.7% over H = 0.2·s: past K2 but a large gain.
    expect(tail.reason).toBe('REASON_LARGE_PREDICTED_GAIN');
    expect(tail.evidence.horizon_gain).toBeCloseTo(1 - (601 / 721) ** 0.5, 6);
  });

  it('never stops on a plateau (it could be a loaded one)', () => {
    const losses = Array.from({ length: 20 }, (_, i) => 0.35 - 1e-4 * i);
    const points = run(logits(losses), { logitsOnly: true }); // the estimator alone would stop at once
    expect(points.some((p) => p.verdict.action === 'ACTION_STOP')).toBe(false);
    expect(points[2].verdict.reason).toBe('REASON_COLLECTING'); // < 5 points: "still decreasing" not established
    // Control: falling 2% per point, the same estimator stops after two votes.
    const falling = run(logits(losses.map((_, i) => 0.98 ** i)), { logitsOnly: true });
    expect(falling.find((p) => p.verdict.action === 'ACTION_STOP')!.step).toBe(60); // vote at the 5th point (step 50), STOP at 60
    expect(points.at(-1)!.verdict).toMatchObject({ reason: 'REASON_LOADED_PLATEAU' });
    expect(points.at(-1)!.verdict.detail).toMatch(/no kernel/);
  });

  it('stops after the patience votes when the loss still falls but the horizon gain is small', () => {
    // Logged every 100 steps: 5 points span 400 steps (−2%, no plateau) while the estimator sees 1% over H.
    const losses = Array.from({ length: 12 }, (_, i) => 0.995 ** i);
    const small: ObservedKess = (ls) => ({ kessStep: 200, lossNow: ls[ls.length - 1].loss, lossAtHorizon: 0.99 * ls[ls.length - 1].loss });
    const points = run(logits(losses, 100), { logitsOnly: true, observedKess: small });
    const firstStop = points.findIndex((p) => p.verdict.action === 'ACTION_STOP');
    expect(points[firstStop - 1].verdict).toMatchObject({ reason: 'REASON_STOP_PENDING', evidence: { votes_needed: 2 } });
    expect(points[firstStop].flags.plateau).toBe(false);
    const patient = { ...DEFAULT_POLICY, stopping: { ...DEFAULT_POLICY.stopping, logitsPatience: 4 } };
    const later = run(logits(losses, 100), { logitsOnly: true, observedKess: small, policy: patient });
    expect(later.findIndex((p) => p.verdict.action === 'ACTION_STOP')).toBe(firstStop + 2);
  });

  it('holds a logits-only spike as a catapult until the loss recovers', () => {
    const losses = [1, 0.9, 0.8, 0.7, 0.65, 2.0, 1.2, 0.9, 0.7, 0.69, 0.68];
    const points = run(logits(losses), { logitsOnly: true });
    expect(points[5].verdict).toMatchObject({ reason: 'REASON_CATAPULT', evidence: { catapult_onset_step: 60, pre_spike_min: 0.65 } });
    expect(points[7].verdict.reason).toBe('REASON_CATAPULT'); // 0.9 > 1.1·0.65
    expect(points[8].flags.catapultInProgress).toBe(false); // 0.7 ≤ 0.715
  });
});
