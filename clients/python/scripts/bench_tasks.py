"""Models and data of the stopping evaluation's tasks (bench/stopping/tasks.py, harness.py), rebuilt here so the
client's benchmarks do not import the evaluation (which another job runs). Same architectures, preprocessing and
batch size; plus a wider CNN whose step takes ≥ 20 ms on one CPU thread."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import torch

FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")


def digits(seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """scikit-learn's digits, the evaluation's 60 % training split (pixels / 16)."""
    from sklearn.datasets import load_digits
    d = load_digits()
    x = torch.tensor(d.data / 16.0, dtype=torch.float32)
    y = torch.tensor(d.target, dtype=torch.long)
    order = torch.randperm(len(x), generator=torch.Generator().manual_seed(1000 + seed))
    a = int(0.6 * len(x))
    return x[order[:a]], y[order[:a]]


def _idx(path: Path) -> np.ndarray:
    with gzip.open(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = tuple(int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(dims))
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def fashion(train_size: int = 10_000, flat: bool = True, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor] | None:
    """A random `train_size` subset of Fashion-MNIST's training images (standardised), or None without the dataset."""
    if not FASHION_DIR.is_dir():
        return None
    xs = _idx(FASHION_DIR / "train-images-idx3-ubyte.gz")
    ys = _idx(FASHION_DIR / "train-labels-idx1-ubyte.gz")
    idx = np.random.default_rng(4000 + seed).permutation(len(ys))[:train_size]
    x = (torch.tensor(xs[idx], dtype=torch.float32) / 255.0 - 0.2860) / 0.3530
    x = x.reshape(len(idx), -1) if flat else x.reshape(len(idx), 1, 28, 28)
    return x, torch.tensor(ys[idx].astype(np.int64))


def mlp(fan_in: int, width: int, seed: int = 0) -> torch.nn.Module:
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Linear(fan_in, width), torch.nn.ReLU(), torch.nn.Linear(width, 10))


def cnn(c1: int = 8, c2: int = 16, seed: int = 0) -> torch.nn.Module:
    """The evaluation's Fashion CNN (c1 = 8, c2 = 16: 9.1k parameters); wider with larger c1, c2."""
    torch.manual_seed(seed)
    return torch.nn.Sequential(
        torch.nn.Conv2d(1, c1, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(c1, c2, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Flatten(), torch.nn.Linear(c2 * 7 * 7, 10))


def task(name: str) -> tuple[torch.nn.Module, torch.Tensor, torch.Tensor] | None:
    """(model, x_train, y_train) for a task name, or None when its data is missing."""
    if name.startswith("digits-w"):
        x, y = digits()
        return mlp(64, int(name.split("-w")[1].split("-")[0])), x, y
    flat = name == "fmnist-mlp"
    data = fashion(flat=flat)
    if data is None:
        return None
    x, y = data
    if name == "fmnist-mlp":
        return mlp(784, 64), x, y
    if name == "fmnist-cnn":
        return cnn(), x, y
    if name == "fmnist-cnn-wide":
        return cnn(32, 64), x, y
    raise ValueError(f"unknown task {name!r}")


def train(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor, steps: int, lr: float = 0.1, batch: int = 64,
          seed: int = 0) -> None:
    g = torch.Generator().manual_seed(seed)
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    for _ in range(steps):
        i = torch.randint(0, len(x), (batch,), generator=g)
        loss = torch.nn.functional.cross_entropy(model(x[i]), y[i])
        opt.zero_grad()
        loss.backward()
        opt.step()
