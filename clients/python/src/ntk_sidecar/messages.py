"""TrainerMessages of a run: RunStart from a RunSpec, a snapshot as header + chunks + end, Scalars, RunEnd.

Chunks are raw little-endian bytes (dtypes.py) of at most `max_chunk_bytes` each (docs/design.md §3: SHOULD be
<= 4 MiB). Jacobian/sketch chunks are all N rows x a column range, row-major inside the chunk; Gram/logits/eval
logits chunks are whole rows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Iterator, Literal, Mapping

import numpy as np

from ._proto import pb
from .crc32c import crc32c
from .dtypes import ITEMSIZE, PROTO_DTYPE, encode
from .layout import column_ranges, row_ranges
from .snapshot import COLUMN_KINDS, Snapshot, TensorData

DEFAULT_CHUNK_BYTES = 4 << 20

PROTO_KIND = {
    "jacobian": pb.TENSOR_KIND_JACOBIAN,
    "sketch": pb.TENSOR_KIND_SKETCH,
    "gram": pb.TENSOR_KIND_GRAM,
    "logits": pb.TENSOR_KIND_LOGITS,
    "eval_logits": pb.TENSOR_KIND_EVAL_LOGITS,
}
PROTO_REDUCTION = {"full": pb.KERNEL_REDUCTION_FULL, "trace": pb.KERNEL_REDUCTION_TRACE}
PROTO_LOSS = {"mse": pb.LOSS_KIND_MSE, "cross_entropy": pb.LOSS_KIND_CROSS_ENTROPY}
PROTO_OPTIMIZER = {"sgd": pb.OPTIMIZER_KIND_SGD, "momentum": pb.OPTIMIZER_KIND_MOMENTUM, "adam": pb.OPTIMIZER_KIND_ADAM}
PROTO_SKETCH = {"gaussian": pb.SKETCH_KIND_GAUSSIAN, "rademacher": pb.SKETCH_KIND_RADEMACHER}
PROTO_STATUS = {
    "completed": pb.RUN_STATUS_COMPLETED,
    "stopped": pb.RUN_STATUS_STOPPED,
    "failed": pb.RUN_STATUS_FAILED,
    "cancelled": pb.RUN_STATUS_CANCELLED,
}
RunStatus = Literal["completed", "stopped", "failed", "cancelled"]


@dataclass
class RunSpec:
    """Everything RunStart says about a run (sidecar.proto RunStart). `num_samples` (n) and `num_outputs` (C)
    fix the probe set; `loss_scale` is c_L of docs/science.md §0 (MSE only).

    Generalisation inputs (docs/generalization.md): `train_set_size` M (0 = unknown); an optional evaluation
    probe whose logits snapshots carry as `eval_logits` (n_eval x C): `eval_targets` its n_eval class labels or
    n_eval x C targets (required: the sidecar refuses an evaluation probe without labels; `eval_samples` = n_eval
    is taken from them),
    `eval_held_out` true when the trainer never trains on them, `eval_sample_ids_hash` a hash of the samples (a
    change mid-run is refused); `label_noise_sigma` σ of the labels (regression; 0 = unknown)."""

    run_id: str
    num_samples: int
    num_outputs: int = 1
    job_id: str = ""
    rank: int = 0
    world_size: int = 1
    cohort: str = ""
    labels: Mapping[str, str] = field(default_factory=dict)
    sample_ids_hash: str = ""
    targets: np.ndarray | None = None
    loss: Literal["mse", "cross_entropy"] | None = None
    loss_scale: float = 0.0
    optimizer: Literal["sgd", "momentum", "adam"] | None = None
    momentum: float = 0.0
    beta1: float = 0.0
    beta2: float = 0.0
    weight_decay: float = 0.0
    learning_rate: float = 0.0
    param_count: int = 0
    sketch_dim: int = 0
    sketch_seed: int = 0
    sketch_kind: Literal["gaussian", "rademacher"] = "gaussian"
    policy: str = ""
    max_steps: int = 0
    max_compute: float = 0.0
    warmup_steps: int = 0
    train_set_size: int = 0
    eval_samples: int = 0
    eval_targets: np.ndarray | None = None
    eval_held_out: bool = False
    eval_sample_ids_hash: str = ""
    label_noise_sigma: float = 0.0

    def __post_init__(self) -> None:
        if not self.run_id:
            raise ValueError("run_id is empty; give every run a unique id")
        if self.num_samples < 1 or self.num_outputs < 1:
            raise ValueError(f"probe set n = {self.num_samples}, C = {self.num_outputs}; both must be >= 1")
        if self.loss is not None and self.loss not in PROTO_LOSS:
            raise ValueError(f"loss {self.loss!r} is not one of {sorted(PROTO_LOSS)}")
        if self.optimizer is not None and self.optimizer not in PROTO_OPTIMIZER:
            raise ValueError(f"optimizer {self.optimizer!r} is not one of {sorted(PROTO_OPTIMIZER)}")
        if not math.isfinite(self.loss_scale) or self.loss_scale < 0:
            raise ValueError(f"loss_scale c_L = {self.loss_scale}; it must be finite and >= 0")
        if self.targets is not None:
            _check_targets("targets", self.targets, self.num_samples, self.num_outputs)
        if self.train_set_size < 0:
            raise ValueError(f"train_set_size M = {self.train_set_size}; it must be >= 0 (0 = unknown)")
        if not math.isfinite(self.label_noise_sigma) or self.label_noise_sigma < 0:
            raise ValueError(f"label_noise_sigma = {self.label_noise_sigma}; it must be finite and >= 0 (0 = unknown)")
        if self.eval_samples < 0:
            raise ValueError(f"eval_samples n_eval = {self.eval_samples}; it must be >= 0 (0 = no evaluation probe)")
        if self.eval_targets is not None:
            rows = int(np.shape(self.eval_targets)[0]) if np.ndim(self.eval_targets) else 0
            if self.eval_samples == 0:
                self.eval_samples = rows
            _check_targets("eval_targets", self.eval_targets, self.eval_samples, self.num_outputs)
        elif self.eval_samples:
            raise ValueError(f"an evaluation probe of {self.eval_samples} samples needs their labels: set eval_targets "
                             f"(({self.eval_samples},) class labels or ({self.eval_samples}, {self.num_outputs}) targets)")
        elif self.eval_held_out or self.eval_sample_ids_hash:
            raise ValueError("eval_held_out/eval_sample_ids_hash given without an evaluation probe; set eval_targets")
        if self.train_set_size:
            if self.num_samples > self.train_set_size:
                raise ValueError(f"probe set n = {self.num_samples} > train_set_size M = {self.train_set_size}; the "
                                 "probe is a subset of the training samples")
            if self.eval_samples > self.train_set_size and not self.eval_held_out:
                raise ValueError(f"evaluation probe n_eval = {self.eval_samples} > train_set_size M = "
                                 f"{self.train_set_size}; a probe of training samples is a subset of them (or set "
                                 "eval_held_out=True)")

    @property
    def has_eval_probe(self) -> bool:
        return self.eval_samples > 0

    def check_snapshot(self, snapshot: "Snapshot") -> None:
        """Raise ValueError when a snapshot's tensors do not fit this run (the sidecar would reject it): logits
        n x C, eval logits n_eval x C only with an evaluation probe, Gram/Jacobian/sketch with N = n·C rows (n
        rows for a traced Gram)."""
        n, c = self.num_samples, self.num_outputs
        for t in snapshot.tensors:
            if t.kind == "logits" and (t.rows, t.cols) != (n, c):
                raise ValueError(f"logits are {t.rows} x {t.cols}; the probe set is n x C = {n} x {c}")
            elif t.kind == "eval_logits":
                if not self.has_eval_probe:
                    raise ValueError(f"the snapshot carries eval logits ({t.rows} x {t.cols}) but run {self.run_id!r} "
                                     "declares no evaluation probe (RunSpec.eval_targets / eval_samples)")
                if (t.rows, t.cols) != (self.eval_samples, c):
                    raise ValueError(f"eval logits are {t.rows} x {t.cols}; the evaluation probe is n_eval x C = "
                                     f"{self.eval_samples} x {c}")
            elif t.kind == "gram":
                size = n if snapshot.reduction == "trace" else n * c
                if (t.rows, t.cols) != (size, size):
                    raise ValueError(f"Gram is {t.rows} x {t.cols}; expected {size} x {size} "
                                     f"({'n' if snapshot.reduction == 'trace' else 'N = n·C'})")
            elif t.kind in ("jacobian", "sketch") and t.rows != n * c:
                raise ValueError(f"{t.kind} has {t.rows} rows; expected N = n·C = {n * c}")


def _check_targets(name: str, targets: np.ndarray, rows: int, outputs: int) -> None:
    """(rows,) class labels (integers in [0, C) when C > 1) or (rows, C) targets."""
    shape = np.shape(targets)
    if len(shape) not in (1, 2) or shape[0] != rows or (len(shape) == 2 and shape[1] != outputs):
        raise ValueError(f"{name} has shape {tuple(shape)}; expected ({rows},) class labels or ({rows}, {outputs}) "
                         "targets")
    if len(shape) == 1 and outputs > 1:
        labels = np.asarray(targets)
        if not np.all(np.isfinite(labels)) or np.any(labels != np.round(labels)) or \
                np.any(labels < 0) or np.any(labels >= outputs):
            raise ValueError(f"{name}: 1-D targets are class labels and must be integers in [0, {outputs})")


def run_start(spec: RunSpec) -> pb.TrainerMessage:
    start = pb.RunStart(
        run_id=spec.run_id, job_id=spec.job_id, rank=spec.rank, world_size=spec.world_size, cohort=spec.cohort,
        labels=dict(spec.labels), learning_rate=spec.learning_rate, param_count=spec.param_count,
        policy=spec.policy, warmup_steps=spec.warmup_steps,
        probe=pb.ProbeSet(num_samples=spec.num_samples, num_outputs=spec.num_outputs,
                          sample_ids_hash=spec.sample_ids_hash),
        budget=pb.Budget(max_steps=spec.max_steps, max_compute=spec.max_compute),
        train_set_size=spec.train_set_size, label_noise_sigma=spec.label_noise_sigma,
    )
    if spec.targets is not None:
        start.probe.targets.CopyFrom(_tensor(spec.targets))
    if spec.has_eval_probe:
        start.eval_probe.CopyFrom(pb.EvalProbe(num_samples=spec.eval_samples, held_out=spec.eval_held_out,
                                               sample_ids_hash=spec.eval_sample_ids_hash))
        if spec.eval_targets is not None:
            start.eval_probe.targets.CopyFrom(_tensor(spec.eval_targets))
    if spec.loss is not None:
        start.loss.CopyFrom(pb.LossSpec(kind=PROTO_LOSS[spec.loss], scale=spec.loss_scale))
    if spec.optimizer is not None:
        start.optimizer.CopyFrom(pb.OptimizerSpec(kind=PROTO_OPTIMIZER[spec.optimizer], momentum=spec.momentum,
                                                  beta1=spec.beta1, beta2=spec.beta2, weight_decay=spec.weight_decay))
    if spec.sketch_dim:
        start.sketch.CopyFrom(pb.SketchSpec(kind=PROTO_SKETCH[spec.sketch_kind], dim=spec.sketch_dim, seed=spec.sketch_seed))
    return pb.TrainerMessage(start=start)


def _tensor(values: np.ndarray) -> pb.Tensor:
    """Targets as a float32 Tensor of their own shape (labels are small integers: exact in float32)."""
    t = np.asarray(values, dtype=np.float32)
    return pb.Tensor(dtype=pb.DTYPE_F32, shape=list(t.shape), data=encode(t, "f32").tobytes())


def scalars(step: int, train_loss: float, learning_rate: float = 0.0, samples_seen: int = 0,
            compute_spent: float = 0.0, evals: Mapping[str, float] | None = None) -> pb.TrainerMessage:
    return pb.TrainerMessage(scalars=pb.Scalars(
        step=step, train_loss=float(train_loss), learning_rate=learning_rate, samples_seen=samples_seen,
        compute_spent=compute_spent, eval={k: float(v) for k, v in (evals or {}).items()}))


def run_end(status: RunStatus) -> pb.TrainerMessage:
    return pb.TrainerMessage(finish=pb.RunEnd(status=PROTO_STATUS[status]))


def _chunks_of(tensor: TensorData, max_chunk_bytes: int) -> Iterator[tuple[int, np.ndarray]]:
    """(offset, 2-D values) of every chunk of `tensor`, block by block."""
    size = ITEMSIZE[tensor.dtype]
    for offset, block in tensor.blocks:
        if tensor.kind in COLUMN_KINDS:
            for a, b in column_ranges(0, block.shape[1], tensor.rows, size, max_chunk_bytes):
                yield offset + a, block[:, a:b]
        else:
            for a, b in row_ranges(block.shape[0], tensor.cols, size, max_chunk_bytes):
                yield offset + a, block[a:b]


def snapshot_messages(snapshot: Snapshot, snapshot_id: int, max_chunk_bytes: int = DEFAULT_CHUNK_BYTES,
                      checksum: bool = True) -> Iterator[pb.TrainerMessage]:
    """SnapshotHeader, every chunk (encoded lazily, one at a time), SnapshotEnd with the counts."""
    header = pb.SnapshotHeader(
        snapshot_id=snapshot_id, step=snapshot.step, samples_seen=snapshot.samples_seen,
        compute_spent=snapshot.compute_spent, learning_rate=snapshot.learning_rate,
        train_loss=snapshot.train_loss, kernel_reduction=PROTO_REDUCTION[snapshot.reduction],
        tensors=[pb.TensorSpec(tensor=PROTO_KIND[t.kind], dtype=PROTO_DTYPE[t.dtype], rows=t.rows, cols=t.cols)
                 for t in snapshot.tensors])
    yield pb.TrainerMessage(header=header)
    count = 0
    total = 0
    for tensor in snapshot.tensors:
        for offset, values in _chunks_of(tensor, max_chunk_bytes):
            data = encode(values, tensor.dtype).tobytes()
            yield pb.TrainerMessage(chunk=pb.TensorChunk(
                snapshot_id=snapshot_id, tensor=PROTO_KIND[tensor.kind], offset=offset, rows=values.shape[0],
                cols=values.shape[1], dtype=PROTO_DTYPE[tensor.dtype], data=data,
                crc32c=crc32c(data) if checksum else 0))
            count += 1
            total += len(data)
    yield pb.TrainerMessage(end=pb.SnapshotEnd(snapshot_id=snapshot_id, chunk_count=count, total_bytes=total))
