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


if __name__ == "__main__":
    unittest.main()
