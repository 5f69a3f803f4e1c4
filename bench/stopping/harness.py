"""One benchmark run: train a task to its full budget with the sidecar attached in SHADOW mode through the
project's PyTorch client, and record everything needed to know the outcome of stopping at any step.

Per task the sidecar sees up to three runs:
  <task>-calib   (λ₀-calibrated tasks only) one Gram snapshot of the untrained network; its λ_max sets the learning rate;
  <task>-kernel  the training run with kernel snapshots (Gram, trace reduction for 10-class tasks, probe n ≥ 128),
                 probe logits, the evaluation probe's logits (forward-only, n_eval training samples) and the
                 training-set size M when the client supports them; policy `shadow`;
  <task>-logits  the same training, at the same time, fed only the probe logits (TorchNtk mode="logits").
The training runs select shadow policies (RunStart.policy), so every STOP is computed and exported but never
enforced, and training goes to the end. After each snapshot the harness waits for the decisions (client.flush) so
that a decision is attributed to the step it was taken at, and reads GetRun's diagnostics. When the sidecar records
(`serve --record-dir`), run_matrix.py replays every recording under each policy column afterwards.

Recorded at every evaluation step (epoch boundaries = snapshot steps, 25/50/75 % of the budget; digits and teacher
also a dense early grid): loss and accuracy on the training, validation and test splits (the harness's own
measurement: the test split is for the oracle and the baselines only and never reaches the sidecar; validation is
what the patience baselines watch), plus cumulative training time and compute.
"""


from __future__ import annotations

import copy
import math
import sys
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch

from checkout import ROOT  # noqa: E402  (the exported commit under test)

sys.path.insert(0, str(ROOT / "clients" / "python" / "src"))

from ntk_sidecar import Decision, SidecarClient, SidecarMonitor  # noqa: E402
from ntk_sidecar.messages import RunSpec  # noqa: E402
from ntk_sidecar.snapshot import TensorData  # noqa: E402
from ntk_sidecar.torch_adapter import TorchNtk, probe_hash  # noqa: E402

from kess_closed_form import kernel_gd_curve, kess_k2_discrete  # noqa: E402
from sidecar_proc import Sidecar, metric_value  # noqa: E402
from tasks import Task  # noqa: E402

SCALARS_EVERY = 10
FASHION_DIR = Path('/usr/share/datasets/fashion-mnist')
FASHION_VAL = 2000
FASHION_TEST = 5000
FASHION_TRAIN_EVAL = 2000
CALIBRATION_LR = 1e-6
CALIBRATION_PROBE = 32
HELD_OUT_PROBE = 512


# ------------------------------------------------------------------------------------------------------------
# Data

def digits_splits(seed: int) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """scikit-learn's bundled digits (1797 8×8 images), 60/20/20 train/validation/test."""
    from sklearn.datasets import load_digits
    d = load_digits()
    x = torch.tensor(d.data / 16.0, dtype=torch.float32)
    y = torch.tensor(d.target, dtype=torch.long)
    order = torch.randperm(len(x), generator=torch.Generator().manual_seed(1000 + seed))
    a, b = int(0.6 * len(x)), int(0.8 * len(x))
    return {"train": (x[order[:a]], y[order[:a]]), "val": (x[order[a:b]], y[order[a:b]]),
            "test": (x[order[b:]], y[order[b:]])}


_FASHION: dict[str, np.ndarray] = {}


def _idx(path: Path) -> np.ndarray:
    """An idx file (gzip): magic 0x00 0x00 <dtype 0x08 = uint8> <ndim>, ndim big-endian uint32 sizes, the data."""
    import gzip
    raw = gzip.decompress(path.read_bytes())
    if raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise ValueError(f"{path}: not an unsigned-byte idx file")
    ndim = raw[3]
    shape = tuple(int(v) for v in np.frombuffer(raw, ">u4", ndim, 4))
    return np.frombuffer(raw, np.uint8, offset=4 + 4 * ndim).reshape(shape)


def fashion_splits(seed: int, train_size: int, flat: bool) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """Fashion-MNIST from Debian's dataset-fashion-mnist: a random `train_size` subset of the 60k training images
    (per seed), a validation split of the next 2000 of that permutation (what patience watches), a fixed random 5000 of
    the 10k test images (the same for every seed), and `train_eval`, 2000 of the training subset on which the
    harness measures the training loss. Pixels / 255, then standardised with the dataset's mean and std."""
    if not _FASHION:
        if not FASHION_DIR.is_dir():
            raise SystemExit(f"{FASHION_DIR} missing: apt-get install dataset-fashion-mnist (npm run setup:test)")
        for split, prefix in (("train", "train"), ("test", "t10k")):
            _FASHION[f"{split}_x"] = _idx(FASHION_DIR / f"{prefix}-images-idx3-ubyte.gz")
            _FASHION[f"{split}_y"] = _idx(FASHION_DIR / f"{prefix}-labels-idx1-ubyte.gz")

    def tensor(x: np.ndarray) -> torch.Tensor:
        t = (torch.tensor(x, dtype=torch.float32) / 255.0 - 0.2860) / 0.3530
        return t.reshape(len(x), -1) if flat else t.reshape(len(x), 1, 28, 28)

    order = np.random.default_rng(4000 + seed).permutation(len(_FASHION["train_y"]))
    tr, va = order[:train_size], order[train_size:train_size + FASHION_VAL]
    te = np.random.default_rng(5000).permutation(len(_FASHION["test_y"]))[:FASHION_TEST]
    out = {}
    for name, xs, ys, idx in (("train", "train_x", "train_y", tr), ("val", "train_x", "train_y", va),
                              ("test", "test_x", "test_y", te)):
        out[name] = (tensor(_FASHION[xs][idx]), torch.tensor(_FASHION[ys][idx].astype(np.int64)))
    return out


TEACHER_DIM = 8
TEACHER_NOISE = 0.1


def teacher_splits(seed: int, n_train: int = 256) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """y = teacher(x) + noise, x ~ N(0, I_8); the teacher is a 4-unit ReLU network (unit-variance output)."""
    g = torch.Generator().manual_seed(2000 + seed)
    u = torch.randn(4, TEACHER_DIM, generator=g)
    v = torch.randn(4, generator=g)

    def sample(n: int) -> tuple[torch.Tensor, torch.Tensor]:
        x = torch.randn(n, TEACHER_DIM, generator=g)
        f = torch.relu(x @ u.T / math.sqrt(TEACHER_DIM)) @ v
        return x, f
    xs, fs = sample(n_train + 256 + 1024)
    scale = fs.std()
    ys = (fs - fs.mean()) / scale + TEACHER_NOISE * torch.randn(len(fs), generator=g)
    ys = ys.unsqueeze(1)
    return {"train": (xs[:n_train], ys[:n_train]), "val": (xs[n_train:n_train + 256], ys[n_train:n_train + 256]),
            "test": (xs[n_train + 256:], ys[n_train + 256:])}


# ------------------------------------------------------------------------------------------------------------
# Models

class NtkLinear(torch.nn.Module):
    """NTK parameterisation: y = W x/√fan_in + b, W, b ~ N(0, 1) (the kernel has a width limit)."""

    def __init__(self, fan_in: int, fan_out: int) -> None:
        super().__init__()
        self.weight = torch.nn.Parameter(torch.randn(fan_out, fan_in))
        self.bias = torch.nn.Parameter(torch.randn(fan_out) * 0.1)
        self.scale = 1.0 / math.sqrt(fan_in)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.nn.functional.linear(x, self.weight) * self.scale + self.bias


class Scaled(torch.nn.Module):
    """f(x) = (h(x; θ) − h(x; θ₀))/γ with θ₀ a frozen copy (centred), or h(x; θ)/γ."""

    def __init__(self, net: torch.nn.Module, gamma: float, centered: bool) -> None:
        super().__init__()
        self.net = net
        self.gamma = gamma
        self.init = copy.deepcopy(net) if centered else None
        if self.init is not None:
            for p in self.init.parameters():
                p.requires_grad_(False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.net(x)
        if self.init is not None:
            out = out - self.init(x)
        return out / self.gamma


def make_model(task: Task) -> torch.nn.Module:
    torch.manual_seed(task.seed)
    if task.data == "teacher":
        net = torch.nn.Sequential(NtkLinear(TEACHER_DIM, task.width), torch.nn.ReLU(), NtkLinear(task.width, 1))
    elif task.data == "fashion" and task.arch == "cnn":
        net = torch.nn.Sequential(
            torch.nn.Conv2d(1, 8, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
            torch.nn.Conv2d(8, 16, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
            torch.nn.Flatten(), torch.nn.Linear(16 * 7 * 7, 10))
    elif task.data == "fashion":
        net = torch.nn.Sequential(torch.nn.Linear(784, task.width), torch.nn.ReLU(), torch.nn.Linear(task.width, 10))
    else:
        net = torch.nn.Sequential(torch.nn.Linear(64, task.width), torch.nn.ReLU(), torch.nn.Linear(task.width, 10))
    if task.centered or task.gamma != 1.0:
        return Scaled(net, task.gamma, task.centered)
    return net


# ------------------------------------------------------------------------------------------------------------
# Losses (docs/science.md §0: MSE is c_L Σ (f − y)² with c_L = 1/(2n) per batch of n, i.e. ½·sum over outputs,
# mean over samples; cross-entropy is the mean over samples)

def targets_for(task: Task, y: torch.Tensor) -> torch.Tensor:
    if task.loss == "mse" and task.data == "digits":
        return torch.nn.functional.one_hot(y, 10).float()
    return y


def loss_fn(task: Task) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    if task.loss == "cross_entropy":
        return torch.nn.functional.cross_entropy
    return lambda out, t: 0.5 * ((out - t) ** 2).sum(1).mean()


def evaluate(model: torch.nn.Module, task: Task, x: torch.Tensor, y: torch.Tensor) -> tuple[float, float | None]:
    with torch.no_grad():
        out = model(x)
        loss = float(loss_fn(task)(out, targets_for(task, y)))
        acc = float((out.argmax(1) == y).float().mean()) if task.data != "teacher" else None
    return loss, acc


# ------------------------------------------------------------------------------------------------------------
# The run

class Tee:
    """What SidecarMonitor needs of a client, forwarding every snapshot and Scalars message to two clients (the
    second run sees the same stream under another policy); decisions are the first client's."""

    def __init__(self, first: SidecarClient, second: SidecarClient) -> None:
        self.first, self.second = first, second

    def submit(self, snapshot: Any) -> None:
        self.first.submit(snapshot)
        self.second.submit(snapshot)

    def send_scalars(self, *args: Any, **kwargs: Any) -> None:
        self.first.send_scalars(*args, **kwargs)
        self.second.send_scalars(*args, **kwargs)

    @property
    def decision(self) -> Decision | None:
        return self.first.decision

    def close(self, status: Any = "completed", timeout: float = 10.0) -> None:
        self.first.close(status, timeout)
        self.second.close(status, timeout)


def _decision_record(d: Decision) -> dict[str, Any]:
    return {"step": d.step, "action": d.action, "reason": d.reason, "enforced": d.enforced,
            "kess_step": d.kess_step, "evidence": d.evidence, "detail": d.detail}


def _diagnostics(report: Any) -> dict[str, Any] | None:
    """The parts of GetRun's latest SnapshotReport the report uses."""
    if report is None or not report.HasField("latest"):
        return None
    latest = report.latest
    full = next((s for s in latest.spectra if s.kernel == "full"), None)
    dg = latest.diagnostics
    p = dg.prediction
    det = dg.detectors
    out: dict[str, Any] = {
        "step": latest.step, "train_loss": latest.train_loss,
        "lambda_max": full.lambda_max if full is not None else None,
        "gn_sharpness": dg.stability.gn_sharpness, "eos_ratio": dg.stability.eos_ratio,
        "band": dg.stability.band,
        "prediction_valid": p.valid, "time_scale": p.time_scale, "time_r2": p.time_r2,
        "kess_k2": p.kess_k2 if p.HasField("kess_k2") else None,
        "linearization_gap": dg.residual.linearization_gap if dg.residual.HasField("linearization_gap") else None,
        "distance_prev": dg.drift.distance_prev if dg.drift.HasField("distance_prev") else None,
        "regime": det.regime,
        "detectors": {k: getattr(det, k) for k in ("loss_spike", "catapult_in_progress", "catapult_confirmed",
                                                   "edge_of_stability", "imminent_instability", "plateau",
                                                   "loaded_plateau", "kernel_moving", "kernel_frozen")},
        "catapult_events": det.catapult_events,
    }
    # The validation-free generalisation estimates (docs/generalization.md G1–G4), when the sidecar computes them:
    # the report sets them beside the harness's own test accuracy.
    if hasattr(dg, "generalization") and dg.HasField("generalization"):
        g = dg.generalization
        out["generalization"] = {f: getattr(g, f) for f in (
            "loo_accuracy", "loo_error", "gcv_error", "coherence", "discrepancy", "eval_accuracy", "eval_margin",
            "eval_changed", "label_wave_step") if g.HasField(f)}
    return out


def _shadow(report: Any) -> dict[str, Any]:
    if report is None:
        return {}
    return {"would_stop_step": report.would_stop_step if report.HasField("would_stop_step") else None,
            "compute_after_would_stop": report.compute_after_would_stop,
            "steps_after_would_stop": report.steps_after_would_stop,
            "last_step": report.last_step, "decisions_by_reason": dict(report.decisions_by_reason)}


def calibrate(task: Task, sidecar: Sidecar, model: torch.nn.Module, probe_x: torch.Tensor, probe_t: torch.Tensor,
              loss_scale: float) -> dict[str, float]:
    """λ₀ from one Gram snapshot of the untrained network (GetRun's λ_max of the full kernel): MSE 2·c_L·λ_max(K)
    (docs/science.md A5, the GN sharpness), CE λ_max(K)/(2n). The sidecar's own GN sharpness is recorded as well."""
    ntk = TorchNtk(model, probe_x, probe_targets=probe_t, mode="gram", loss=task.loss, loss_scale=loss_scale)
    # A tiny learning rate (λ_max and S_GN do not depend on it). Until 6145f0a a snapshot without one, or with one
    # above 2/λ₀, was rejected (code 13); both are accepted now, but with learning rate 0 GetRun leaves the whole
    # stability block out (S_GN reads 0), so the calibration keeps the tiny rate.
    client = SidecarClient(sidecar.target, ntk.run_spec(f"{task.name}-calib", policy="shadow", cohort="calibration",
                                                        optimizer="sgd", learning_rate=CALIBRATION_LR))
    try:
        client.submit(ntk.snapshot(0, learning_rate=CALIBRATION_LR))
        if not client.flush(120):
            raise RuntimeError(f"{task.name}: calibration snapshot not answered")
        diag = _diagnostics(client.get_run())
    finally:
        client.close("completed")
    if diag is None or diag["lambda_max"] is None:
        raise RuntimeError(f"{task.name}: GetRun has no spectrum after the calibration snapshot")
    lam_max = float(diag["lambda_max"])
    gn = float(diag["gn_sharpness"])
    # CE: the GN sharpness at initialisation (uniform softmax, H_i eigenvalues 1/C) is far below what it becomes
    # once the network is confident, so η = 1/S_GN(θ₀) blows small networks up; λ₀ is the A5 bound λ_max(K)/(2n)
    # instead (the sharpness CE reaches with this kernel at most).
    lam0 = 2 * loss_scale * lam_max if task.loss == "mse" else lam_max / (2 * len(probe_x))
    return {"lambda_max": lam_max, "gn_sharpness": gn, "lambda0": lam0}


def learning_rate(task: Task, lam0: float) -> float:
    """η = lr_factor·2/λ₀; γ tasks: λ₀ of the γ = 1 network is γ²·λ₀(γ) (centred f = (h − h₀)/γ scales the kernel
    by 1/γ²), then η(γ) = η(1)·γ² (γ ≤ 1) or η(1)·γ^{2/L}, L = 2 (Atanasov et al., docs/sources.md 3)."""
    if not task.centered and task.gamma == 1.0:
        return task.lr_factor * 2.0 / lam0
    eta1 = task.lr_factor * 2.0 / (task.gamma ** 2 * lam0)
    return eta1 * (task.gamma ** 2 if task.gamma <= 1 else task.gamma ** (2 / 2))


class TraceNtk(TorchNtk):
    """TorchNtk whose trace-reduced Gram costs n²·C·P, not (nC)²·P: K_ij = Σ_c ⟨J_ic, J_jc⟩ is J'J'ᵀ with J' the
    Jacobian block reshaped to n × (C·P_g) (rows are sample-major, i·C + c). The client's own "gram" + "trace" path
    forms the full nC × nC Gram first and then takes the trace over outputs, C = 10 times the work (REPORT.md).
    Products in float32 per block, summed in float64."""

    def kernel_tensor(self) -> TensorData | None:  # type: ignore[override]
        if self.mode != "gram" or self.reduction != "trace" or self.outputs == 1:
            return super().kernel_tensor()
        t0 = time.perf_counter()
        acc = torch.zeros(self.samples, self.samples, dtype=torch.float64)
        for _, jac in self.jacobian_blocks():
            j = jac.detach().reshape(self.samples, -1)
            acc += (j @ j.T).double()
        gram = (acc + acc.T) / 2
        self.last_timing = {"jacobian_s": 0.0, "reduce_s": time.perf_counter() - t0, "to_host_s": 0.0}
        return TensorData.dense("gram", gram.numpy(), "f64")


def client_features() -> dict[str, bool]:
    """What this checkout's Python client supports (the generalisation inputs of issue 11 are being added)."""
    from ntk_sidecar import snapshot as snapshot_module
    fields = getattr(RunSpec, "__dataclass_fields__", {})
    return {"train_set_size": "train_set_size" in fields,
            "eval_probe": "eval_samples" in fields and "eval_logits" in getattr(snapshot_module, "ROW_KINDS", ())}


def make_optimizer(task: Task, params: list[torch.nn.Parameter], eta: float) -> torch.optim.Optimizer:
    if task.optimizer == "adam":
        return torch.optim.Adam(params, lr=eta)
    if task.optimizer == "momentum":
        return torch.optim.SGD(params, lr=eta, momentum=0.9)
    return torch.optim.SGD(params, lr=eta)


def optimizer_spec(task: Task) -> dict[str, Any]:
    if task.optimizer == "adam":
        return {"optimizer": "adam", "beta1": 0.9, "beta2": 0.999}
    if task.optimizer == "momentum":
        return {"optimizer": "momentum", "momentum": 0.9}
    return {"optimizer": "sgd"}


def run_task(task: Task, sidecar: Sidecar, log: Callable[[str], None] = print,
             eval_probe: str = "auto", live_policy: str = "generalization") -> dict[str, Any]:
    """`live_policy`: the policy column (replay.POLICY_DEFS) of the kernel feed; the logits-only feed keeps the old
    rule (`shadow`)."""
    torch.manual_seed(task.seed)
    if task.data == "teacher":
        splits = teacher_splits(task.seed)
    elif task.data == "fashion":
        splits = fashion_splits(task.seed, task.train_size, flat=task.arch == "mlp")
    else:
        splits = digits_splits(task.seed)
    xtr, ytr = splits["train"]
    if task.train_size and task.data != "fashion":
        xtr, ytr = xtr[:task.train_size], ytr[:task.train_size]
    # The splits the harness measures on: the training loss on (a subset of) the training set, validation, test.
    measured = dict(splits)
    if len(xtr) > FASHION_TRAIN_EVAL and task.data == "fashion":
        measured["train"] = (xtr[:FASHION_TRAIN_EVAL], ytr[:FASHION_TRAIN_EVAL])
    model = make_model(task)
    params = [p for p in model.parameters() if p.requires_grad]
    param_count = sum(p.numel() for p in params)
    probe_x, probe_y = xtr[:task.probe], ytr[:task.probe]
    probe_t = targets_for(task, probe_y)
    loss_scale = 1.0 / (2 * task.probe) if task.loss == "mse" else 0.0   # c_L of ½·sum, mean over the probe
    criterion = loss_fn(task)
    batch = task.batch or len(xtr)
    features = client_features()
    use_eval = task.eval_probe > 0 and (eval_probe == "on" or (eval_probe == "auto" and features["eval_probe"]))
    # The evaluation probe: training samples after the kernel probe (the trainer trains on them: validation-free).
    eval_x, eval_y = xtr[task.probe:task.probe + task.eval_probe], ytr[task.probe:task.probe + task.eval_probe]

    t0 = time.perf_counter()
    warned = len(sidecar.warnings)
    if task.lr > 0:
        cal: dict[str, float] = {}
        eta = task.lr
        log(f"{task.name}: P = {param_count}, η = {eta:.4g} ({task.optimizer})")
    else:
        # Calibrated on the first 32 probe samples, full Gram (as in issue 7: the same λ₀ definition; a full
        # 1280 × 1280 Gram of n = 128 would cost (nC)²P for one number).
        nc = task.probe if task.data == "teacher" else min(CALIBRATION_PROBE, task.probe)
        cal = calibrate(task, sidecar, model, probe_x[:nc], probe_t[:nc],
                        1.0 / (2 * nc) if task.loss == "mse" else 0.0)
        eta = learning_rate(task, cal["lambda0"])
        log(f"{task.name}: P = {param_count}, λ₀ = {cal['lambda0']:.4g} (λ_max(K) = {cal['lambda_max']:.4g}), "
            f"η = {eta:.4g} = {eta * cal['lambda0']:.3g}/λ₀")

    opt = make_optimizer(task, params, eta)
    flops_per_step = 6.0 * param_count * batch   # forward + backward, the usual estimate (compute_spent)
    every = task.steps // task.snapshots
    steps_per_epoch = max(1, len(xtr) // batch)
    eval_every = max(steps_per_epoch, task.steps // 400) if task.batch else max(1, task.steps // 100)
    evals_at = set(range(0, task.steps + 1, eval_every)) | set(range(0, task.steps + 1, every))
    evals_at |= {task.steps // 4, task.steps // 2, 3 * task.steps // 4, task.steps}
    if task.data != "fashion":
        evals_at |= set(range(0, 41)) | set(range(40, task.steps // 10 + 1, 5))   # early: catapults are fast

    runs: dict[str, dict[str, Any]] = {}
    monitors: dict[str, SidecarMonitor] = {}
    clients: dict[str, SidecarClient] = {}
    ntks: dict[str, TorchNtk] = {}
    # Held-out mode (issue 11 item 5): a third feed, logits only, whose evaluation probe is HELD_OUT_PROBE samples of
    # the validation split (never trained on, eval_held_out), under the live policy: what a small held-out probe buys.
    val_x, val_y = splits["val"]
    held_x, held_y = val_x[:HELD_OUT_PROBE], val_y[:HELD_OUT_PROBE]
    use_held = use_eval and task.data != "teacher"
    feeds = [("kernel", "gram"), ("logits", "logits")] + ([("heldout", "logits")] if use_held else [])
    for kind, mode in feeds:
        ntk = TraceNtk(model, probe_x, probe_targets=probe_t, mode=mode, loss=task.loss, loss_scale=loss_scale,
                       reduction=task.reduction if mode == "gram" else "full")
        ntks[kind] = ntk
        policy = "shadow" if kind == "logits" or live_policy == "default" else f"shadow-{live_policy}"
        ex_x, ex_y = (held_x, held_y) if kind == "heldout" else (eval_x, eval_y)
        record: dict[str, Any] = {"run_id": f"{task.name}-{kind}", "mode": mode, "policy": policy,
                                  "column": "default" if policy == "shadow" else live_policy, "decisions": [],
                                  "diagnostics": []}
        extra: dict[str, Any] = dict(policy=policy, cohort="bench-stopping", job_id=task.name, learning_rate=eta,
                                     labels={"task": task.name, "feed": kind}, max_steps=task.steps,
                                     **optimizer_spec(task))
        if features["train_set_size"]:
            extra["train_set_size"] = len(xtr)
        if (use_eval and kind == "kernel") or kind == "heldout":
            extra.update(eval_samples=len(ex_x), eval_targets=targets_for(task, ex_y).numpy(),
                         eval_sample_ids_hash=probe_hash(ex_x), eval_held_out=kind == "heldout")
        spec = ntk.run_spec(record["run_id"], **extra)
        client = SidecarClient(sidecar.target, spec, max_queued_snapshots=4,
                               on_decision=lambda d, r=record: r["decisions"].append(_decision_record(d)))
        clients[kind] = client
        runs[kind] = record

        def snap(step: int, train_loss: float | None = None, _ntk: TorchNtk = ntk, _kind: str = kind,
                 _x: torch.Tensor = ex_x, **kw: Any) -> Any:
            s = _ntk.snapshot(step, train_loss, **kw)
            if (use_eval and _kind == "kernel") or _kind == "heldout":
                with torch.no_grad():
                    was = model.training
                    model.eval()
                    logits = model(_x)
                    model.train(was)
                s.tensors.append(TensorData.dense("eval_logits", logits.reshape(len(_x), -1).numpy()
                                                  .astype(np.float32), "f32"))
            return s
        monitors[kind] = SidecarMonitor(client, snap, snapshot_every=every, scalars_every=SCALARS_EVERY,
                                        scalars_interval_s=0.0, shadow=True)

    curve: list[dict[str, Any]] = []
    train_seconds = 0.0
    sampler = torch.Generator().manual_seed(3000 + task.seed)
    order = torch.randperm(len(xtr), generator=sampler)
    cursor = 0
    recent: list[float] = []

    def record_eval(step: int) -> None:
        row: dict[str, Any] = {"step": step, "train_seconds": train_seconds, "compute": step * flops_per_step}
        for split, (x, y) in measured.items():
            loss, acc = evaluate(model, task, x, y)
            row[f"{split}_loss"] = loss
            if acc is not None:
                row[f"{split}_acc"] = acc
        curve.append(row)

    def observe(step: int, loss: float) -> None:
        """The monitors' step (scalars every 10 steps, snapshots every `every`), then wait for the decisions."""
        for kind, monitor in monitors.items():
            monitor.on_step(step, loss, learning_rate=eta, samples_seen=step * batch,
                            compute_spent=step * flops_per_step)
        if monitors["kernel"].last_snapshot_step == step:
            for kind, client in clients.items():
                if not client.flush(300):
                    log(f"{task.name}: {kind} snapshot at step {step} not answered within 300 s")
            diag = _diagnostics(clients["kernel"].get_run())
            if diag is not None:
                runs["kernel"]["diagnostics"].append(diag)

    model.train()
    record_eval(0)
    observe(0, curve[0]["train_loss"])   # the snapshot of the untrained network, at step 0
    diverged = False
    step = 0
    for step in range(1, task.steps + 1):
        if cursor + batch > len(xtr):
            order = torch.randperm(len(xtr), generator=sampler)
            cursor = 0
        idx = order[cursor:cursor + batch]
        cursor += batch
        started = time.perf_counter()
        loss = criterion(model(xtr[idx]), targets_for(task, ytr[idx]))
        opt.zero_grad()
        loss.backward()
        opt.step()
        value = loss.item()
        train_seconds += time.perf_counter() - started
        recent.append(value)
        if step in evals_at:
            record_eval(step)
        # What a trainer logs: the mean minibatch loss since the last log line.
        mean = float(np.mean(recent[-SCALARS_EVERY:]))
        if step % SCALARS_EVERY == 0:
            recent = []
        observe(step, mean)
        if not math.isfinite(value):
            diverged = True
            log(f"{task.name}: loss {value} at step {step}; stopping the run")
            break
    last_step = step

    for kind, client in clients.items():
        client.flush(120)
        rep = client.get_run()
        if rep is None:
            log(f"{task.name}: GetRun of the {kind} run failed")
        runs[kind]["shadow"] = _shadow(rep)
        runs[kind]["recent_decisions"] = [
            _decision_record(Decision.from_proto(d)) for d in (rep.recent_decisions if rep is not None else [])]
    text = sidecar.metrics()
    for kind, rec in runs.items():
        rid = rec["run_id"]
        rec["metrics"] = {name: metric_value(text, f"ntk_sidecar_{name}", rid) for name in
                          ("shadow_would_stop_step", "shadow_compute_saved", "shadow_steps_saved")}
        rec["snapshot_seconds"] = monitors[kind].snapshot_seconds
        rec["snapshots"] = monitors[kind].snapshots_taken
        rec["client_stats"] = clients[kind].stats.__dict__.copy()
    for monitor in monitors.values():
        monitor.close(timeout=30)
    for kind, rec in runs.items():
        rec["sidecar_warnings"] = [w for w in sidecar.warnings[warned:] if f"run {rec['run_id']}:" in w]
    result: dict[str, Any] = {
        "task": task.to_dict(), "param_count": param_count, "calibration": cal, "learning_rate": eta,
        "eta_lambda0": eta * cal["lambda0"] if cal else None, "batch": batch, "steps_per_epoch": steps_per_epoch,
        "train_size": len(xtr), "eval_probe_sent": len(eval_x) if use_eval else 0,
        "client_features": features, "split_sizes": {k: len(v[1]) for k, v in measured.items()},
        "eval_every": eval_every, "snapshot_every": every, "flops_per_step": flops_per_step,
        "last_step": last_step, "diverged": diverged, "curve": curve, "runs": runs,
        "train_seconds": train_seconds, "wall_seconds": time.perf_counter() - t0,
    }
    if task.data == "teacher":
        result["closed_form"] = closed_form(task, model, splits, eta)
    return result


def closed_form(task: Task, model: torch.nn.Module, splits: dict[str, tuple[torch.Tensor, torch.Tensor]],
                eta: float) -> dict[str, Any]:
    """Kernel-regime prediction of the teacher–student run (docs/science.md A9, A12, C6/C7): the probe set is the whole
    training set, so the discrete kernel-GD curve of the initial kernel K₀ (float64, as the sidecar receives it) is
    the linearised network's training loss; K2 (ρ = 0.1, s₀ = 0) is computed on it in closed form."""
    xtr, ytr = splits["train"]
    init = make_model(task)   # same seed: θ₀
    ntk = TorchNtk(init, xtr, mode="gram", loss="mse")
    k0 = ntk.kernel_tensor().to_dense()     # type: ignore[union-attr]
    n = len(xtr)
    c_l = 1.0 / (2 * n)
    r0 = -ytr.double().numpy().reshape(-1)   # centred output: f₀ = 0
    curve = kernel_gd_curve(k0, r0, c_l, eta)
    k2 = kess_k2_discrete(curve, rho=0.1)
    steps = np.arange(0, task.steps + 1, max(1, task.steps // 300))
    return {"kess_k2": k2, "loss_at_kess": curve.loss(k2), "steps": steps.tolist(),
            "train_loss": [curve.loss(float(s)) for s in steps], "lambda_max": float(curve.lam[0]),
            "eta_lambda_max_over_n": eta * 2 * c_l * float(curve.lam[0])}
