"""TorchNtk against independent float64 references: the Jacobian (closed form for a linear model, per-row
autograd on a float64 copy for an MLP), the sketch against numpy's sketch_reference, Grams, logits, probe loss."""

import copy
import logging
import unittest

import numpy as np

import support

torch = support.require("torch", "torch")
from ntk_sidecar.sketch import sketch_reference  # noqa: E402
from ntk_sidecar.torch_adapter import TorchNtk, trace_gram  # noqa: E402

# float32 forward/backward through a 3-layer tanh MLP: each Jacobian entry carries a relative error of a few
# float32 ulps (2^-24 ≈ 6e-8) per layer; 1e-5 of the largest entry leaves two orders of magnitude of margin.
J_TOL = 1e-5


def mlp(seed: int = 0, d: int = 6, h: int = 24, c: int = 3, dropout: float = 0.0) -> "torch.nn.Module":
    torch.manual_seed(seed)
    layers = [torch.nn.Linear(d, h), torch.nn.Tanh(), torch.nn.Linear(h, h), torch.nn.Tanh()]
    if dropout:
        layers.append(torch.nn.Dropout(dropout))
    layers.append(torch.nn.Linear(h, c))
    return torch.nn.Sequential(*layers)


def reference_jacobian(model: "torch.nn.Module", x: "torch.Tensor") -> np.ndarray:
    """float64 J, one autograd.grad per (sample, output), written independently of the adapter."""
    m64 = copy.deepcopy(model).double().eval()
    params = [p for p in m64.parameters() if p.requires_grad]
    rows = []
    for i in range(x.shape[0]):
        out = m64(x[i:i + 1].double()).reshape(-1)
        for c in range(out.shape[0]):
            grads = torch.autograd.grad(out[c], params, retain_graph=True)
            rows.append(torch.cat([g.reshape(-1) for g in grads]).numpy())
    return np.stack(rows)


def dense_jacobian(ntk: TorchNtk) -> np.ndarray:
    return np.concatenate([b.detach().double().numpy() for _, b in ntk.jacobian_blocks()], axis=1)


class TorchJacobianTest(unittest.TestCase):
    def test_linear_model_closed_form(self) -> None:
        # f(x) = W x + b, W: C x d. Columns: W row-major (c', k) then b; J[(i,c), (c',k)] = δ_cc' x_ik, J[(i,c), b_c'] = δ_cc'.
        torch.manual_seed(1)
        n, d, c = 4, 5, 3
        model = torch.nn.Linear(d, c)
        x = torch.randn(n, d)
        want = np.zeros((n * c, c * d + c))
        for i in range(n):
            for o in range(c):
                want[i * c + o, o * d:(o + 1) * d] = x[i].numpy()
                want[i * c + o, c * d + o] = 1.0
        for method in ("vmap", "loop"):
            got = dense_jacobian(TorchNtk(model, x, method=method))
            np.testing.assert_array_equal(got, want, err_msg=method)

    def test_mlp_matches_float64_autograd(self) -> None:
        model = mlp()
        x = torch.randn(7, 6, generator=torch.Generator().manual_seed(2))
        ref = reference_jacobian(model, x)
        scale = np.abs(ref).max()
        for method in ("vmap", "loop"):
            ntk = TorchNtk(model, x, method=method)
            self.assertEqual((ntk.rows, ntk.layout.total), ref.shape)
            self.assertLess(np.abs(dense_jacobian(ntk) - ref).max(), J_TOL * scale, method)
        # A tiny block budget: one group per parameter tensor, the same J.
        split = TorchNtk(model, x, max_block_bytes=1)
        offsets = [off for off, _ in split.jacobian_blocks()]
        self.assertEqual(offsets, list(split.layout.offsets))
        self.assertLess(np.abs(dense_jacobian(split) - ref).max(), J_TOL * scale)

    def test_eval_mode_during_snapshot_and_flag_restored(self) -> None:
        model = mlp(dropout=0.5)
        model.train()
        x = torch.randn(5, 6)
        ntk = TorchNtk(model, x)
        a, b = dense_jacobian(ntk), dense_jacobian(ntk)
        np.testing.assert_array_equal(a, b)  # no dropout noise
        self.assertTrue(model.training)
        self.assertLess(np.abs(a - reference_jacobian(model, x)).max(), J_TOL * np.abs(a).max())

    def test_vmap_failure_falls_back_to_the_loop_once(self) -> None:
        class ItemModel(torch.nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.lin = torch.nn.Linear(4, 2)

            def forward(self, x):
                scale = float(x.abs().sum().item()) > -1.0  # .item() cannot be batched by vmap
                return self.lin(x) * (1.0 if scale else 2.0)

        torch.manual_seed(3)
        model = ItemModel()
        x = torch.randn(3, 4)
        with support.LogCapture() as logs:
            ntk = TorchNtk(model, x)
            first = dense_jacobian(ntk)
            second = dense_jacobian(ntk)
        np.testing.assert_array_equal(first, second)
        self.assertLess(np.abs(first - reference_jacobian(model, x)).max(), J_TOL)
        self.assertEqual(len([m for m in logs.messages(logging.WARNING) if "vmap(jacrev) failed" in m]), 1)


class TorchReductionsTest(unittest.TestCase):
    def setUp(self) -> None:
        self.model = mlp(seed=4)
        self.x = torch.randn(8, 6, generator=torch.Generator().manual_seed(5))
        self.ref = reference_jacobian(self.model, self.x)
        self.k = self.ref @ self.ref.T

    def test_sketch_equals_numpy_reference_of_the_seed_rule(self) -> None:
        for kind in ("gaussian", "rademacher"):
            ntk = TorchNtk(self.model, self.x, mode="sketch", sketch_dim=40, sketch_seed=123, sketch_kind=kind,
                           max_block_bytes=1)  # per-tensor groups: Ω rows assembled across leaf boundaries
            z = ntk.kernel_tensor().to_dense()
            want = sketch_reference(self.ref, 123, 40, kind)
            # Z entries are P-term float32 dot products of J (error J_TOL-level) with Ω: 1e-5 of max |Z|.
            self.assertLess(np.abs(z - want).max(), J_TOL * np.abs(want).max(), kind)
            # The same Ω at every snapshot (cached or regenerated).
            np.testing.assert_array_equal(ntk.kernel_tensor().to_dense(), z)
            uncached = TorchNtk(self.model, self.x, mode="sketch", sketch_dim=40, sketch_seed=123, sketch_kind=kind,
                                omega_cache_bytes=0)
            np.testing.assert_allclose(uncached.kernel_tensor().to_dense(), z, rtol=0, atol=1e-6 * np.abs(z).max())

    def test_gram_full_and_traced(self) -> None:
        # Gram entries: float64 products of the float32 Jacobian, so the error is J's: ~2·J_TOL relative to λ_1.
        full = TorchNtk(self.model, self.x, mode="gram").kernel_tensor()
        self.assertEqual((full.kind, full.dtype, full.rows, full.cols), ("gram", "f64", 24, 24))
        g = full.to_dense()
        np.testing.assert_array_equal(g, g.T)
        lam1 = np.linalg.eigvalsh(self.k)[-1]
        self.assertLess(np.abs(g - self.k).max(), 2 * J_TOL * lam1)
        traced = TorchNtk(self.model, self.x, mode="gram", reduction="trace").kernel_tensor()
        want = np.einsum("icjc->ij", self.k.reshape(8, 3, 8, 3)) / 3
        self.assertEqual((traced.rows, traced.cols), (8, 8))
        self.assertLess(np.abs(traced.to_dense() - want).max(), 2 * J_TOL * lam1)
        np.testing.assert_allclose(trace_gram(torch.from_numpy(self.k), 8, 3).numpy(), want, rtol=1e-14, atol=0)

    def test_snapshot_logits_and_probe_loss(self) -> None:
        y = torch.randn(8, 3, generator=torch.Generator().manual_seed(6))
        ntk = TorchNtk(self.model, self.x, probe_targets=y, mode="logits", loss="mse", loss_scale=0.5)
        snap = ntk.snapshot(10)
        self.assertEqual([t.kind for t in snap.tensors], ["logits"])
        with torch.no_grad():
            z = self.model(self.x)
        np.testing.assert_array_equal(snap.tensors[0].to_dense(), z.numpy().astype(np.float64))
        self.assertAlmostEqual(snap.train_loss, 0.5 * float(((z.double() - y.double()) ** 2).sum()), places=5)
        labels = torch.tensor([0, 1, 2, 0, 1, 2, 0, 1])
        ce = TorchNtk(self.model, self.x, probe_targets=labels, mode="jacobian", loss="cross_entropy")
        snap = ce.snapshot(11)
        self.assertEqual([t.kind for t in snap.tensors], ["jacobian", "logits"])
        self.assertAlmostEqual(snap.train_loss, float(torch.nn.functional.cross_entropy(z.double(), labels)), places=5)
        spec = ce.run_spec("r", max_steps=5)
        self.assertEqual((spec.num_samples, spec.num_outputs, spec.param_count, spec.max_steps),
                         (8, 3, ce.layout.total, 5))
        self.assertEqual(len(spec.sample_ids_hash), 32)


class ProjectedNtkTest(unittest.TestCase):
    """projection="sum"/"random": the Jacobian of v_rᵀf (n·k rows) and K_p = (1/k) Σ_r J_r J_rᵀ, sent traced."""

    def setUp(self) -> None:
        self.model = mlp(seed=4)
        self.x = torch.randn(8, 6, generator=torch.Generator().manual_seed(5))
        self.ref = reference_jacobian(self.model, self.x).reshape(8, 3, -1)   # (n, C, P)
        self.traced = np.einsum("icp,jcp->ij", self.ref, self.ref) / 3

    def closed_form(self, v: np.ndarray) -> np.ndarray:
        jv = np.einsum("icp,cr->irp", self.ref, v)
        return np.einsum("irp,jrp->ij", jv, jv) / v.shape[1]

    def test_closed_form_for_vmap_and_loop(self) -> None:
        lam1 = np.linalg.eigvalsh(self.traced)[-1]
        for method in ("vmap", "loop"):
            for kw in (dict(projection="sum"), dict(projection="random", projection_dim=1),
                       dict(projection="random", projection_dim=2, projection_seed=9)):
                ntk = TorchNtk(self.model, self.x, mode="gram", method=method, **kw)
                t = ntk.kernel_tensor()
                self.assertEqual((t.kind, t.dtype, t.rows, t.cols, ntk.reduction), ("gram", "f64", 8, 8, "trace"))
                v = ntk._proj.double().numpy()
                np.testing.assert_allclose(v.T @ v, np.eye(v.shape[1]), atol=1e-6)   # unit, orthogonal (float32)
                self.assertLess(np.abs(t.to_dense() - self.closed_form(v)).max(), 2 * J_TOL * lam1, (method, kw))
        # k = C orthonormal directions: the traced kernel itself.
        full = TorchNtk(self.model, self.x, mode="gram", projection="random", projection_dim=3).kernel_tensor()
        self.assertLess(np.abs(full.to_dense() - self.traced).max(), 2 * J_TOL * lam1)
        snap = TorchNtk(self.model, self.x, mode="gram", projection="sum").snapshot(3, 1.0)
        self.assertEqual((snap.reduction, [t.kind for t in snap.tensors]), ("trace", ["gram", "logits"]))

    def test_refused_settings(self) -> None:
        for kw in (dict(mode="jacobian", projection="sum"), dict(mode="gram", projection="bogus"),
                   dict(mode="gram", projection="random", projection_dim=4),
                   dict(mode="gram", projection="random", projection_dim=0)):
            with self.assertRaises(ValueError, msg=str(kw)):
                TorchNtk(self.model, self.x, **kw)

    def test_error_against_the_traced_kernel_on_digits(self) -> None:
        """The README's measurement, on the evaluation's digits MLP (64 → 512 → 10, n = 128 probe samples): at
        initialisation the pNTK is within 3 % of K̄ (measured 0.7 %), after 300 SGD steps (lr 0.1, batch 64,
        cross-entropy) the sum-of-logits pNTK drifts (measured ~40 % in λ_max: training correlates the logits'
        gradients), while 4 random orthonormal directions stay within 10 % (measured 2–4 %) and keep the
        eigen-decay exponent within 0.1."""
        support.require("sklearn", "examples")
        import sys
        from pathlib import Path
        sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
        import bench_projected_ntk as b
        import bench_tasks
        torch.set_num_threads(1)
        model, x, y = bench_tasks.task("digits-w512")
        probe = x[torch.randperm(len(x), generator=torch.Generator().manual_seed(7))[:128]]
        for step in (0, 300):
            bench_tasks.train(model, x, y, 300 if step else 0)
            ref = TorchNtk(model, probe, mode="gram", reduction="trace").kernel_tensor().to_dense()
            pntk = b.compare(ref, TorchNtk(model, probe, mode="gram", projection="sum").kernel_tensor().to_dense())
            rand = b.compare(ref, TorchNtk(model, probe, mode="gram", projection="random",
                                           projection_dim=4).kernel_tensor().to_dense())
            if step == 0:
                self.assertLess(pntk["frob"], 0.03, pntk)
                self.assertLess(pntk["lam_max"], 0.03, pntk)
                self.assertLess(abs(pntk["alpha"] - pntk["alpha_ref"]), 0.05, pntk)
            self.assertLess(rand["frob"], 0.10, (step, rand))
            self.assertLess(rand["lam_max"], 0.10, (step, rand))
            self.assertLess(abs(rand["alpha"] - rand["alpha_ref"]), 0.10, (step, rand))


class EvalProbeTest(unittest.TestCase):
    """The evaluation probe (issue 11 item 2): forward-only logits on n_eval samples, off by default."""

    def setUp(self) -> None:
        self.model = mlp(seed=4)
        g = torch.Generator().manual_seed(9)
        self.x = torch.randn(300, 6, generator=g)
        self.y = torch.randint(0, 3, (300,), generator=g)

    def test_off_by_default_and_eval_logits_equal_the_forward_pass(self) -> None:
        plain = TorchNtk(self.model, self.x[:8], probe_targets=self.y[:8], mode="gram")
        self.assertEqual([t.kind for t in plain.snapshot(1, 0.5).tensors], ["gram", "logits"])
        self.assertFalse(plain.run_spec("r").has_eval_probe)
        self.model.train()
        ntk = TorchNtk(self.model, self.x[:8], probe_targets=self.y[:8], mode="logits", eval_inputs=self.x[100:],
                       eval_targets=self.y[100:], eval_batch_size=64, train_set_size=300)
        snap = ntk.snapshot(5, 0.5)
        self.assertTrue(self.model.training)  # flag restored
        self.assertEqual([t.kind for t in snap.tensors], ["logits", "eval_logits"])
        ev = snap.tensor("eval_logits")
        with torch.no_grad():
            want = self.model.eval()(self.x[100:]).numpy()
        self.model.train()
        self.assertEqual((ev.rows, ev.cols, ev.dtype), (200, 3, "f32"))
        np.testing.assert_allclose(ev.to_dense(), want, rtol=0, atol=1e-6)
        spec = ntk.run_spec("r")
        self.assertEqual((spec.eval_samples, spec.eval_held_out, spec.train_set_size), (200, False, 300))
        np.testing.assert_array_equal(spec.eval_targets, self.y[100:].numpy())
        self.assertEqual(len(spec.eval_sample_ids_hash), 32)
        spec.check_snapshot(snap)
        self.assertGreater(ntk.last_timing["eval_s"], 0.0)

    def test_from_training_set_defaults_to_128_probe_samples(self) -> None:
        ntk = TorchNtk.from_training_set(self.model, self.x, self.y, mode="logits")
        self.assertEqual((ntk.samples, ntk.eval_samples, ntk.train_set_size), (128, 0, 300))
        with_eval = TorchNtk.from_training_set(self.model, self.x, self.y, mode="logits", eval_samples=150, seed=3)
        self.assertEqual((with_eval.samples, with_eval.eval_samples), (128, 150))
        # Disjoint, fixed by the seed: every row of the probes is a distinct training sample.
        rows = torch.cat([with_eval.inputs, with_eval.eval_inputs])
        self.assertEqual(len({tuple(r.tolist()) for r in rows}), 278)
        again = TorchNtk.from_training_set(self.model, self.x, self.y, mode="logits", eval_samples=150, seed=3)
        self.assertTrue(torch.equal(again.eval_inputs, with_eval.eval_inputs))
        spec = with_eval.run_spec("r")
        self.assertEqual((spec.num_samples, spec.eval_samples, spec.train_set_size), (128, 150, 300))

    def test_mismatched_shapes_are_refused(self) -> None:
        with self.assertRaisesRegex(ValueError, "eval_targets has 10 rows but eval_inputs has 20 samples"):
            TorchNtk(self.model, self.x[:8], eval_inputs=self.x[:20], eval_targets=self.y[:10])
        with self.assertRaisesRegex(ValueError, "probe_targets has 7 rows but probe_inputs has 8 samples"):
            TorchNtk(self.model, self.x[:8], probe_targets=self.y[:7])
        with self.assertRaisesRegex(ValueError, "eval_inputs need their labels"):
            TorchNtk(self.model, self.x[:8], eval_inputs=self.x[:20])
        with self.assertRaisesRegex(ValueError, "without eval_inputs"):
            TorchNtk(self.model, self.x[:8], eval_targets=self.y[:10])


if __name__ == "__main__":
    unittest.main()
