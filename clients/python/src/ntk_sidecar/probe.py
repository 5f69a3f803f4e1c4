"""Choosing the fixed sample sets of a run: the kernel probe (n samples, Jacobian rows N = n·C) and the optional
evaluation probe (n_eval samples, forward-only logits; docs/generalization.md G4).

Defaults: n = 128 kernel-probe samples (issue 11: estimates of generalisation from the kernel, e.g. its
leave-one-out error, need n >= 128 to be more than noise), n_eval = 1024 when an evaluation probe is asked for
(the sidecar reads accuracy, margins and prediction changes off it; 512–2048 is the useful range, at the cost of
one forward pass per snapshot). Both are fixed for the whole run: the sidecar refuses a probe that changes.
"""

from __future__ import annotations

import numpy as np

DEFAULT_PROBE_SAMPLES = 128
DEFAULT_EVAL_SAMPLES = 1024


def choose_probe(num_train: int, n: int = DEFAULT_PROBE_SAMPLES, n_eval: int = 0,
                 seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(probe indices, eval indices) into a training set of `num_train` samples, fixed by `seed`.

    The kernel probe is min(n, num_train) distinct samples; the evaluation probe min(n_eval, num_train) distinct
    samples, disjoint from the kernel probe while the training set has room for both (then it overlaps it).
    Indices are sorted (so a loader can gather them in order)."""
    if num_train < 1:
        raise ValueError(f"num_train = {num_train}; the training set is empty")
    if n < 1 or n_eval < 0:
        raise ValueError(f"n = {n}, n_eval = {n_eval}; the probe needs n >= 1 and n_eval >= 0")
    perm = np.random.default_rng(seed).permutation(num_train)
    n = min(n, num_train)
    n_eval = min(n_eval, num_train)
    probe = perm[:n]
    if n + n_eval <= num_train:
        evals = perm[n:n + n_eval]
    else:  # not enough room: the rest of the set, then samples of the kernel probe
        evals = np.concatenate([perm[n:], perm[:n_eval - (num_train - n)]])
    return np.sort(probe), np.sort(evals)


__all__ = ["DEFAULT_EVAL_SAMPLES", "DEFAULT_PROBE_SAMPLES", "choose_probe"]
