"""The JAX adapter's framework-free parts, run with numpy: per-leaf blocks from a Jacobian pytree (layout and
sample-major rows), the sketch with the shared (seed, block) rule (equal to the torch adapter's and to
sketch_reference), Gram and trace, chunking, and FlaxHook. The adapter itself needs jax (skipped LOUDLY here)."""

import unittest

import numpy as np

import support
from ntk_sidecar import Snapshot
from ntk_sidecar.blocks import gram_from_blocks, leaf_blocks, sketch_from_blocks, trace_gram
from ntk_sidecar.jax_adapter import FlaxHook
from ntk_sidecar.layout import ParamLayout
from ntk_sidecar.messages import snapshot_messages
from ntk_sidecar.sketch import sketch_reference
from ntk_sidecar.snapshot import TensorData


class NumpyMlp:
    """f(x) = W2 tanh(W1 x + b1) + b2 with the per-sample Jacobian in closed form, as a list pytree ordered like
    torch's nn.Sequential(Linear, Tanh, Linear) parameters: [W1 (h,d), b1 (h,), W2 (c,h), b2 (c,)]."""

    def __init__(self, seed: int, d: int = 5, h: int = 7, c: int = 3) -> None:
        rng = np.random.default_rng(seed)
        self.params = [rng.standard_normal((h, d)) / np.sqrt(d), rng.standard_normal(h) * 0.1,
                       rng.standard_normal((c, h)) / np.sqrt(h), rng.standard_normal(c) * 0.1]
        self.names = ["0.weight", "0.bias", "2.weight", "2.bias"]

    def apply(self, x: np.ndarray) -> np.ndarray:
        w1, b1, w2, b2 = self.params
        return np.tanh(x @ w1.T + b1) @ w2.T + b2

    def jacobian_leaves(self, x: np.ndarray) -> list[np.ndarray]:
        """Leaves shaped (n, C, *leaf.shape), as jax.vmap(jax.jacrev(f)) returns them."""
        w1, b1, w2, b2 = self.params
        n, c, h = x.shape[0], w2.shape[0], w1.shape[0]
        a = np.tanh(x @ w1.T + b1)                      # (n, h)
        da = 1 - a**2                                   # (n, h)
        g = w2[None, :, :] * da[:, None, :]             # ∂f_c/∂pre_j: (n, c, h)
        return [g[:, :, :, None] * x[:, None, None, :],  # ∂f/∂W1: (n, c, h, d)
                g,                                       # ∂f/∂b1
                np.eye(c)[None, :, :, None] * a[:, None, None, :],  # ∂f/∂W2: (n, c, c, h)
                np.broadcast_to(np.eye(c), (n, c, c)).copy()]       # ∂f/∂b2


class BlocksTest(unittest.TestCase):
    def setUp(self) -> None:
        self.net = NumpyMlp(0)
        self.x = np.random.default_rng(1).standard_normal((6, 5))
        self.layout = ParamLayout.from_shapes(self.net.names, [p.shape for p in self.net.params])
        self.blocks = leaf_blocks(self.net.jacobian_leaves(self.x), self.layout, 6, 3)
        self.j = np.concatenate([b for _, b in self.blocks], axis=1)

    def test_closed_form_jacobian_matches_finite_differences(self) -> None:
        # Guards the stand-in itself: central differences, h = 1e-6, truncation error O(h²·f''') ≈ 1e-12,
        # rounding ≈ 1e-16/1e-6 = 1e-10; 1e-7 is safe.
        flat = np.concatenate([p.reshape(-1) for p in self.net.params])
        fd = np.zeros_like(self.j)
        for p in range(flat.size):
            for sign in (1, -1):
                moved = flat.copy()
                moved[p] += sign * 1e-6
                net = NumpyMlp(0)
                net.params = [moved[a:a + s].reshape(sh) for a, s, sh in
                              zip(self.layout.offsets, self.layout.sizes, self.layout.shapes)]
                fd[:, p] += sign * net.apply(self.x).reshape(-1) / 2e-6
        self.assertLess(np.abs(fd - self.j).max(), 1e-7)

    def test_leaf_blocks_layout(self) -> None:
        self.assertEqual([off for off, _ in self.blocks], list(self.layout.offsets))
        self.assertEqual(self.j.shape, (18, self.layout.total))
        leaves = self.net.jacobian_leaves(self.x)
        # Row i·C + c, columns of leaf k: leaf k's [i, c] flattened in C order.
        for i in range(6):
            for c in range(3):
                for k, (a, b) in enumerate(self.layout.columns(k) for k in range(4)):
                    np.testing.assert_array_equal(self.j[i * 3 + c, a:b], leaves[k][i, c].reshape(-1))
        with self.assertRaisesRegex(ValueError, "expected n=6 x C=3"):
            leaf_blocks([np.zeros((6, 2, 7, 5))] + leaves[1:], self.layout, 6, 3)

    def test_sketch_uses_the_shared_rule(self) -> None:
        z = sketch_from_blocks(self.blocks, 77, 16, "gaussian")
        want = sketch_reference(self.j, 77, 16)
        # float64 blocks, float64 Ω: only the summation order differs (≈ P·2^-53 relative).
        self.assertLess(np.abs(z - want).max(), 1e-12 * np.abs(want).max())
        z32 = sketch_from_blocks([(o, b.astype(np.float32)) for o, b in self.blocks], 77, 16, "gaussian")
        self.assertEqual(z32.dtype, np.float32)  # Ω follows the Jacobian's dtype
        # float32: J and Ω rounded (2^-24 each), P = 70-term dot products: 1e-5 of max |Z| is ample.
        self.assertLess(np.abs(z32 - want).max(), 1e-5 * np.abs(want).max())

    def test_sketch_equals_the_torch_adapters(self) -> None:
        torch = support.require("torch", "torch")
        from ntk_sidecar.torch_adapter import TorchNtk
        model = torch.nn.Sequential(torch.nn.Linear(5, 7), torch.nn.Tanh(), torch.nn.Linear(7, 3)).double()
        with torch.no_grad():
            for p, v in zip(model.parameters(), self.net.params):
                p.copy_(torch.from_numpy(v))
        ntk = TorchNtk(model, torch.from_numpy(self.x), mode="sketch", sketch_dim=16, sketch_seed=77, dtype="f64")
        z_torch = ntk.kernel_tensor().to_dense()
        z_np = sketch_from_blocks(self.blocks, 77, 16, "gaussian")
        # Both multiply float64 Jacobians by float64 Ω rows: agreement to float64 rounding.
        self.assertLess(np.abs(z_torch - z_np).max(), 1e-12 * np.abs(z_np).max())

    def test_gram_and_trace(self) -> None:
        k = gram_from_blocks(self.blocks)
        np.testing.assert_allclose(k, self.j @ self.j.T, rtol=1e-13, atol=1e-13)
        kbar = trace_gram(k, 6, 3)
        want = sum(k[c::3, c::3] for c in range(3)) / 3
        np.testing.assert_allclose(kbar, want, rtol=1e-14, atol=0)

    def test_chunked_blocks_reassemble(self) -> None:
        tensor = TensorData("jacobian", "f64", 18, self.layout.total, self.blocks)
        msgs = list(snapshot_messages(Snapshot(step=1, train_loss=1.0, tensors=[tensor]), 1, max_chunk_bytes=18 * 8 * 4))
        got = np.zeros_like(self.j)
        for m in msgs[1:-1]:
            ch = m.chunk
            got[:, ch.offset:ch.offset + ch.cols] = np.frombuffer(ch.data, "<f8").reshape(ch.rows, ch.cols)
        np.testing.assert_array_equal(got, self.j)


class FlaxHookTest(unittest.TestCase):
    def test_hook_snapshots_the_params_it_is_given(self) -> None:
        seen = []

        class FakeNtk:
            def snapshot(self, params, step, train_loss=None, **header):
                seen.append((params, step))
                return Snapshot(step=step, train_loss=train_loss)

        class FakeClient:
            decision = None

            def __init__(self):
                self.submitted = []

            def submit(self, s):
                self.submitted.append(s.step)

            def send_scalars(self, *a, **k):
                pass

            def close(self, *a, **k):
                pass

        client = FakeClient()
        hook = FlaxHook(FakeNtk(), client, snapshot_every=2)
        for step in range(1, 6):
            self.assertFalse(hook(step, {"w": step}, loss=0.5))
        self.assertEqual(seen, [({"w": 1}, 1), ({"w": 3}, 3), ({"w": 5}, 5)])
        self.assertEqual(client.submitted, [1, 3, 5])


class JaxAdapterTest(unittest.TestCase):
    def test_jax_adapter_against_closed_form(self) -> None:
        jax = support.require("jax", "jax")
        from ntk_sidecar.jax_adapter import JaxNtk
        net = NumpyMlp(0)
        x = np.random.default_rng(1).standard_normal((6, 5)).astype(np.float32)

        def apply(params, xb):
            w1, b1, w2, b2 = params
            return jax.numpy.tanh(xb @ w1.T + b1) @ w2.T + b2

        params = [jax.numpy.asarray(p, dtype=jax.numpy.float32) for p in net.params]
        ntk = JaxNtk(apply, x, mode="jacobian")
        got = ntk.kernel_tensor(params).to_dense()
        want = np.concatenate([b for _, b in leaf_blocks(net.jacobian_leaves(x.astype(np.float64)),
                                                         ParamLayout.from_shapes(net.names, [p.shape for p in net.params]), 6, 3)], 1)
        self.assertLess(np.abs(got - want).max(), 1e-5 * np.abs(want).max())


if __name__ == "__main__":
    unittest.main()
