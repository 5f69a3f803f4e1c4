"""The loss on the probe set from its logits, for snapshots taken without a training loss (numpy, float64)."""

from __future__ import annotations

from typing import Any

import numpy as np


def probe_loss(logits: Any, targets: Any, loss: str | None, scale: float = 0.0) -> float:
    """MSE: c_L Σ_{i,c} (z_ic − y_ic)² with c_L = `scale` (default 1/(2N), the neural-tangents convention);
    cross-entropy: (1/n) Σ_i CE(softmax(z_i), y_i) with integer labels or one-hot rows (docs/science.md §0)."""
    if targets is None or loss is None:
        raise ValueError("no train_loss given and no probe targets + loss kind to compute one; pass train_loss")
    z = np.asarray(logits, dtype=np.float64)
    z = z.reshape(z.shape[0], -1)
    t = np.asarray(targets)
    if loss == "mse":
        if t.size != z.size:
            raise ValueError(f"MSE targets have {t.size} values for logits of shape {z.shape}")
        y = t.astype(np.float64).reshape(z.shape)
        return float((scale or 1.0 / (2 * z.size)) * ((z - y) ** 2).sum())
    if loss != "cross_entropy":
        raise ValueError(f"loss {loss!r} is not 'mse' or 'cross_entropy'")
    labels = t.reshape(-1).astype(np.int64) if t.ndim == 1 or t.shape[-1] == 1 else t.argmax(-1)
    shifted = z - z.max(axis=1, keepdims=True)
    logp = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return float(-logp[np.arange(z.shape[0]), labels].mean())
