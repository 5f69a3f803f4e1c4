"""One benchmark run: train a task to its full budget with the sidecar attached in SHADOW mode through the
project's PyTorch client, and record everything needed to know the outcome of stopping at any step.

Per task the sidecar sees four runs:
  <task>-calib   one Gram snapshot of the untrained network; its λ_max sets λ₀ and so the learning rate;
  <task>-kernel  the training run with Gram snapshots (TorchNtk mode="gram") and logits, policy `shadow`;
  <task>-variant the same messages (the same Snapshot objects, through Tee) under the candidate policy;
  <task>-logits  the same training, at the same time, fed only the probe logits (TorchNtk mode="logits"): the
                 sidecar's logits-only mode on exactly the same trajectory.
The training runs select shadow policies (RunStart.policy), so every STOP is computed and exported but not
enforced, and training goes to the end. After each snapshot the harness waits for the decisions (client.flush)
so that a decision is attributed to the step it was taken at, and reads GetRun's diagnostics (the guards).

Recorded: every decision (step, action, reason, kess_step, evidence, detail), per-snapshot diagnostics, and at
every evaluation step (epoch boundaries, snapshot steps, 25/50/75 % of the budget) the loss and accuracy on the
training, validation and test splits, plus the cumulative training time.
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

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "clients" / "python" / "src"))

from ntk_sidecar import Decision, SidecarClient, SidecarMonitor  # noqa: E402
from ntk_sidecar.torch_adapter import TorchNtk  # noqa: E402

from kess_closed_form import kernel_gd_curve, kess_k2_discrete  # noqa: E402
from sidecar_proc import Sidecar, metric_value  # noqa: E402
from tasks import Task  # noqa: E402

SCALARS_EVERY = 10
# A candidate setting evaluated beside the defaults on the same snapshots (sidecar_proc.POLICIES): the relative
# kernel-velocity guard effectively off, so "kernel moving" means an absolute change (S > 0.02 per interval,
# |ΔA_c| > 0.005, O_10 < 0.9). Not a default: REPORT.md says why it was tried and what it does.
VARIANT_POLICY = "shadow-absdrift"
CALIBRATION_LR = 1e-6


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
        acc = float((out.argmax(1) == y).float().mean()) if task.data == "digits" else None
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
    lam0 = 2 * loss_scale * lam_max if task.loss == "mse" else lam_max / (2 * task.probe)
    return {"lambda_max": lam_max, "gn_sharpness": gn, "lambda0": lam0}


def learning_rate(task: Task, lam0: float) -> float:
    """η = lr_factor·2/λ₀; γ tasks: λ₀ of the γ = 1 network is γ²·λ₀(γ) (centred f = (h − h₀)/γ scales the kernel
    by 1/γ²), then η(γ) = η(1)·γ² (γ ≤ 1) or η(1)·γ^{2/L}, L = 2 (Atanasov et al., docs/sources.md 3)."""
    if not task.centered and task.gamma == 1.0:
        return task.lr_factor * 2.0 / lam0
    eta1 = task.lr_factor * 2.0 / (task.gamma ** 2 * lam0)
    return eta1 * (task.gamma ** 2 if task.gamma <= 1 else task.gamma ** (2 / 2))


def run_task(task: Task, sidecar: Sidecar, log: Callable[[str], None] = print) -> dict[str, Any]:
    torch.manual_seed(task.seed)
    splits = teacher_splits(task.seed) if task.data == "teacher" else digits_splits(task.seed)
    xtr, ytr = splits["train"]
    model = make_model(task)
    params = [p for p in model.parameters() if p.requires_grad]
    param_count = sum(p.numel() for p in params)
    probe_x, probe_y = xtr[:task.probe], ytr[:task.probe]
    probe_t = targets_for(task, probe_y)
    outputs = 10 if task.data == "digits" else 1
    loss_scale = 1.0 / (2 * task.probe) if task.loss == "mse" else 0.0   # c_L of ½·sum, mean over the probe
    criterion = loss_fn(task)
    batch = task.batch or len(xtr)

    t0 = time.perf_counter()
    warned = len(sidecar.warnings)
    cal = calibrate(task, sidecar, model, probe_x, probe_t, loss_scale)
    eta = learning_rate(task, cal["lambda0"])
    log(f"{task.name}: P = {param_count}, λ₀ = {cal['lambda0']:.4g} (λ_max(K) = {cal['lambda_max']:.4g}), "
        f"η = {eta:.4g} = {eta * cal['lambda0']:.3g}/λ₀")

    opt = torch.optim.SGD(params, lr=eta)
    flops_per_step = 6.0 * param_count * batch   # forward + backward, the usual estimate (compute_spent)
    every = task.steps // task.snapshots
    steps_per_epoch = max(1, len(xtr) // batch)
    eval_every = max(steps_per_epoch, task.steps // 400) if task.batch else max(1, task.steps // 100)
    evals_at = set(range(0, task.steps + 1, eval_every)) | set(range(0, task.steps + 1, every))
    evals_at |= {task.steps // 4, task.steps // 2, 3 * task.steps // 4, task.steps}
    evals_at |= set(range(0, 41)) | set(range(40, task.steps // 10 + 1, 5))   # early: catapults are fast

    runs: dict[str, dict[str, Any]] = {}
    monitors: dict[str, SidecarMonitor] = {}
    clients: dict[str, SidecarClient] = {}
    # "variant" receives exactly the kernel run's messages (the same Snapshot objects) but selects another policy.
    for kind, mode, policy in (("variant", "gram", VARIANT_POLICY), ("kernel", "gram", "shadow"),
                               ("logits", "logits", "shadow")):
        ntk = TorchNtk(model, probe_x, probe_targets=probe_t, mode=mode, loss=task.loss, loss_scale=loss_scale)
        record: dict[str, Any] = {"run_id": f"{task.name}-{kind}", "mode": mode, "policy": policy, "decisions": [],
                                  "diagnostics": []}
        spec = ntk.run_spec(record["run_id"], policy=policy, cohort="bench-stopping", job_id=task.name,
                            optimizer="sgd", learning_rate=eta, labels={"task": task.name, "feed": kind})
        client = SidecarClient(sidecar.target, spec, max_queued_snapshots=4,
                               on_decision=lambda d, r=record: r["decisions"].append(_decision_record(d)))
        clients[kind] = client
        runs[kind] = record
        if kind == "variant":
            continue
        sink = Tee(client, clients["variant"]) if kind == "kernel" else client
        monitors[kind] = SidecarMonitor(sink, ntk.snapshot, snapshot_every=every, scalars_every=SCALARS_EVERY,
                                        scalars_interval_s=0.0, shadow=True)

    curve: list[dict[str, Any]] = []
    train_seconds = 0.0
    sampler = torch.Generator().manual_seed(3000 + task.seed)
    order = torch.randperm(len(xtr), generator=sampler)
    cursor = 0
    recent: list[float] = []

    def record_eval(step: int) -> None:
        row: dict[str, Any] = {"step": step, "train_seconds": train_seconds}
        for split, (x, y) in splits.items():
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

    record_eval(0)
    observe(0, curve[0]["train_loss"])   # the snapshot of the untrained network, at step 0
    diverged = False
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
        # What a trainer logs: the mean minibatch loss since the last log line (a single minibatch loss is noise
        # that the spike detector would read as catapults).
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
        monitor = monitors.get(kind, monitors["kernel"])
        rec["snapshot_seconds"] = monitor.snapshot_seconds
        rec["snapshots"] = monitor.snapshots_taken
        rec["client_stats"] = clients[kind].stats.__dict__.copy()
    for monitor in monitors.values():
        monitor.close(timeout=30)

    # The sidecar's warnings about this task's runs (a snapshot accepted without its dynamics diagnostics, …).
    for kind, rec in runs.items():
        rec["sidecar_warnings"] = [w for w in sidecar.warnings[warned:] if f"run {rec['run_id']}:" in w]
    result: dict[str, Any] = {
        "task": task.to_dict(), "param_count": param_count, "calibration": cal, "learning_rate": eta,
        "eta_lambda0": eta * cal["lambda0"], "batch": batch, "steps_per_epoch": steps_per_epoch,
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
