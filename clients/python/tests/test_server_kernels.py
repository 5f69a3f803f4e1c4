"""Against the real sidecar: what the torch adapter sends (Jacobian, sketch, Gram; full and traced) makes, in the
sidecar, the kernel of a direct float64 computation here; budget STOP reaches the training loop; shadow mode;
a refused RunStart turns the client off without touching training.

Tolerances (relative to λ_1, on the top-20 eigenvalues and the trace that GetRun reports):
  * against the float64 model (independent per-row autograd): 1e-5. The adapter's Jacobian is float32 (~1e-7
    relative per entry, see test_torch_adapter), sent as float32, accumulated in float64 by the sidecar.
  * against the exact wire values (bf16 run): 1e-9. Both sides hold the same numbers and accumulate in
    float64 (the test server runs the 'reference' backend); only summation order differs (~N·P·2^-53).
"""

import logging
import time
import unittest

import numpy as np

import support

torch = support.require("torch", "torch")
from ntk_sidecar import SidecarClient, SidecarMonitor, Snapshot  # noqa: E402
from ntk_sidecar.dtypes import round_trip  # noqa: E402
from ntk_sidecar.sketch import sketch_reference  # noqa: E402
from ntk_sidecar.torch_adapter import TorchNtk  # noqa: E402
from test_torch_adapter import mlp, reference_jacobian  # noqa: E402

TOL_MODEL = 1e-5
TOL_WIRE = 1e-9
N_SAMPLES, N_OUT = 12, 3


def top_eigenvalues(k: np.ndarray, count: int = 20) -> np.ndarray:
    return np.linalg.eigvalsh((k + k.T) / 2)[::-1][:count]


class ServerKernelTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        cls.target = support.sidecar_target()
        cls.model = mlp(seed=7)
        cls.x = torch.randn(N_SAMPLES, 6, generator=torch.Generator().manual_seed(8))
        cls.j64 = reference_jacobian(cls.model, cls.x)
        cls.k64 = cls.j64 @ cls.j64.T

    def send(self, run_id: str, snapshot: Snapshot, spec_source: TorchNtk, **fields) -> tuple:
        """One snapshot through a fresh client; returns (RunReport, client stats, decision)."""
        spec = spec_source.run_spec(f"{run_id}-{time.monotonic_ns()}", learning_rate=0.1, **fields)
        # 4 KiB chunks: N = 36 rows x 4 bytes -> 28 columns per chunk, ~30 chunks per Jacobian.
        client = SidecarClient(self.target, spec, max_chunk_bytes=4096)
        try:
            client.submit(snapshot)
            self.assertTrue(client.flush(timeout=60), client.stats)
            self.assertTrue(client.wait_for(lambda c: c.decision is not None, 30))
            report = client.get_run(timeout=10)
            self.assertIsNotNone(report)
            return report, client.stats, client.decision
        finally:
            client.close(timeout=10)

    def spectrum(self, report, kernel: str):
        found = [s for s in report.latest.spectra if s.kernel == kernel]
        self.assertEqual(len(found), 1, [s.kernel for s in report.latest.spectra])
        return found[0]

    def assert_spectrum(self, spectrum, k_ref: np.ndarray, tol: float) -> None:
        want = top_eigenvalues(k_ref)
        got = np.array(spectrum.eigenvalues)
        self.assertEqual(spectrum.size, k_ref.shape[0])
        self.assertEqual(len(got), min(20, k_ref.shape[0]))
        lam1 = want[0]
        self.assertLess(np.abs(got - want[:len(got)]).max(), tol * lam1, (got[:3], want[:3]))
        self.assertLess(abs(spectrum.trace - np.trace(k_ref)), tol * lam1)

    def test_jacobian_f32_full_and_traced(self) -> None:
        ntk = TorchNtk(self.model, self.x, mode="jacobian", max_block_bytes=1)  # one block per tensor
        report, stats, _ = self.send("py-jac", ntk.snapshot(10, 0.5), ntk)
        self.assertEqual((stats.snapshots_accepted, stats.snapshots_rejected), (1, 0))
        self.assertEqual((report.num_samples, report.num_outputs), (N_SAMPLES, N_OUT))
        self.assert_spectrum(self.spectrum(report, "full"), self.k64, TOL_MODEL)
        kbar = np.einsum("icjc->ij", self.k64.reshape(N_SAMPLES, N_OUT, N_SAMPLES, N_OUT)) / N_OUT
        self.assert_spectrum(self.spectrum(report, "traced"), kbar, TOL_MODEL)

    def test_jacobian_bf16_equals_the_wire_values(self) -> None:
        ntk = TorchNtk(self.model, self.x, mode="jacobian", dtype="bf16")
        snap = ntk.snapshot(10, 0.5)
        wire = round_trip(snap.tensors[0].to_dense(), "bf16")  # what the sidecar decodes
        report, _, _ = self.send("py-bf16", snap, ntk)
        self.assert_spectrum(self.spectrum(report, "full"), wire @ wire.T, TOL_WIRE)
        # bf16 keeps 8 bits: the kernel is the model's only to ~2^-8 relative per entry.
        self.assert_spectrum(self.spectrum(report, "full"), self.k64, 2.0**-6)

    def test_sketch(self) -> None:
        ntk = TorchNtk(self.model, self.x, mode="sketch", sketch_dim=64, sketch_seed=2024)
        report, stats, _ = self.send("py-sketch", ntk.snapshot(10, 0.5), ntk)
        self.assertEqual(stats.snapshots_accepted, 1)
        z64 = sketch_reference(self.j64, 2024, 64)
        self.assert_spectrum(self.spectrum(report, "full"), z64 @ z64.T, TOL_MODEL)

    def test_gram_full_and_trace(self) -> None:
        ntk = TorchNtk(self.model, self.x, mode="gram")
        report, _, _ = self.send("py-gram", ntk.snapshot(10, 0.5), ntk)
        self.assert_spectrum(self.spectrum(report, "full"), self.k64, TOL_MODEL)
        traced = TorchNtk(self.model, self.x, mode="gram", reduction="trace")
        report, _, _ = self.send("py-gram-trace", traced.snapshot(10, 0.5), traced)
        kbar = np.einsum("icjc->ij", self.k64.reshape(N_SAMPLES, N_OUT, N_SAMPLES, N_OUT)) / N_OUT
        self.assert_spectrum(self.spectrum(report, "traced"), kbar, TOL_MODEL)

    def test_budget_stop_reaches_the_loop(self) -> None:
        ntk = TorchNtk(self.model, self.x, mode="gram")
        # warmup_steps = max_steps: no STOP of the sidecar's stopping policy can come first (budget precedes it).
        client = SidecarClient(self.target, ntk.run_spec(f"py-budget-{time.monotonic_ns()}", learning_rate=0.1,
                                                         max_steps=25, warmup_steps=25))
        opt = torch.optim.SGD(self.model.parameters(), lr=0.0)  # lr 0: the shared model stays as it is
        with SidecarMonitor(client, ntk.snapshot, snapshot_every=10, scalars_every=1, scalars_interval_s=0) as monitor:
            for step in range(1, 2001):
                loss = self.model(self.x).pow(2).mean()
                opt.zero_grad()
                loss.backward()
                opt.step()
                if monitor.on_step(step, loss.item(), learning_rate=0.1):
                    break
                time.sleep(0.002)
        self.assertIsNotNone(monitor.stop_step)
        # The STOP is decided at step 25 (first scalars with step >= max_steps) and read a few steps later.
        self.assertGreaterEqual(monitor.stop_step, 25)
        self.assertLess(monitor.stop_step, 25 + 500)
        d = monitor.stop_decision
        self.assertEqual((d.action, d.reason, d.enforced), ("STOP", "BUDGET", True))
        self.assertEqual(client.stats.snapshots_rejected, 0)

    def test_shadow_policy_never_stops(self) -> None:
        ntk = TorchNtk(self.model, self.x, mode="logits", loss="mse")
        client = SidecarClient(self.target, ntk.run_spec(f"py-shadow-{time.monotonic_ns()}", learning_rate=0.1,
                                                         max_steps=5, policy="shadow"))
        monitor = SidecarMonitor(client, ntk.snapshot, snapshot_every=5, scalars_every=1, scalars_interval_s=0)
        with support.LogCapture() as logs, monitor:
            for step in range(1, 61):
                self.assertFalse(monitor.on_step(step, 0.5, learning_rate=0.1))
                if step == 30:
                    self.assertTrue(client.wait_for(lambda c: c.decision is not None and c.decision.stop, 20))
        self.assertIsNone(monitor.stop_step)
        self.assertIsNotNone(monitor.would_stop_step)
        self.assertFalse(client.decision.enforced)
        self.assertEqual(len([m for m in logs.messages() if "shadow mode, would stop" in m]), 1)

    def test_eval_probe_snapshot_is_accepted(self) -> None:
        # RunStart with M and an evaluation probe (labels), snapshots with eval logits (TENSOR_KIND_EVAL_LOGITS).
        gen = torch.Generator().manual_seed(12)
        x_eval = torch.randn(200, 6, generator=gen)
        y_eval = torch.randint(0, N_OUT, (200,), generator=gen)
        ntk = TorchNtk(self.model, self.x, probe_targets=torch.arange(N_SAMPLES) % N_OUT, mode="gram",
                       loss="cross_entropy", eval_inputs=x_eval, eval_targets=y_eval, train_set_size=1000)
        snap = ntk.snapshot(10, 0.5)
        self.assertEqual([t.kind for t in snap.tensors], ["gram", "logits", "eval_logits"])
        report, stats, _ = self.send("py-eval", snap, ntk)
        self.assertEqual((stats.snapshots_accepted, stats.snapshots_rejected, stats.snapshots_invalid), (1, 0, 0))
        gen_report = report.latest.diagnostics.generalization
        if gen_report.HasField("eval_accuracy"):  # once the sidecar reports it (docs/generalization.md G4)
            want = float((snap.tensor("eval_logits").to_dense().argmax(1) == y_eval.numpy()).mean())
            self.assertAlmostEqual(gen_report.eval_accuracy, want, places=12)

    def test_refused_run_start_turns_the_client_off(self) -> None:
        ntk = TorchNtk(self.model, self.x, mode="logits")
        spec = ntk.run_spec(f"py-refused-{time.monotonic_ns()}", learning_rate=0.1, policy="no-such-policy")
        with support.LogCapture() as logs:
            client = SidecarClient(self.target, spec, backoff_initial_s=0.01)
            self.assertTrue(support.wait_until(lambda: client.disabled is not None, 20))
            for step in range(1, 20):
                client.submit(ntk.snapshot(step, 0.5))
                self.assertFalse(client.should_stop())
            client.close(timeout=2)
        self.assertIn("INVALID_ARGUMENT", client.disabled)
        errors = logs.messages(logging.ERROR)
        self.assertEqual(len(errors), 1, errors)
        self.assertIn("no-such-policy", errors[0])



class ReadmeExampleTest(unittest.TestCase):
    """The ten-line PyTorch example of clients/python/README.md, run as written against the sidecar."""

    def test_readme_example_runs(self) -> None:
        import os
        import re
        readme = (support.CLIENT_ROOT / "README.md").read_text()
        block = re.search(r"<!-- readme-example:.*?-->\n```python\n(.*?)```", readme, re.S)
        self.assertIsNotNone(block, "the README lost its example block")
        code = block.group(1)
        self.assertLessEqual(len(code.strip().splitlines()), 14)
        gen = torch.Generator().manual_seed(21)
        xs, ys = torch.randn(256, 64, generator=gen), torch.randint(0, 10, (256,), generator=gen)
        namespace = {"probe_x": xs[:8], "probe_y": ys[:8],
                     "loader": [(xs[i:i + 32], ys[i:i + 32]) for i in range(0, 256, 32)] * 4}
        old = os.environ.get("NTK_SIDECAR_TARGET")
        os.environ["NTK_SIDECAR_TARGET"] = support.sidecar_target()
        try:
            exec(compile(code, "README.md", "exec"), namespace)
        finally:
            if old is None:
                os.environ.pop("NTK_SIDECAR_TARGET")
            else:
                os.environ["NTK_SIDECAR_TARGET"] = old
        monitor = namespace["sidecar"]
        stats = monitor.client.stats
        self.assertEqual(stats.streams_opened, 1)
        self.assertEqual(monitor.snapshots_taken, 1)   # 32 steps, a snapshot at step 1 (then every 200)
        self.assertEqual(stats.snapshots_sent, 1)
        self.assertEqual(stats.snapshots_rejected, 0)
        self.assertGreaterEqual(stats.scalars_sent, 1)  # every 10 steps, at most once a second


if __name__ == "__main__":
    unittest.main()
