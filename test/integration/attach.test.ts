/**
 * Complete runs against the real server on 127.0.0.1:0 with the TypeScript client: every tensor kind, both
 * reductions, decisions on the stream, CheckStop/GetRun/ListRuns/EndRun, and /metrics series.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NtkSidecarClient } from '../../src/client/ntkSidecarClient.js';
import { mulberry32 } from '../../src/random.js';
import { eighSymmetric } from '../../src/spectrum/eigh.js';
import { gramWithSpectrum, jacobianWithSpectrum, powerLawSpectrum, tracedGramOf } from '../support/matrices.js';
import { startTestServer, type TestServer } from '../support/startTestServer.js';
import type { RunStart } from '../../src/gen/ntksidecar/v1/RunStart.js';

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

function runStart(runId: string, samples: number, outputs: number, extra: Partial<RunStart> = {}): RunStart {
  return {
    run_id: runId,
    job_id: 'job-a',
    cohort: 'sweep-1',
    probe: { num_samples: samples, num_outputs: outputs, sample_ids_hash: 'probe-v1' },
    loss: { kind: 'LOSS_KIND_MSE', scale: 1 / (2 * samples * outputs) },
    optimizer: { kind: 'OPTIMIZER_KIND_SGD' },
    learning_rate: 0.1,
    ...extra,
  };
}

async function metricsText(): Promise<string> {
  const res = await fetch(server.metricsUrl);
  expect(res.status).toBe(200);
  return res.text();
}

/** Relative error of each top eigenvalue against λ_1 (the scale float32 transport errors live on). */
function maxRelativeToTop(got: number[], want: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]) / want[0]);
  return worst;
}

describe('Attach: complete runs', () => {
  it('streams a float32 Jacobian in column blocks and reports its spectrum, decisions and metrics', async () => {
    const samples = 48;
    const outputs = 1;
    const params = 6000;
    const lambda = powerLawSpectrum(samples, 1.5);
    const j = jacobianWithSpectrum(lambda, params, mulberry32(7));
    const run = client.attach(runStart('jac-f32', samples, outputs));
    const accepted = await run.accepted;
    expect(accepted.run_id).toBe('jac-f32');
    expect(accepted.backend).toBe('reference');
    expect(accepted.max_rows).toBeGreaterThan(0);

    const reasons: string[] = [];
    for (let s = 1; s <= 3; s++) {
      // 64 KiB chunks force many column blocks (48 rows × 341 columns each).
      const res = await run.sendSnapshot({ id: s, step: 100 * s, trainLoss: 1 / s, chunkBytes: 64 * 1024, tensors: [{ kind: 'TENSOR_KIND_JACOBIAN', rows: samples, cols: params, data: Float32Array.from(j) }] });
      expect(res.ack).toMatchObject({ snapshot_id: s, accepted: true, code: 0 });
      expect(res.decision).toMatchObject({ run_id: 'jac-f32', snapshot_id: s, step: 100 * s, action: 'ACTION_CONTINUE', enforced: true });
      reasons.push(res.decision!.reason);
    }
    // Warm-up until the policy's 3rd snapshot; then the A14 chain. The kernel is identical every time, but
    // "frozen" needs 3 consecutive quiet intervals (docs/science.md A6) and only 2 exist, so it is still feature learning.
    expect(reasons).toEqual(['REASON_WARMUP', 'REASON_WARMUP', 'REASON_FEATURE_LEARNING']);

    const report = await client.getRun('jac-f32');
    expect(report.snapshots_accepted).toBe(3);
    expect(report.latest!.spectra).toHaveLength(1); // C = 1: the traced kernel is the full one
    const full = report.latest!.spectra[0];
    expect(full.kernel).toBe('full');
    expect(full.size).toBe(samples);
    // float32 transport of J: entries carry relative error ~6e-8, so K's eigenvalues move by ≲ 1e-6·λ_1.
    expect(maxRelativeToTop(full.eigenvalues, lambda)).toBeLessThan(1e-5);
    expect(full.eigenvalues_normalized[0]).toBeCloseTo(full.eigenvalues[0] / samples, 12);
    expect(full.trace).toBeCloseTo(lambda.reduce((a, b) => a + b, 0), 4);

    const text = await metricsText();
    const top = /ntk_sidecar_ntk_eigenvalue\{run_id="jac-f32",job_id="job-a",cohort="sweep-1",kernel="full",rank="1"\} (\S+)/.exec(text);
    expect(Math.abs(Number(top?.[1]) - lambda[0])).toBeLessThan(1e-5 * lambda[0]);
    expect(text).toMatch(/ntk_sidecar_ntk_lambda_max\{run_id="jac-f32"[^}]*\} /);
    expect(text).toMatch(/ntk_sidecar_compute_backend_info\{backend="reference"\} 1/);
    expect(text).toMatch(/ntk_sidecar_build_info\{version="\d+\.\d+\.\d+",node_version="v\d+/);
    expect(text).toMatch(/ntk_sidecar_snapshots_total\{outcome="accepted",code="OK"\} [1-9]/);
    expect(text).toMatch(/ntk_sidecar_decision\{run_id="jac-f32",job_id="job-a",cohort="sweep-1",enforced="true"\} 0/);
    expect(text).not.toMatch(/\b(job|instance)="/); // reserved Prometheus label names are never used

    const byRun = await client.checkStop({ runId: 'jac-f32' });
    expect(byRun).toMatchObject({ snapshot_id: 3, reason: 'REASON_FEATURE_LEARNING' });
    const byJob = await client.checkStop({ jobId: 'job-a' });
    expect(byJob.job_id).toBe('job-a');

    const status = await run.finish();
    expect(status.code).toBe(0);
    const ended = await client.getRun('jac-f32');
    expect(ended.state).toBe('ended');
    expect(ended.status).toBe('RUN_STATUS_COMPLETED');
    // Series of an ended run are removed (docs/design.md §5).
    expect(await metricsText()).not.toContain('run_id="jac-f32"');
  });

  it('reduces a C > 1 Jacobian with TRACE and exports both kernels under FULL', async () => {
    const samples = 12;
    const outputs = 3;
    const params = 800;
    const rng = mulberry32(11);
    const j = jacobianWithSpectrum(powerLawSpectrum(samples * outputs, 1), params, rng);
    const traced = tracedGramOf(j, samples, outputs, params);
    const want = eighSymmetric(traced, samples).values;

    const run = client.attach(runStart('jac-trace', samples, outputs));
    const t = await run.sendSnapshot({ id: 1, step: 10, trainLoss: 0.5, reduction: 'trace', tensors: [{ kind: 'TENSOR_KIND_JACOBIAN', rows: samples * outputs, cols: params, data: j }] });
    expect(t.ack.accepted).toBe(true);
    let report = await client.getRun('jac-trace');
    expect(report.latest!.spectra.map((s) => s.kernel)).toEqual(['traced']);
    expect(maxRelativeToTop(report.latest!.spectra[0].eigenvalues, want)).toBeLessThan(1e-12); // float64 end to end

    const f = await run.sendSnapshot({ id: 2, step: 20, trainLoss: 0.4, reduction: 'full', tensors: [{ kind: 'TENSOR_KIND_JACOBIAN', rows: samples * outputs, cols: params, data: j }] });
    expect(f.ack.accepted).toBe(true);
    report = await client.getRun('jac-trace');
    const kinds = report.latest!.spectra.map((s) => s.kernel);
    expect(kinds).toEqual(['full', 'traced']);
    expect(report.latest!.spectra[0].size).toBe(samples * outputs);
    expect(maxRelativeToTop(report.latest!.spectra[1].eigenvalues, want)).toBeLessThan(1e-12);
    await run.finish();
  });

  it('accepts sketches, Gram row blocks and logits', async () => {
    const samples = 40;
    const lambda = powerLawSpectrum(samples, 2);
    const gram = gramWithSpectrum(lambda, mulberry32(3));
    const sketch = jacobianWithSpectrum(lambda, 256, mulberry32(5));
    const logits = Float32Array.from({ length: samples * 4 }, (_, i) => Math.sin(i));
    const run = client.attach(runStart('mixed', samples, 1, { sketch: { kind: 'SKETCH_KIND_GAUSSIAN', dim: 256, seed: 42 } }));

    // Gram rows in 7-row blocks (the last one short) in float64.
    const g = await run.sendSnapshot({ id: 1, step: 1, trainLoss: 1, chunkBytes: 7 * samples * 8, tensors: [{ kind: 'TENSOR_KIND_GRAM', rows: samples, cols: samples, data: gram }] });
    expect(g.ack.accepted).toBe(true);
    let spectrum = (await client.getRun('mixed')).latest!.spectra[0];
    expect(maxRelativeToTop(spectrum.eigenvalues, lambda)).toBeLessThan(1e-12);

    const s = await run.sendSnapshot({ id: 2, step: 2, trainLoss: 0.9, tensors: [{ kind: 'TENSOR_KIND_SKETCH', rows: samples, cols: 256, data: Float32Array.from(sketch) }] });
    expect(s.ack.accepted).toBe(true);
    spectrum = (await client.getRun('mixed')).latest!.spectra[0];
    expect(maxRelativeToTop(spectrum.eigenvalues, lambda)).toBeLessThan(1e-5);

    // Logits with C = 4 against a C = 1 probe is a shape error; logits of the right shape are accepted alone.
    const bad = await run.sendSnapshot({ id: 3, step: 3, trainLoss: 0.8, tensors: [{ kind: 'TENSOR_KIND_LOGITS', rows: samples, cols: 4, data: logits }] });
    expect(bad.ack).toMatchObject({ accepted: false, code: 3 });
    const ok = await run.sendSnapshot({ id: 4, step: 4, trainLoss: 0.8, tensors: [{ kind: 'TENSOR_KIND_LOGITS', rows: samples, cols: 1, data: logits.subarray(0, samples) }] });
    expect(ok.ack.accepted).toBe(true);
    expect(ok.decision!.action).toBe('ACTION_CONTINUE');
    const report = await client.getRun('mixed');
    expect(report.latest!.source).toBe('TENSOR_KIND_LOGITS');
    expect(report.latest!.spectra[0].eigenvalues[0]).toBeCloseTo(1, 5); // the last kernel's spectrum is kept

    const runs = await client.listRuns({ cohort: 'sweep-1' });
    expect(runs.map((r) => r.run_id)).toContain('mixed');
    const end = await client.endRun('mixed', 'RUN_STATUS_STOPPED');
    expect(end).toMatchObject({ run_id: 'mixed', existed: true });
    expect((await client.getRun('mixed')).status).toBe('RUN_STATUS_STOPPED');
    run.cancel();
  });

  it('stops a diverged run and a run whose budget is spent, without an RPC error', async () => {
    const samples = 8;
    const bad = new Float32Array(samples * 16).fill(0.5);
    bad[17] = Number.NaN;
    const run = client.attach(runStart('diverge', samples, 1));
    const res = await run.sendSnapshot({ id: 1, step: 50, trainLoss: 0.3, tensors: [{ kind: 'TENSOR_KIND_JACOBIAN', rows: samples, cols: 16, data: bad }] });
    expect(res.ack.accepted).toBe(true);
    expect(res.decision).toMatchObject({ action: 'ACTION_STOP', reason: 'REASON_DIVERGED' });
    expect(res.decision!.detail).toMatch(/step 50/);
    // Latched: a later healthy snapshot still says STOP.
    const again = await run.sendSnapshot({ id: 2, step: 60, trainLoss: 0.2, tensors: [{ kind: 'TENSOR_KIND_JACOBIAN', rows: samples, cols: 16, data: new Float32Array(samples * 16).fill(1) }] });
    expect(again.decision).toMatchObject({ action: 'ACTION_STOP', reason: 'REASON_DIVERGED' });
    await run.finish('RUN_STATUS_STOPPED');

    const budget = client.attach(runStart('budget', samples, 1, { budget: { max_steps: 1000 } }));
    const early = await budget.sendSnapshot({ id: 1, step: 999, trainLoss: 0.3, tensors: [{ kind: 'TENSOR_KIND_LOGITS', rows: samples, cols: 1, data: new Float32Array(samples) }] });
    expect(early.decision!.action).toBe('ACTION_CONTINUE');
    // Scalars crossing the budget bring news: the decision comes without waiting for a snapshot.
    await budget.sendScalars({ step: 1000, train_loss: 0.25 });
    await expect.poll(() => budget.latestDecision?.reason).toBe('REASON_BUDGET');
    expect((await client.checkStop({ runId: 'budget' })).action).toBe('ACTION_STOP');
    await budget.finish();
  });

  it('accepts a snapshot whose training-dynamics analysis cannot run (learning rate 0)', async () => {
    const samples = 4;
    const targets = new Uint8Array(Float64Array.of(1, 0, 1, 0).buffer);
    const run = client.attach(runStart('no-lr', samples, 1, { learning_rate: 0, probe: { num_samples: samples, num_outputs: 1, targets: { dtype: 'DTYPE_F64', shape: [samples, 1], data: targets } } }));
    const jac = Float64Array.from({ length: samples * 8 }, (_, i) => Math.cos(i));
    for (let id = 1; id <= 2; id++) {
      const res = await run.sendSnapshot({
        id,
        step: 10 * id,
        trainLoss: 0.5,
        learningRate: 0,
        tensors: [
          { kind: 'TENSOR_KIND_JACOBIAN', rows: samples, cols: 8, data: jac },
          { kind: 'TENSOR_KIND_LOGITS', rows: samples, cols: 1, data: Float64Array.of(0.1, 0.2, 0.3, 0.4) },
        ],
      });
      expect(res.ack.accepted, res.ack.message).toBe(true);
      expect(res.decision).toBeDefined();
    }
    const d = (await client.getRun('no-lr')).latest!.diagnostics!;
    expect(d.residual).toBeDefined(); // static residual diagnostics still computed
    expect(d.prediction).toBeNull(); // no dynamics without a learning rate (absent message)
    await run.finish();
  });

  it('answers CheckStop for a job with one decision for all ranks', async () => {
    const samples = 4;
    const logits = { kind: 'TENSOR_KIND_LOGITS' as const, rows: samples, cols: 1, data: new Float32Array(samples) };
    const r0 = client.attach(runStart('job-b-rank0', samples, 1, { job_id: 'job-b', rank: 0, world_size: 2 }));
    const r1 = client.attach(runStart('job-b-rank1', samples, 1, { job_id: 'job-b', rank: 1, world_size: 2, budget: { max_steps: 10 } }));
    await r0.sendSnapshot({ id: 1, step: 20, trainLoss: 0.5, tensors: [logits] });
    const stop = await r1.sendSnapshot({ id: 1, step: 20, trainLoss: 0.5, tensors: [logits] });
    expect(stop.decision!.action).toBe('ACTION_STOP');
    const job = await client.checkStop({ jobId: 'job-b' });
    expect(job).toMatchObject({ run_id: 'job-b-rank1', action: 'ACTION_STOP', reason: 'REASON_BUDGET' });
    await r0.finish();
    await r1.finish();
  });
});

describe('Attach with the default backend', () => {
  it("runs kernel products on 'auto' (WebAssembly SIMD in float64 on a CPU) with reference accuracy", async () => {
    const auto = await startTestServer((c) => (c.backend = 'auto'));
    const c = new NtkSidecarClient(auto.grpcTarget);
    try {
      const samples = 40;
      const lambda = powerLawSpectrum(samples, 1);
      const j = jacobianWithSpectrum(lambda, 3000, mulberry32(21));
      const run = c.attach(runStart('auto-backend', samples, 1));
      const accepted = await run.accepted;
      expect(accepted.backend).toMatch(/^(wasm-simd-f64|gpujs-(webgpu|headlessgl|webgl2?)|reference)$/);
      const res = await run.sendSnapshot({ id: 1, step: 1, trainLoss: 1, tensors: [{ kind: 'TENSOR_KIND_JACOBIAN', rows: samples, cols: 3000, data: j }] });
      expect(res.ack.accepted).toBe(true);
      const report = await c.getRun('auto-backend');
      expect(report.latest!.backend).toBe(accepted.backend);
      // float64 data through a float64 backend: the prescribed spectrum to rounding (gpu.js on a GPU: float32).
      const tol = accepted.backend.startsWith('gpujs') ? 1e-5 : 1e-12;
      expect(maxRelativeToTop(report.latest!.spectra[0].eigenvalues, lambda)).toBeLessThan(tol);
      await run.finish();
    } finally {
      c.close();
      await auto.stop();
    }
  });
});
