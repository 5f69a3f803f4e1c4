"""What a snapshot carries, framework-free: numpy blocks of one kernel source (Jacobian, sketch or Gram) and/or
the logits, and optionally the logits on the evaluation probe (forward-only, docs/generalization.md G4), with the
step and scalars of the SnapshotHeader (docs/design.md §3).

Row order is sample-major (docs/science.md §0): row i·C + c is output c of sample i. A 3-D array (n, C, cols) is
reshaped to (n·C, cols) in exactly that order, which is numpy's C order.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal, Sequence

import numpy as np

from .dtypes import ITEMSIZE, WireDType, check_dtype

TensorKind = Literal["jacobian", "sketch", "gram", "logits", "eval_logits"]
Reduction = Literal["full", "trace"]
COLUMN_KINDS = ("jacobian", "sketch")  # streamed as column blocks of all rows
ROW_KINDS = ("gram", "logits", "eval_logits")  # streamed as blocks of whole rows
LOGIT_KINDS = ("logits", "eval_logits")  # ride along with a kernel source; not kernels themselves


def sample_major(values: np.ndarray) -> np.ndarray:
    """(n, C, cols) -> (n·C, cols) with row i·C + c = values[i, c]; 2-D input is returned as is."""
    arr = np.asarray(values)
    if arr.ndim == 3:
        return arr.reshape(arr.shape[0] * arr.shape[1], arr.shape[2])
    if arr.ndim != 2:
        raise ValueError(f"expected a (rows, cols) or (n, C, cols) array, got shape {arr.shape}")
    return arr


@dataclass
class TensorData:
    """One tensor of a snapshot as blocks: (offset, 2-D array) pairs. Jacobian/sketch blocks hold all `rows`
    rows and start at column `offset`; Gram/logits blocks hold whole rows and start at row `offset`. Blocks are
    cut further into chunks of at most the chunk size when sent."""

    kind: TensorKind
    dtype: WireDType
    rows: int
    cols: int
    blocks: list[tuple[int, np.ndarray]]

    def __post_init__(self) -> None:
        check_dtype(self.dtype)
        if self.kind not in COLUMN_KINDS + ROW_KINDS:
            raise ValueError(f"tensor kind {self.kind!r} is not one of {COLUMN_KINDS + ROW_KINDS}")
        for offset, block in self.blocks:
            if block.ndim != 2:
                raise ValueError(f"{self.kind} block at offset {offset} has shape {block.shape}; blocks are 2-D")
            if self.kind in COLUMN_KINDS:
                if block.shape[0] != self.rows or offset < 0 or offset + block.shape[1] > self.cols:
                    raise ValueError(
                        f"{self.kind} block {block.shape} at column {offset} does not fit {self.rows} rows x "
                        f"{self.cols} columns")
            elif block.shape[1] != self.cols or offset < 0 or offset + block.shape[0] > self.rows:
                raise ValueError(
                    f"{self.kind} block {block.shape} at row {offset} does not fit {self.rows} rows x {self.cols} columns")

    @property
    def nbytes(self) -> int:
        return self.rows * self.cols * ITEMSIZE[self.dtype]

    @staticmethod
    def dense(kind: TensorKind, values: np.ndarray, dtype: str = "f32") -> "TensorData":
        """One block holding the whole tensor (a 3-D (n, C, cols) Jacobian/sketch is made sample-major)."""
        arr = sample_major(values) if kind in COLUMN_KINDS else np.asarray(values)
        if arr.ndim != 2:
            raise ValueError(f"{kind} must be 2-D, got shape {arr.shape}")
        return TensorData(kind, check_dtype(dtype), arr.shape[0], arr.shape[1], [(0, arr)])

    def to_dense(self) -> np.ndarray:
        """The whole tensor as float64 (blocks placed at their offsets; for tests and references)."""
        out = np.zeros((self.rows, self.cols))
        for offset, block in self.blocks:
            if self.kind in COLUMN_KINDS:
                out[:, offset:offset + block.shape[1]] = block
            else:
                out[offset:offset + block.shape[0]] = block
        return out


@dataclass
class Snapshot:
    """A snapshot at optimizer step `step`. At most one kernel source (Jacobian, sketch or Gram) per snapshot,
    plus optional probe logits (n x C) and evaluation-probe logits (`eval_logits`, n_eval x C; only for a run
    whose RunSpec declares an evaluation probe). `train_loss` must be the real loss: NaN means diverged."""

    step: int
    train_loss: float
    tensors: Sequence[TensorData] = field(default_factory=list)
    reduction: Reduction = "full"
    learning_rate: float = 0.0
    samples_seen: int = 0
    compute_spent: float = 0.0

    def __post_init__(self) -> None:
        kinds = [t.kind for t in self.tensors]
        kernels = [k for k in kinds if k not in LOGIT_KINDS]
        if len(kernels) > 1:
            raise ValueError(f"a snapshot carries one kernel source, got {kernels}")
        if len(set(kinds)) != len(kinds):
            raise ValueError(f"a snapshot carries each tensor kind once, got {kinds}")
        logit_cols = {t.kind: t.cols for t in self.tensors if t.kind in LOGIT_KINDS}
        if len(set(logit_cols.values())) > 1:
            raise ValueError(f"logits and eval logits have different numbers of outputs C: {logit_cols}")
        if self.reduction not in ("full", "trace"):
            raise ValueError(f"reduction {self.reduction!r} is not 'full' or 'trace'")
        if self.step < 0:
            raise ValueError(f"step {self.step} is negative")
        if not isinstance(self.train_loss, float) and not isinstance(self.train_loss, (int, np.floating)):
            raise TypeError(f"train_loss must be a number, got {type(self.train_loss).__name__}")
        self.train_loss = float(self.train_loss)
        if math.isinf(self.train_loss) and self.train_loss < 0:
            raise ValueError("train_loss is -inf")

    @property
    def nbytes(self) -> int:
        return sum(t.nbytes for t in self.tensors)

    def tensor(self, kind: TensorKind) -> TensorData | None:
        """The snapshot's tensor of `kind`, or None."""
        return next((t for t in self.tensors if t.kind == kind), None)
