"""JAX adapter: per-sample Jacobians over a params pytree (one block per leaf), sketches with the same
(seed, block) rule as the torch adapter, and a Flax/optax-friendly helper.

    ntk = JaxNtk(lambda p, x: model.apply({"params": p}, x), probe_x, probe_targets=probe_y, mode="sketch")
    client = SidecarClient("127.0.0.1:50051", ntk.run_spec(params, run_id="jax-run"))
    ...
    if step % 200 == 0:
        client.submit(ntk.snapshot(params, step, train_loss=float(loss)))

J = jax.vmap(jax.jacrev(f), in_axes=(None, 0))(params, X) with f(p, x) = apply_fn(p, x[None])[0]: a pytree whose
leaf k is (n, C, *leaf_k.shape). Columns follow `jax.tree_util.tree_flatten(params)` order (for Flax's dict
params: sorted keys, depth first), each leaf in C order; that order is the layout (layout.py), and sketch.py's
Ω rows follow the same global column index, so a torch and a JAX model with the same flattened parameters get
the same Ω. Matrix products use Precision.HIGHEST (no TF32/bf16 passes, docs/science.md A0); Grams are float64 when
jax_enable_x64 is on, otherwise float32 at HIGHEST precision (ε_src = 1e-6, docs/science.md A0) — or pass
`gram_on_host=True` to reduce in float64 with numpy on the host.

jax is imported lazily: importing ntk_sidecar never needs it.
"""

from __future__ import annotations

import hashlib
import time
from typing import Any, Callable, Literal

import numpy as np

from .blocks import gram_from_blocks, leaf_blocks, sketch_from_blocks, trace_gram
from .dtypes import check_dtype
from .layout import ParamLayout
from .messages import RunSpec
from .monitor import SidecarMonitor
from .probe_loss import probe_loss
from .sketch import check_kind
from .snapshot import Snapshot, TensorData

Mode = Literal["jacobian", "sketch", "gram", "logits"]


def _jax() -> Any:
    try:
        import jax
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise ImportError("ntk_sidecar.jax_adapter needs jax: pip install 'ntk-sidecar[jax]'") from err
    return jax


def pytree_layout(params: Any) -> ParamLayout:
    """Column layout of a params pytree: leaves in tree_flatten order, named by their key paths."""
    jax = _jax()
    tu = jax.tree_util
    if hasattr(tu, "tree_flatten_with_path"):
        pairs, _ = tu.tree_flatten_with_path(params)
        names = [tu.keystr(path) for path, _ in pairs]
        leaves = [leaf for _, leaf in pairs]
    else:  # older jax: positional names
        leaves, _ = tu.tree_flatten(params)
        names = [f"leaf{k}" for k in range(len(leaves))]
    return ParamLayout.from_shapes(names, [tuple(np.shape(leaf)) for leaf in leaves])


class JaxNtk:
    """Snapshots of `apply_fn(params, x_batch) -> (b, C) or (b,)` on the probe inputs (batch axis first)."""

    def __init__(
        self,
        apply_fn: Callable[[Any, Any], Any],
        probe_inputs: Any,
        *,
        probe_targets: Any = None,
        mode: Mode = "jacobian",
        reduction: Literal["full", "trace"] = "full",
        dtype: str = "f32",
        sketch_dim: int = 256,
        sketch_seed: int = 0,
        sketch_kind: str = "gaussian",
        loss: Literal["mse", "cross_entropy"] | None = None,
        loss_scale: float = 0.0,
        gram_on_host: bool = False,
    ) -> None:
        if mode not in ("jacobian", "sketch", "gram", "logits"):
            raise ValueError(f"mode {mode!r} is not one of jacobian, sketch, gram, logits")
        jax = _jax()
        self.jax = jax
        self.jnp = jax.numpy
        self.apply_fn = apply_fn
        self.inputs = probe_inputs
        self.samples = int(np.shape(probe_inputs)[0])
        self.targets = probe_targets
        self.mode: Mode = mode
        self.reduction = reduction
        self.dtype = check_dtype(dtype)
        self.sketch_dim = sketch_dim
        self.sketch_seed = sketch_seed
        self.sketch_kind = check_kind(sketch_kind)
        self.loss = loss
        self.loss_scale = loss_scale
        self.gram_on_host = gram_on_host
        self.outputs: int | None = None
        self.last_timing: dict[str, float] = {}

        def single(params: Any, x: Any) -> Any:
            return self.jnp.reshape(apply_fn(params, x[None]), (-1,))

        self._jac = jax.jit(jax.vmap(jax.jacrev(single), in_axes=(None, 0)))
        self._logits = jax.jit(lambda p, x: self.jnp.reshape(apply_fn(p, x), (np.shape(x)[0], -1)))
        highest = jax.lax.Precision.HIGHEST
        self._matmul = lambda a, b: self.jnp.matmul(a, b, precision=highest)

    def _outputs(self, params: Any) -> int:
        if self.outputs is None:
            self.outputs = int(self._logits(params, self.inputs[:1]).shape[1])
        return self.outputs

    def run_spec(self, params: Any, run_id: str, **fields: Any) -> RunSpec:
        layout = pytree_layout(params)
        x = np.ascontiguousarray(np.asarray(self.inputs, dtype=np.float32))
        base: dict[str, Any] = dict(
            run_id=run_id, num_samples=self.samples, num_outputs=self._outputs(params),
            targets=None if self.targets is None else np.asarray(self.targets, dtype=np.float32),
            param_count=layout.total, loss=self.loss, loss_scale=self.loss_scale,
            sample_ids_hash=hashlib.sha256(str(x.shape).encode() + x.tobytes()).hexdigest()[:32])
        if self.mode == "sketch":
            base.update(sketch_dim=self.sketch_dim, sketch_seed=self.sketch_seed, sketch_kind=self.sketch_kind)
        base.update(fields)
        return RunSpec(**base)

    def jacobian_blocks(self, params: Any) -> list[tuple[int, Any]]:
        """(first column, N x leaf size) per leaf, on the device."""
        layout = pytree_layout(params)
        jac = self._jac(params, self.inputs)
        leaves = self.jax.tree_util.tree_leaves(jac)
        return leaf_blocks(leaves, layout, self.samples, self._outputs(params))

    def kernel_tensor(self, params: Any) -> TensorData | None:
        if self.mode == "logits":
            return None
        t0 = time.perf_counter()
        blocks = self.jacobian_blocks(params)
        self.jax.block_until_ready([b for _, b in blocks])
        t1 = time.perf_counter()
        n, c = self.samples, self._outputs(params)
        rows = n * c
        if self.mode == "jacobian":
            host = [(off, np.asarray(b, dtype=np.float64 if self.dtype == "f64" else np.float32)) for off, b in blocks]
            out = TensorData("jacobian", self.dtype, rows, pytree_layout(params).total, host)
        elif self.mode == "sketch":
            z = sketch_from_blocks(blocks, self.sketch_seed, self.sketch_dim, self.sketch_kind, xp=self.jnp,
                                   matmul=self._matmul, to_array=self.jnp.asarray)
            out = TensorData.dense("sketch", np.asarray(z), self.dtype)
        else:
            if self.gram_on_host:
                g = gram_from_blocks([(o, np.asarray(b)) for o, b in blocks])
                xp: Any = np
            else:
                x64 = self.jax.dtypes.canonicalize_dtype(np.float64) == np.float64  # jax_enable_x64 is on
                g = gram_from_blocks(blocks, xp=self.jnp, matmul=self._matmul,
                                     dtype=self.jnp.float64 if x64 else self.jnp.float32)
                xp = self.jnp
            if self.reduction == "trace":
                g = trace_gram(g, n, c, xp)
            out = TensorData.dense("gram", np.asarray(g, dtype=np.float64), "f64")
        self.last_timing = {"jacobian_s": t1 - t0, "reduce_s": time.perf_counter() - t1}
        return out

    def snapshot(self, params: Any, step: int, train_loss: float | None = None, *, learning_rate: float = 0.0,
                 samples_seen: int = 0, compute_spent: float = 0.0, with_logits: bool = True) -> Snapshot:
        tensors = []
        kernel = self.kernel_tensor(params)
        if kernel is not None:
            tensors.append(kernel)
        logits = np.asarray(self._logits(params, self.inputs), dtype=np.float32)
        if with_logits or self.mode == "logits":
            tensors.append(TensorData.dense("logits", logits, "f32"))
        loss = train_loss if train_loss is not None else probe_loss(logits, self.targets, self.loss, self.loss_scale)
        return Snapshot(step=step, train_loss=float(loss), tensors=tensors, reduction=self.reduction,
                        learning_rate=learning_rate, samples_seen=samples_seen, compute_spent=compute_spent)



class FlaxHook:
    """For a Flax/optax loop, where params are values rather than module state: `hook(step, params, loss)`
    runs SidecarMonitor.on_step (scalars, a snapshot every `snapshot_every` steps, shadow mode, `sync`) with
    snapshots of those params, and returns True when training should stop."""

    def __init__(self, ntk: JaxNtk, client: Any, **monitor_options: Any) -> None:
        self.ntk = ntk
        self._params: Any = None
        self.monitor = SidecarMonitor(client, self._snapshot, **monitor_options)

    def _snapshot(self, step: int, train_loss: float | None, **header: Any) -> Snapshot:
        return self.ntk.snapshot(self._params, step, train_loss, **header)

    def __call__(self, step: int, params: Any, loss: Any = None, **scalars: Any) -> bool:
        self._params = params
        try:
            return self.monitor.on_step(step, loss, **scalars)
        finally:
            self._params = None

    def close(self, status: str | None = None) -> None:
        self.monitor.close(status)
