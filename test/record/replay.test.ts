/**
 * Record and replay (docs/design.md §4): a run streamed to the real server with --record-dir replays offline, through
 * the same analyzeKernelSnapshot() and advanceRun(), to exactly the decisions the server sent; another policy gives
 * its own timeline; files of another format or version are refused with what to do.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NtkSidecarClient } from '../../src/client/ntkSidecarClient.js';
import { replayCommand } from '../../src/cli/replayCommand.js';
import { readRecording } from '../../src/record/runRecorder.js';
import { RECORDING_VERSION } from '../../src/record/recording.js';
import { replayRecording } from '../../src/record/replay.js';
import { mulberry32, normalArray } from '../../src/random.js';
import type { Decision__Output } from '../../src/gen/ntksidecar/v1/Decision.js';
import { startTestServer, type TestServer } from '../support/startTestServer.js';
import { f64Bytes, textSink as capture } from '../support/testIo.js';

let server: TestServer;
let client: NtkSidecarClient;
let recordDir: string;

beforeAll(async () => {
  recordDir = mkdtempSync(join(tmpdir(), 'ntk-sidecar-rec-'));
  server = await startTestServer((c) => {
    c.recordDir = recordDir;
  });
  client = new NtkSidecarClient(server.grpcTarget);
});
afterAll(async () => {
  client?.close();
  await server?.stop();
});


/**
 * Full-batch GD of a random linear model in the kernel regime: n = 6 samples, P = 9 parameters, MSE with c_L = 1/(2n);
 * the Jacobian drifts a little each snapshot (seeded) so drift and detectors see real numbers. Snapshots every 5
 * steps carry the Jacobian and logits; Scalars in between.
 */
async function streamRun(runId: string, steps: number): Promise<Decision__Output[]> {
  const n = 6;
  const p = 9;
  const rng = mulberry32(7);
  const J0 = normalArray(rng, n * p).map((v) => v / 3);
  const y = normalArray(rng, n);
  const cL = 1 / (2 * n);
  const eta = 0.5;
  const run = client.attach({
    run_id: runId,
    probe: { num_samples: n, num_outputs: 1, targets: { dtype: 'DTYPE_F64', shape: [n, 1], data: f64Bytes(y) } },
    loss: { kind: 'LOSS_KIND_MSE', scale: cL },
    optimizer: { kind: 'OPTIMIZER_KIND_SGD' },
    learning_rate: eta,
    budget: { max_steps: 2000 },
  });
  await run.accepted;
  const f = new Float64Array(n);
  const decisions: Decision__Output[] = [];
  let id = 0;
  for (let step = 0; step <= steps; step++) {
    const J = J0.map((v) => v * (1 + 1e-3 * Math.sin(step + v)));
    // K = J Jᵀ; f ← f − 2 c_L η K (f − y).
    const K = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) for (let k = 0; k < p; k++) K[i * n + j] += J[i * p + k] * J[j * p + k];
    let loss = 0;
    for (let i = 0; i < n; i++) loss += cL * (f[i] - y[i]) ** 2;
    if (step % 5 === 0) {
      const res = await run.sendSnapshot({
        id: ++id,
        step,
        trainLoss: loss,
        computeSpent: step,
        tensors: [
          { kind: 'TENSOR_KIND_JACOBIAN', rows: n, cols: p, data: J },
          { kind: 'TENSOR_KIND_LOGITS', rows: n, cols: 1, data: Float64Array.from(f) },
        ],
      });
      expect(res.ack.accepted, res.ack.message).toBe(true);
      decisions.push(res.decision!);
    } else {
      await run.sendScalars({ step, train_loss: loss, learning_rate: eta, compute_spent: step });
    }
    const r = f.map((v, i) => v - y[i]);
    for (let i = 0; i < n; i++) {
      let g = 0;
      for (let j = 0; j < n; j++) g += K[i * n + j] * r[j];
      f[i] -= 2 * cL * eta * g;
    }
  }
  await run.finish();
  return decisions;
}

/** The recording is flushed asynchronously after the stream ends; wait (bounded) until it holds every snapshot. */
async function recordingOf(runId: string, snapshots: number) {
  const path = join(recordDir, `${encodeURIComponent(runId)}.ntkrec.jsonl.gz`);
  for (let i = 0; ; i++) {
    try {
      const rec = readRecording(path);
      if (rec.events.filter((e) => e.type === 'snapshot').length === snapshots) return { rec, path };
    } catch (err) {
      if (i > 100) throw err;
    }
    if (i > 100) throw new Error(`recording ${path} never reached ${snapshots} snapshots`);
    await new Promise((r) => setTimeout(r, 50));
  }
}


describe('record and replay', () => {
  it('replays a recorded run to exactly the decisions the server sent, in order', async () => {
    const sent = await streamRun('replay-identity', 120);
    expect(sent.length).toBe(25);
    const { rec, path } = await recordingOf('replay-identity', sent.length);
    expect(rec.header.version).toBe(RECORDING_VERSION);
    expect(rec.events.filter((e) => e.type === 'scalars').length).toBe(121 - 25);

    const replayed = replayRecording(rec, rec.header.policy!);
    expect(replayed.decisions.map((d) => [d.snapshotId, d.step, d.action, d.reason, d.detail, d.evidence])).toEqual(
      sent.map((d) => [d.snapshot_id, d.step, d.action, d.reason, d.detail, d.evidence]),
    );
    // The run passes through several reasons: the identity is not a trivial one of WARMUP decisions.
    expect(new Set(sent.map((d) => d.reason)).size).toBeGreaterThanOrEqual(2);

    // The CLI prints the same timeline as JSON (the stopping evaluation's interface).
    const { stream: out, text } = capture();
    expect(replayCommand([path, '--json'], out)).toBe(0);
    const json = JSON.parse(text()) as { format: number; decisions: Array<{ reason: string; step: number }>; stopStep: number | null };
    expect(json.format).toBe(1);
    expect(json.decisions.map((d) => [d.step, d.reason])).toEqual(sent.map((d) => [d.step, d.reason]));
    const firstStop = sent.find((d) => d.action === 'ACTION_STOP');
    expect(json.stopStep).toBe(firstStop ? firstStop.step : null);
  });

  it('applies another policy from a policy file offline', async () => {
    await streamRun('replay-policy', 60);
    const { path } = await recordingOf('replay-policy', 13);
    const policyFile = join(recordDir, 'policy.json');
    // A step budget of 30 must stop the run at the first snapshot at or after step 30, with REASON_BUDGET.
    writeFileSync(policyFile, JSON.stringify({ policies: { capped: { maxSteps: 30 } } }));
    const { stream: out, text } = capture();
    expect(replayCommand([path, '--policy', policyFile, '--policy-name', 'capped', '--json'], out)).toBe(0);
    const json = JSON.parse(text()) as { policy: string; stopStep: number; stopReason: string };
    expect(json.policy).toBe('capped');
    expect(json.stopStep).toBe(30);
    expect(json.stopReason).toBe('REASON_BUDGET');
  });

  it('refuses a recording of another version or format with what to do', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ntk-sidecar-rec-bad-'));
    const old = join(dir, 'old.ntkrec.jsonl.gz');
    writeFileSync(old, gzipSync(JSON.stringify({ type: 'header', format: 'ntk-sidecar-recording', version: 0, sidecarVersion: '0.0.1' }) + '\n'));
    expect(() => replayCommand([old], capture().stream)).toThrow(/format version 0 \(written by ntk-sidecar 0\.0\.1\); this ntk-sidecar reads version 1 only/);
    const plain = join(dir, 'plain.ntkrec.jsonl.gz');
    writeFileSync(plain, 'not gzip');
    expect(() => replayCommand([plain], capture().stream)).toThrow(/not a gzip-compressed recording/);
    const other = join(dir, 'other.ntkrec.jsonl.gz');
    writeFileSync(other, gzipSync('{"hello": 1}\n'));
    expect(() => replayCommand([other], capture().stream)).toThrow(/not an ntk-sidecar recording/);
  });
});
