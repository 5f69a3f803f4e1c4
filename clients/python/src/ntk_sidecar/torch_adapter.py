"""PyTorch adapter: per-sample output Jacobians on a fixed probe set, and the snapshot they make.

J[(i, c), p] = ∂f_c(x_i)/∂θ_p (docs/science.md §0), rows sample-major, columns = the trainable parameters in
`module.named_parameters()` order, each flattened in C order (layout.py). The Jacobian is computed group by
group of parameter tensors (each group's N x P_g block under `max_block_bytes`) with `torch.func` (torch >= 2)
or `functorch` (torch 1.13): vmap over the probe samples of jacrev w.r.t. the group's parameters; `method=
"loop"` (or an op that vmap cannot batch) uses one autograd.grad per row instead. Per mode, a snapshot carries:
  * "jacobian": the blocks themselves (N x P, column blocks, float32 on the wire by default);
  * "sketch":   Z = Σ_g J_g Ω_g with Ω from sketch.py's (seed, block) rule, on the model's device;
  * "gram":     K = Σ_g J_g J_gᵀ in float64 on the device with TF32 off (docs/science.md A0), sent as f64;
                TRACE reduction sends K̄[i,j] = (1/C) Σ_c K[(i,c),(j,c)] (n x n), computed as J'J'ᵀ/C with J' the
                block reshaped to n x (C·P_g) (n²·C·P flops, not the full Gram's (nC)²·P);
                `projection="sum"` / `"random"` sends the projected NTK (Mohamadi, Bae & Sutherland, ICML 2023) as
                a traced n x n Gram: the Jacobian of v_rᵀf (n·k rows, k = projection_dim) instead of f's (n·C),
                K_p = (1/k) Σ_r J_r J_rᵀ, which approximates K̄ at n·k instead of n·C backward passes;
  * "logits":   only the probe logits (docs/science.md §B).
Logits (n x C) ride along with every kernel mode. With `eval_inputs` (off by default), every snapshot also
carries the logits on an evaluation probe (n_eval x C, TENSOR_KIND_EVAL_LOGITS; one forward pass in batches of
`eval_batch_size`, docs/generalization.md G4). The model is evaluated in eval() mode (no dropout, running
batch-norm statistics) and its training flag restored afterwards. `TorchNtk.from_training_set` picks both
probes from a training set with the client defaults (n = 128, n_eval = 1024 when asked for).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import time
from typing import Any, Callable, Iterator, Literal, Sequence

import numpy as np
import torch

from .dtypes import check_dtype
from .layout import ParamLayout
from .messages import RunSpec
from .probe import DEFAULT_EVAL_SAMPLES, DEFAULT_PROBE_SAMPLES, choose_probe
from .probe_loss import probe_loss
from .sketch import check_kind, omega_pieces
from .snapshot import Snapshot, TensorData

LOG = logging.getLogger("ntk_sidecar")

Mode = Literal["jacobian", "sketch", "gram", "logits"]


def _func_api() -> tuple[Callable[..., Any], Callable[..., Any], Callable[..., Any]] | None:
    """(vmap, jacrev, functional_call) from torch.func (torch >= 2) or functorch (torch 1.13); None if neither."""
    try:
        from torch.func import functional_call, jacrev, vmap  # type: ignore[attr-defined]
        return vmap, jacrev, functional_call
    except ImportError:
        pass
    try:
        from functorch import jacrev, vmap
        from torch.nn.utils.stateless import functional_call
        return vmap, jacrev, functional_call
    except ImportError:
        return None


@contextlib.contextmanager
def _no_tf32() -> Iterator[None]:
    """TF32 off for the kernel products (docs/science.md A0: TF32 Grams make small eigenvalues noise)."""
    matmul = torch.backends.cuda.matmul.allow_tf32
    cudnn = torch.backends.cudnn.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    try:
        yield
    finally:
        torch.backends.cuda.matmul.allow_tf32 = matmul
        torch.backends.cudnn.allow_tf32 = cudnn


@contextlib.contextmanager
def _eval_mode(model: torch.nn.Module) -> Iterator[None]:
    was = model.training
    model.eval()
    try:
        yield
    finally:
        model.train(was)


def trace_gram(gram: torch.Tensor, samples: int, outputs: int) -> torch.Tensor:
    """K̄[i,j] = (1/C) Σ_c K[(i,c),(j,c)] of an N x N kernel with sample-major rows (docs/science.md §0)."""
    k = gram.reshape(samples, outputs, samples, outputs)
    return torch.diagonal(k, dim1=1, dim2=3).sum(-1) / outputs


def probe_hash(inputs: torch.Tensor) -> str:
    """A stable hash of the probe inputs, for RunStart.probe.sample_ids_hash (a changed probe set is refused)."""
    arr = np.ascontiguousarray(inputs.detach().to("cpu", torch.float32).numpy())
    return hashlib.sha256(str(arr.shape).encode() + arr.tobytes()).hexdigest()[:32]


class TorchNtk:
    """Snapshots of `model` on the probe inputs `probe_inputs` (n samples, batch dimension first).

    `model(x)` must map a batch (b, ...) to outputs (b, C) (or (b,) for C = 1). `probe_targets`: (n, C) values or
    (n,) class labels, sent in RunStart and used for the probe loss when a snapshot gets no train loss.

    Evaluation probe (default off): `eval_inputs` (n_eval samples, e.g. 512–2048 training samples) and
    `eval_targets` ((n_eval,) labels or (n_eval, C) targets); every snapshot then carries their logits
    ("eval_logits", forward only). `eval_held_out=True` declares samples the trainer never trains on.
    `train_set_size` (M) goes into the RunSpec.
    """

    def __init__(
        self,
        model: torch.nn.Module,
        probe_inputs: torch.Tensor,
        *,
        probe_targets: torch.Tensor | np.ndarray | None = None,
        mode: Mode = "jacobian",
        reduction: Literal["full", "trace"] = "full",
        dtype: str = "f32",
        sketch_dim: int = 256,
        sketch_seed: int = 0,
        sketch_kind: str = "gaussian",
        loss: Literal["mse", "cross_entropy"] | None = None,
        loss_scale: float = 0.0,
        method: Literal["auto", "vmap", "loop"] = "auto",
        max_block_bytes: int = 256 << 20,
        omega_cache_bytes: int = 256 << 20,
        params: Sequence[tuple[str, torch.nn.Parameter]] | None = None,
        eval_inputs: torch.Tensor | None = None,
        eval_targets: torch.Tensor | np.ndarray | None = None,
        eval_held_out: bool = False,
        eval_batch_size: int = 1024,
        train_set_size: int = 0,
        projection: Literal["none", "sum", "random"] = "none",
        projection_dim: int = 1,
        projection_seed: int = 0,
    ) -> None:
        if projection not in ("none", "sum", "random"):
            raise ValueError(f"projection {projection!r} is not 'none', 'sum' or 'random'")
        if projection != "none" and mode not in ("gram", "logits"):
            raise ValueError(f"projection={projection!r} needs mode='gram' (the projected NTK is sent as a traced Gram)")
        if projection == "random" and projection_dim < 1:
            raise ValueError(f"projection_dim = {projection_dim}; it must be >= 1")
        if projection != "none":
            reduction = "trace"
        if mode not in ("jacobian", "sketch", "gram", "logits"):
            raise ValueError(f"mode {mode!r} is not one of jacobian, sketch, gram, logits")
        if reduction not in ("full", "trace"):
            raise ValueError(f"reduction {reduction!r} is not 'full' or 'trace'")
        if method not in ("auto", "vmap", "loop"):
            raise ValueError(f"method {method!r} is not 'auto', 'vmap' or 'loop'")
        if mode == "sketch" and sketch_dim < 1:
            raise ValueError(f"sketch_dim = {sketch_dim}; it must be >= 1")
        self.model = model
        self.inputs = probe_inputs.detach()
        self.samples = int(self.inputs.shape[0])
        self.mode: Mode = mode
        self.reduction = reduction
        self.dtype = check_dtype(dtype)
        self.sketch_dim = sketch_dim
        self.sketch_seed = sketch_seed
        self.sketch_kind = check_kind(sketch_kind)
        self.loss = loss
        self.loss_scale = loss_scale
        self.method = method
        self.max_block_bytes = max_block_bytes
        self.omega_cache_bytes = omega_cache_bytes
        named = list(params) if params is not None else [(n, p) for n, p in model.named_parameters() if p.requires_grad]
        if not named:
            raise ValueError("the model has no trainable parameters")
        self._named = named
        self.layout = ParamLayout.from_shapes([n for n, _ in named], [tuple(p.shape) for _, p in named])
        with torch.no_grad(), _eval_mode(model):
            out = model(self.inputs[:1])
        self.outputs = 1 if out.dim() == 1 else int(out.reshape(out.shape[0], -1).shape[1])
        self.rows = self.samples * self.outputs
        self.projection = projection
        # V (C x k): the output directions whose gradients are taken, unit vectors. "sum": v = 1/√C (the pNTK's
        # sum of logits, Mohamadi et al.'s scaling); "random": k orthonormal columns of a Haar-random C x C rotation
        # (QR of a PCG64(projection_seed) Gaussian, signs fixed), the same for the whole run. E[v vᵀ] = I/C for
        # each column, so (1/k) Σ_r ⟨∇v_rᵀf(x_i), ∇v_rᵀf(x_j)⟩ has mean K̄ = (1/C) Σ_c K_(ic),(jc) with no norm
        # noise (Gaussian columns would add a χ² scale error of √(2/(kC))), and is K̄ exactly at k = C.
        self._proj: torch.Tensor | None = None
        if projection == "sum":
            self._proj = torch.full((self.outputs, 1), self.outputs ** -0.5)
        elif projection == "random":
            if projection_dim > self.outputs:
                raise ValueError(f"projection_dim = {projection_dim} > C = {self.outputs} outputs")
            rng = np.random.Generator(np.random.PCG64(projection_seed))
            q, r = np.linalg.qr(rng.standard_normal((self.outputs, self.outputs)))
            q = q * np.where(np.diag(r) < 0, -1.0, 1.0)
            self._proj = torch.from_numpy(np.ascontiguousarray(q[:, :projection_dim]))
        self.projection_dim = 0 if self._proj is None else int(self._proj.shape[1])
        if self._proj is not None:
            self._proj = self._proj.to(dtype=out.dtype, device=out.device)
        # Rows of the Jacobian this adapter computes: n·C, or n·k with a projection.
        self.jac_rows = self.rows if self._proj is None else self.samples * self.projection_dim
        self.targets = None if probe_targets is None else torch.as_tensor(probe_targets).detach()
        if eval_inputs is None and (eval_targets is not None or eval_held_out):
            raise ValueError("eval_targets/eval_held_out given without eval_inputs")
        if eval_inputs is not None and eval_targets is None:
            raise ValueError("eval_inputs need their labels: pass eval_targets ((n_eval,) class labels or (n_eval, C) "
                             "targets); the sidecar refuses an evaluation probe without them")
        if eval_batch_size < 1:
            raise ValueError(f"eval_batch_size = {eval_batch_size}; it must be >= 1")
        self.eval_inputs = None if eval_inputs is None else eval_inputs.detach()
        self.eval_samples = 0 if self.eval_inputs is None else int(self.eval_inputs.shape[0])
        if self.eval_inputs is not None and self.eval_samples < 1:
            raise ValueError("eval_inputs is empty")
        self.eval_targets = None if eval_targets is None else torch.as_tensor(eval_targets).detach()
        if self.eval_targets is not None and int(self.eval_targets.shape[0]) != self.eval_samples:
            raise ValueError(f"eval_targets has {int(self.eval_targets.shape[0])} rows but eval_inputs has "
                             f"{self.eval_samples} samples")
        if self.targets is not None and int(self.targets.shape[0]) != self.samples:
            raise ValueError(f"probe_targets has {int(self.targets.shape[0])} rows but probe_inputs has "
                             f"{self.samples} samples")
        self.eval_held_out = eval_held_out
        self.eval_batch_size = eval_batch_size
        self.train_set_size = train_set_size
        self._omega_cache: dict[tuple[int, int], torch.Tensor] = {}
        self._omega_cached_bytes = 0
        self._func = _func_api()
        self._vmap_failed = False
        self.last_timing: dict[str, float] = {}
        self._host_dtype = torch.float64 if self.dtype == "f64" else torch.float32

    # --------------------------------------------------------------------------------------------
    def run_spec(self, run_id: str, **fields: Any) -> RunSpec:
        """A RunSpec with the probe shape, targets, parameter count, loss and sketch filled in."""
        targets = None if self.targets is None else self.targets.detach().to("cpu", torch.float32).numpy()
        base: dict[str, Any] = dict(
            run_id=run_id, num_samples=self.samples, num_outputs=self.outputs, targets=targets,
            param_count=self.layout.total, sample_ids_hash=probe_hash(self.inputs),
            loss=self.loss, loss_scale=self.loss_scale)
        if self.mode == "sketch":
            base.update(sketch_dim=self.sketch_dim, sketch_seed=self.sketch_seed, sketch_kind=self.sketch_kind)
        if self.train_set_size:
            base.update(train_set_size=self.train_set_size)
        if self.eval_inputs is not None:
            base.update(eval_samples=self.eval_samples, eval_held_out=self.eval_held_out,
                        eval_sample_ids_hash=probe_hash(self.eval_inputs),
                        eval_targets=None if self.eval_targets is None
                        else self.eval_targets.detach().to("cpu", torch.float32).numpy())
        base.update(fields)
        return RunSpec(**base)

    @classmethod
    def from_training_set(cls, model: torch.nn.Module, inputs: torch.Tensor, targets: torch.Tensor | None = None,
                          *, n: int = DEFAULT_PROBE_SAMPLES, eval_samples: int = 0, seed: int = 0,
                          **kwargs: Any) -> "TorchNtk":
        """A TorchNtk whose kernel probe is n fixed training samples (default 128) and, with `eval_samples` > 0
        (e.g. DEFAULT_EVAL_SAMPLES = 1024), an evaluation probe of that many further training samples
        (probe.choose_probe; seeded, so every run of a sweep uses the same probes). `train_set_size` is set to
        the training set's size."""
        probe, evals = choose_probe(int(inputs.shape[0]), n, eval_samples, seed)
        targets = None if targets is None else torch.as_tensor(targets)
        pi = torch.as_tensor(probe, device=inputs.device)
        kwargs.setdefault("train_set_size", int(inputs.shape[0]))
        if targets is not None:
            kwargs.setdefault("probe_targets", targets[torch.as_tensor(probe, device=targets.device)])
        if eval_samples > 0:
            kwargs.setdefault("eval_inputs", inputs[torch.as_tensor(evals, device=inputs.device)])
            if targets is not None:
                kwargs.setdefault("eval_targets", targets[torch.as_tensor(evals, device=targets.device)])
        return cls(model, inputs[pi], **kwargs)

    def _forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.model(x)
        return out.reshape(out.shape[0], -1)

    def logits(self) -> torch.Tensor:
        """(n, C) outputs on the probe set."""
        with torch.no_grad(), _eval_mode(self.model):
            return self._forward(self.inputs)

    def eval_logits(self) -> torch.Tensor | None:
        """(n_eval, C) outputs on the evaluation probe (batches of eval_batch_size), or None without one."""
        if self.eval_inputs is None:
            return None
        with torch.no_grad(), _eval_mode(self.model):
            parts = [self._forward(self.eval_inputs[a:a + self.eval_batch_size])
                     for a in range(0, self.eval_samples, self.eval_batch_size)]
        return torch.cat(parts)

    def probe_loss(self, logits: torch.Tensor) -> float:
        """Loss on the probe set (docs/science.md §0 conventions), used when a snapshot is given no train loss."""
        targets = None if self.targets is None else self.targets.detach().cpu().numpy()
        return probe_loss(logits.detach().cpu().double().numpy(), targets, self.loss, self.loss_scale)

    # --------------------------------------------------------------------------------------------
    def jacobian_blocks(self) -> Iterator[tuple[int, torch.Tensor]]:
        """(first column, N x P_g block) per group of parameter tensors, on the parameters' device and dtype."""
        groups = self.layout.groups(self.jac_rows, self._named[0][1].element_size(), self.max_block_bytes)
        with _eval_mode(self.model):
            for group in groups:
                yield self.layout.offsets[group[0]], self._group_jacobian(group)

    def _group_jacobian(self, group: list[int]) -> torch.Tensor:
        use_vmap = self._func is not None and self.method != "loop" and not self._vmap_failed
        if use_vmap:
            try:
                return self._group_jacobian_vmap(group)
            except Exception as err:  # an op vmap cannot batch: fall back for the rest of the run
                if self.method == "vmap":
                    raise
                self._vmap_failed = True
                LOG.warning("ntk-sidecar: vmap(jacrev) failed (%s: %s); using the per-row autograd loop",
                            type(err).__name__, err)
        return self._group_jacobian_loop(group)

    def _group_jacobian_vmap(self, group: list[int]) -> torch.Tensor:
        assert self._func is not None
        vmap, jacrev, functional_call = self._func
        model = self.model
        fixed = {n: p.detach() for n, p in model.named_parameters()}
        fixed.update({n: b for n, b in model.named_buffers()})
        names = [self._named[k][0] for k in group]
        primals = tuple(self._named[k][1].detach() for k in group)
        proj = self._proj

        def f(group_params: tuple[torch.Tensor, ...], x: torch.Tensor) -> torch.Tensor:
            merged = dict(fixed)
            merged.update(zip(names, group_params))
            out = functional_call(model, merged, (x.unsqueeze(0),)).reshape(-1)
            return out if proj is None else out @ proj

        jac = vmap(jacrev(f), in_dims=(None, 0))(primals, self.inputs)  # per leaf: (n, C or k, *shape)
        return torch.cat([j.reshape(self.jac_rows, -1) for j in jac], dim=1)

    def _group_jacobian_loop(self, group: list[int]) -> torch.Tensor:
        params = [self._named[k][1] for k in group]
        cols = sum(self.layout.sizes[k] for k in group)
        out = torch.empty(self.jac_rows, cols, dtype=params[0].dtype, device=params[0].device)
        per = self.jac_rows // self.samples
        for i in range(self.samples):
            with torch.enable_grad():
                y = self._forward(self.inputs[i:i + 1])[0]
                if self._proj is not None:
                    y = y @ self._proj
                for c in range(per):
                    grads = torch.autograd.grad(y[c], params, retain_graph=c + 1 < per, allow_unused=True)
                    row = [torch.zeros_like(p).reshape(-1) if g is None else g.reshape(-1) for g, p in zip(grads, params)]
                    out[i * per + c] = torch.cat(row)
        return out

    def _omega(self, start: int, stop: int, like: torch.Tensor) -> torch.Tensor:
        """Rows [start, stop) of Ω on `like`'s device and dtype, cached while under omega_cache_bytes."""
        key = (start, stop)
        hit = self._omega_cache.get(key)
        if hit is not None:
            return hit
        omega = torch.empty(stop - start, self.sketch_dim, dtype=like.dtype, device=like.device)
        for a, b, piece in omega_pieces(self.sketch_seed, self.sketch_dim, self.sketch_kind, start, stop):
            omega[a - start:b - start] = torch.from_numpy(piece)
        size = omega.numel() * omega.element_size()
        if self._omega_cached_bytes + size <= self.omega_cache_bytes:
            self._omega_cache[key] = omega
            self._omega_cached_bytes += size
        return omega

    # --------------------------------------------------------------------------------------------
    def kernel_tensor(self) -> TensorData | None:
        """The snapshot's kernel source for this mode (None in logits mode); timings in `last_timing`."""
        t0 = time.perf_counter()
        timing = {"jacobian_s": 0.0, "reduce_s": 0.0, "to_host_s": 0.0}
        if self.mode == "logits":
            self.last_timing = timing
            return None
        blocks: list[tuple[int, np.ndarray]] = []
        acc: torch.Tensor | None = None
        with _no_tf32():
            for offset, jac in self.jacobian_blocks():
                t1 = time.perf_counter()
                timing["jacobian_s"] += t1 - t0
                if self.mode == "jacobian":
                    blocks.append((offset, jac.detach().to("cpu", self._host_dtype).numpy()))
                    timing["to_host_s"] += time.perf_counter() - t1
                elif self.mode == "sketch":
                    part = (jac @ self._omega(offset, offset + jac.shape[1], jac)).double()
                    acc = part if acc is None else acc + part
                    timing["reduce_s"] += time.perf_counter() - t1
                else:
                    # On the Jacobian's device, float64. Traced (or projected): J' = the block as n x (rows/n · P_g),
                    # so K̄ = J'J'ᵀ/(rows/n) without the N x N Gram.
                    j64 = jac.double()
                    if self.reduction == "trace":
                        j64 = j64.reshape(self.samples, -1)
                    part = j64 @ j64.T
                    acc = part if acc is None else acc + part
                    timing["reduce_s"] += time.perf_counter() - t1
                t0 = time.perf_counter()
        out: TensorData
        if self.mode == "jacobian":
            out = TensorData("jacobian", self.dtype, self.rows, self.layout.total, blocks)
        else:
            assert acc is not None
            t1 = time.perf_counter()
            if self.mode == "sketch":
                out = TensorData.dense("sketch", acc.to("cpu", self._host_dtype).numpy(), self.dtype)
            else:
                gram = acc / (self.jac_rows // self.samples) if self.reduction == "trace" else acc
                gram = (gram + gram.T) / 2  # exact symmetry before float64 transport
                out = TensorData.dense("gram", gram.cpu().numpy(), "f64")
            timing["to_host_s"] += time.perf_counter() - t1
        self.last_timing = timing
        return out

    def snapshot(self, step: int, train_loss: float | None = None, *, learning_rate: float = 0.0,
                 samples_seen: int = 0, compute_spent: float = 0.0, with_logits: bool = True) -> Snapshot:
        """A snapshot of the model now (on the training thread: it reads the live parameters)."""
        start = time.perf_counter()
        tensors: list[TensorData] = []
        kernel = self.kernel_tensor()
        if kernel is not None:
            tensors.append(kernel)
        send_logits = with_logits or self.mode == "logits"
        logits = self.logits() if send_logits or train_loss is None else None
        if send_logits and logits is not None:
            tensors.append(TensorData.dense("logits", logits.detach().to("cpu", torch.float32).numpy(), "f32"))
        if self.eval_inputs is not None:
            t1 = time.perf_counter()
            ev = self.eval_logits()
            assert ev is not None
            tensors.append(TensorData.dense("eval_logits", ev.detach().to("cpu", torch.float32).numpy(), "f32"))
            self.last_timing["eval_s"] = time.perf_counter() - t1
        loss = train_loss if train_loss is not None else self.probe_loss(logits)  # type: ignore[arg-type]
        self.last_timing["total_s"] = time.perf_counter() - start
        return Snapshot(step=step, train_loss=float(loss), tensors=tensors, reduction=self.reduction,
                        learning_rate=learning_rate, samples_seen=samples_seen, compute_spent=compute_spent)


__all__ = ["TorchNtk", "trace_gram", "probe_hash"]
