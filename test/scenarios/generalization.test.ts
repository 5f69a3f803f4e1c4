/**
 * The generalisation rule end to end (docs/generalization.md G4/G5) against the real server: a classifier whose
 * training loss keeps falling like a power law while its accuracy on an evaluation probe saturates. The training-loss
 * rule (A14) keeps going; the generalisation rule stops once the evaluation curve has flattened, and the recording
 * replays to the same decisions.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NtkSidecarClient } from '../../src/client/ntkSidecarClient.js';
import { mulberry32, normalArray } from '../../src/random.js';
import { readRecording } from '../../src/record/runRecorder.js';
import { replayRecording } from '../../src/record/replay.js';
import type { Decision__Output } from '../../src/gen/ntksidecar/v1/Decision.js';
import { startTestServer, type TestServer } from '../support/startTestServer.js';
import { f64Bytes } from '../support/testIo.js';
import { GENERALIZATION_ESTIMATES } from '../../src/analysis/generalizationForecast.js';

let server: TestServer;
let client: NtkSidecarClient;
let recordDir: string;

beforeAll(async () => {
  recordDir = mkdtempSync(join(tmpdir(), 'ntk-sidecar-gen-'));
  server = await startTestServer(
    (c) => {
      c.recordDir = recordDir;
    },
    { policyDocument: { policies: { gen: { rule: 'generalization' }, loss: { rule: 'loss' }, wave: { rule: 'label_wave' } } } },
  );
  client = new NtkSidecarClient(server.grpcTarget);
});
afterAll(async () => {
  client?.close();
  await server?.stop();
});

const n = 8; // probe samples
const C = 2;
const P = 24;
const nEval = 40;
const BUDGET = 1000;
const EVERY = 20;
/** Evaluation accuracy: rises from 0.5 and saturates at 0.95 (quantised to 1/40 by the probe). */
const accuracy = (s: number) => 0.95 - 0.45 * Math.exp(-s / 60);
/** Training loss: a power law that never flattens (the over-parameterised regime of issue 11). */
const trainLoss = (s: number) => 0.7 / Math.sqrt(1 + s / 20);


async function stream(runId: string, policy: string): Promise<Decision__Output[]> {
  const rng = mulberry32(11);
  const J = normalArray(rng, n * C * P);
  const labels = Array.from({ length: n }, (_, i) => i % C);
  const evalLabels = Array.from({ length: nEval }, (_, i) => i % C);
  const run = client.attach({
    run_id: runId,
    policy,
    probe: { num_samples: n, num_outputs: C, targets: { dtype: 'DTYPE_F64', shape: [n], data: f64Bytes(labels) } },
    eval_probe: { num_samples: nEval, targets: { dtype: 'DTYPE_F64', shape: [nEval], data: f64Bytes(evalLabels) } },
    train_set_size: 5000,
    loss: { kind: 'LOSS_KIND_CROSS_ENTROPY' },
    optimizer: { kind: 'OPTIMIZER_KIND_SGD' },
    learning_rate: 0.05,
    budget: { max_steps: BUDGET },
  });
  await run.accepted;
  const decisions: Decision__Output[] = [];
  let id = 0;
  for (let step = EVERY; step <= BUDGET; step += EVERY) {
    // Probe logits: the true class gains margin as the loss falls.
    const margin = -Math.log(trainLoss(step));
    const logits = new Float64Array(n * C);
    for (let i = 0; i < n; i++) logits[i * C + labels[i]] = margin;
    // Evaluation logits: the first round(acc·n_eval) samples right, the rest wrong.
    const right = Math.round(accuracy(step) * nEval);
    const evalLogits = new Float64Array(nEval * C);
    for (let i = 0; i < nEval; i++) evalLogits[i * C + (i < right ? evalLabels[i] : 1 - evalLabels[i])] = 1;
    const res = await run.sendSnapshot({
      id: ++id,
      step,
      trainLoss: trainLoss(step),
      computeSpent: step,
      tensors: [
        { kind: 'TENSOR_KIND_JACOBIAN', rows: n * C, cols: P, data: J },
        { kind: 'TENSOR_KIND_LOGITS', rows: n, cols: C, data: logits },
        { kind: 'TENSOR_KIND_EVAL_LOGITS', rows: nEval, cols: C, data: evalLogits },
      ],
    });
    expect(res.ack.accepted, res.ack.message).toBe(true);
    decisions.push(res.decision!);
    if (res.decision!.action === 'ACTION_STOP') break;
  }
  await run.finish();
  return decisions;
}

describe('stopping on a generalisation estimate (G5)', () => {
  it('stops once the evaluation accuracy has saturated, while the training loss still falls; replays identically', async () => {
    const decisions = await stream('gen-rule', 'gen');
    const stop = decisions.find((d) => d.action === 'ACTION_STOP');
    expect(stop, decisions.map((d) => `${d.step} ${d.reason}`).join('\n')).toBeDefined();
    expect(stop!.reason).toBe('REASON_GENERALIZATION_SATURATED');
    // Inside the 1 % allowance of the end-of-budget accuracy, and well before the budget.
    expect(Math.round(accuracy(stop!.step) * nEval) / nEval).toBeGreaterThanOrEqual(0.99 * (Math.round(accuracy(BUDGET) * nEval) / nEval));
    expect(stop!.step).toBeLessThanOrEqual(0.6 * BUDGET);
    expect(stop!.evidence.estimate).toBe(GENERALIZATION_ESTIMATES.indexOf('eval_accuracy'));
    // Never a STOP while the curve still climbs.
    for (const d of decisions.filter((x) => x.step <= 120)) expect(d.action).toBe('ACTION_CONTINUE');

    // GetRun reports the estimates.
    const report = await client.getRun('gen-rule');
    const g = report.latest?.diagnostics?.generalization;
    expect(g?.eval_accuracy).toBeCloseTo(Math.round(accuracy(stop!.step) * nEval) / nEval, 12);
    expect(g?.held_out).toBe(false);

    // The recording replays to the same decisions (the bootstrap is seeded by the step).
    const path = join(recordDir, 'gen-rule.ntkrec.jsonl.gz');
    let rec = readRecording(path);
    for (let i = 0; i < 100 && rec.events.length < decisions.length; i++) {
      await new Promise((r) => setTimeout(r, 50));
      rec = readRecording(path);
    }
    const replayed = replayRecording(rec, rec.header.policy!);
    expect(replayed.decisions.map((d) => [d.step, d.action, d.reason, d.detail])).toEqual(decisions.map((d) => [d.step, d.action, d.reason, d.detail]));
  });

  it('the training-loss rule does not stop the same run: its loss is still a falling power law', async () => {
    const decisions = await stream('loss-rule', 'loss');
    expect(decisions.filter((d) => d.step <= 0.6 * BUDGET).every((d) => d.action === 'ACTION_CONTINUE')).toBe(true);
  });
});
