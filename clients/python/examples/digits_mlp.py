#!/usr/bin/env python3
"""Train an over-parameterised MLP on scikit-learn's bundled digits data with the sidecar attached, and print
when the sidecar said STOP against the full run (steps, train loss, test accuracy).

    npm start -- --grpc-addr 127.0.0.1:50051          # the sidecar, in another terminal
    python3 clients/python/examples/digits_mlp.py --sidecar 127.0.0.1:50051

The run always goes to --steps (the sidecar runs in shadow mode on the trainer's side) so that the STOP step
can be compared with where the full run ends; --obey stops at the STOP instead. The MLP (64 → 256 → 256 → 10,
85k parameters for 1437 training images) trains with SGD + momentum on cross-entropy; every --snapshot-every
steps the client sends the Gram matrix of the per-sample Jacobian on a fixed probe set of --probe training
images (computed here in float64, so the sidecar only sums it), plus the probe logits; scalars (loss, learning
rate, test accuracy when measured) go every 10 steps. CPU only, a few minutes. --max-steps sets a step budget
in RunStart (a STOP the sidecar always gives, whatever its stopping policy).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

try:
    import ntk_sidecar  # noqa: F401
except ImportError:  # running from a checkout without installing the package
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import torch
from sklearn.datasets import load_digits

from ntk_sidecar import SidecarClient, SidecarMonitor
from ntk_sidecar.probe import DEFAULT_PROBE_SAMPLES
from ntk_sidecar.torch_adapter import TorchNtk


@dataclass
class Point:
    step: int
    train_loss: float
    test_accuracy: float
    wall_s: float


@dataclass
class Result:
    steps: int
    wall_s: float
    cpu_s: float = 0.0                    # CPU time of this process (all threads) during training
    thread_cpu_s: float = 0.0             # CPU time of the training thread alone
    snapshot_cpu_seconds: float = 0.0     # CPU time of the training thread building snapshots
    final: Point | None = None
    stop: Point | None = None            # where the sidecar said STOP (first seen by the trainer)
    stop_decided_step: int | None = None  # the step the decision was taken at
    stop_reason: str | None = None
    snapshot_seconds: float = 0.0         # Jacobian + Gram/sketch building, on the training thread
    monitor_seconds: float = 0.0          # the rest of on_step (scalars, queue, decision), on the training thread
    monitor_cpu_seconds: float = 0.0      # the same in CPU time
    snapshots: int = 0
    client_stats: dict[str, Any] = field(default_factory=dict)
    last_decision: str | None = None


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sidecar", default="127.0.0.1:50051", help="sidecar gRPC address HOST:PORT")
    p.add_argument("--no-sidecar", action="store_true", help="train without attaching (baseline)")
    p.add_argument("--build-only", action="store_true",
                   help="build the snapshots at the same cadence but send nothing (benchmark reference)")
    p.add_argument("--steps", type=int, default=3000)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--lr", type=float, default=0.05)
    p.add_argument("--momentum", type=float, default=0.9)
    p.add_argument("--width", type=int, default=256)
    p.add_argument("--probe", type=int, default=DEFAULT_PROBE_SAMPLES,
                   help="kernel probe samples n (N = 10 n kernel rows; client default 128)")
    p.add_argument("--eval-probe", type=int, default=0,
                   help="evaluation-probe samples sent as forward-only logits with every snapshot (0 = off; e.g. 512)")
    p.add_argument("--mode", choices=["gram", "sketch", "jacobian", "logits"], default="gram")
    p.add_argument("--sketch-dim", type=int, default=256)
    p.add_argument("--snapshot-every", type=int, default=200)
    p.add_argument("--max-steps", type=int, default=0, help="step budget sent in RunStart (0 = none)")
    p.add_argument("--obey", action="store_true", help="stop when the sidecar says STOP")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=0, help="torch threads (0 = torch's default)")
    p.add_argument("--run-id", default=None)
    p.add_argument("--json", type=Path, help="write the result here")
    p.add_argument("--quiet", action="store_true")
    return p.parse_args(argv)


def load_data(seed: int) -> tuple[torch.Tensor, ...]:
    digits = load_digits()
    x = torch.tensor(digits.data / 16.0, dtype=torch.float32)
    y = torch.tensor(digits.target, dtype=torch.long)
    order = torch.randperm(len(x), generator=torch.Generator().manual_seed(seed))
    split = int(0.8 * len(x))
    train, test = order[:split], order[split:]
    return x[train], y[train], x[test], y[test]


def make_model(width: int, seed: int) -> torch.nn.Module:
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Linear(64, width), torch.nn.ReLU(), torch.nn.Linear(width, width),
                               torch.nn.ReLU(), torch.nn.Linear(width, 10))


def evaluate(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor) -> tuple[float, float]:
    with torch.no_grad():
        out = model(x)
        return float(torch.nn.functional.cross_entropy(out, y)), float((out.argmax(1) == y).float().mean())


def train(args: argparse.Namespace) -> Result:
    if args.threads:
        torch.set_num_threads(args.threads)
    xtr, ytr, xte, yte = load_data(args.seed)
    model = make_model(args.width, args.seed)
    opt = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=args.momentum)
    batches = torch.Generator().manual_seed(args.seed + 1)

    monitor: SidecarMonitor | None = None
    client: SidecarClient | None = None
    builder: TorchNtk | None = None
    if args.build_only:
        builder = TorchNtk(model, xtr[:args.probe], probe_targets=ytr[:args.probe], mode=args.mode,
                           sketch_dim=args.sketch_dim, sketch_seed=args.seed, loss="cross_entropy")
    elif not args.no_sidecar:
        evals = slice(args.probe, args.probe + args.eval_probe)  # the next training samples after the probe
        ntk = TorchNtk(model, xtr[:args.probe], probe_targets=ytr[:args.probe], mode=args.mode,
                       sketch_dim=args.sketch_dim, sketch_seed=args.seed, loss="cross_entropy",
                       eval_inputs=xtr[evals] if args.eval_probe else None,
                       eval_targets=ytr[evals] if args.eval_probe else None, train_set_size=len(xtr))
        spec = ntk.run_spec(args.run_id or f"digits-mlp-{int(time.time())}", job_id="digits-mlp", cohort="examples",
                            optimizer="momentum", momentum=args.momentum, learning_rate=args.lr,
                            max_steps=args.max_steps, labels={"example": "digits_mlp", "mode": args.mode})
        client = SidecarClient(args.sidecar, spec)
        # shadow=True: a STOP is recorded (would_stop_step) and the run goes on, unless --obey.
        monitor = SidecarMonitor(client, ntk.snapshot, snapshot_every=args.snapshot_every, scalars_every=10,
                                 shadow=not args.obey)

    result = Result(steps=0, wall_s=0.0)
    start, start_cpu, start_thread = time.perf_counter(), time.process_time(), time.thread_time()
    eval_wall = eval_cpu = 0.0
    step = 0
    for step in range(1, args.steps + 1):
        idx = torch.randint(0, len(xtr), (args.batch,), generator=batches)
        loss = torch.nn.functional.cross_entropy(model(xtr[idx]), ytr[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        value = loss.item()  # a trainer logs its loss either way: the baseline pays for it too
        if builder is not None and (step - 1) % args.snapshot_every == 0:  # the monitor's cadence: 1, 1 + every, ...
            t0, c0 = time.perf_counter(), time.thread_time()
            builder.snapshot(step, value, learning_rate=args.lr)
            result.snapshot_seconds += time.perf_counter() - t0
            result.snapshot_cpu_seconds += time.thread_time() - c0
            result.snapshots += 1
        if monitor is None:
            continue
        t0, c0 = time.perf_counter(), time.thread_time()
        built, built_cpu = monitor.snapshot_seconds, monitor.snapshot_cpu_seconds
        stop = monitor.on_step(step, value, learning_rate=args.lr, samples_seen=step * args.batch,
                               compute_spent=float(step))
        result.monitor_seconds += time.perf_counter() - t0 - (monitor.snapshot_seconds - built)
        result.monitor_cpu_seconds += time.thread_time() - c0 - (monitor.snapshot_cpu_seconds - built_cpu)
        seen = monitor.stop_step if args.obey else monitor.would_stop_step
        if seen == step:
            d = client.decision if client is not None else None
            t0, c0 = time.perf_counter(), time.thread_time()
            train_loss, _ = evaluate(model, xtr, ytr)
            _, acc = evaluate(model, xte, yte)
            result.stop = Point(step, train_loss, acc, t0 - start - eval_wall)
            eval_wall += time.perf_counter() - t0  # the example's own evaluation is not training time
            eval_cpu += time.thread_time() - c0
            result.stop_decided_step = d.step if d is not None else None
            result.stop_reason = d.reason if d is not None else None
            if not args.quiet:
                print(f"step {step}: the sidecar said STOP ({d.describe() if d else 'no detail'})", flush=True)
        if stop:
            break
    result.steps = step
    result.wall_s = time.perf_counter() - start - eval_wall
    result.cpu_s = time.process_time() - start_cpu - eval_cpu
    result.thread_cpu_s = time.thread_time() - start_thread - eval_cpu
    train_loss, _ = evaluate(model, xtr, ytr)
    _, acc = evaluate(model, xte, yte)
    result.final = Point(step, train_loss, acc, result.wall_s)
    if monitor is not None and client is not None:
        result.snapshot_seconds = monitor.snapshot_seconds
        result.snapshot_cpu_seconds = monitor.snapshot_cpu_seconds
        result.snapshots = monitor.snapshots_taken
        d = client.decision
        result.last_decision = d.describe() if d is not None else None
        monitor.close(timeout=10)
        result.client_stats = asdict(client.stats)
    return result


def report(r: Result) -> str:
    rows = [("full run" if r.stop is None or r.final is None or r.final.step != r.stop.step else "run", r.final)]
    if r.stop is not None:
        rows.insert(0, ("sidecar said STOP", r.stop))
    lines = [f"{'':20} {'steps':>7} {'train loss':>11} {'test acc':>9} {'wall s':>8}"]
    for name, pt in rows:
        if pt is not None:
            lines.append(f"{name:20} {pt.step:7d} {pt.train_loss:11.4f} {100 * pt.test_accuracy:8.2f}% {pt.wall_s:8.1f}")
    if r.stop is None:
        lines.append(f"the sidecar did not say STOP in {r.steps} steps (last decision: {r.last_decision})")
    elif r.final is not None and r.final.step > r.stop.step:
        saved = 1 - r.stop.step / r.final.step
        lines.append(f"STOP (reason {r.stop_reason}, decided at step {r.stop_decided_step}) would have saved "
                     f"{100 * saved:.0f}% of the steps; test accuracy {100 * r.stop.test_accuracy:.2f}% vs "
                     f"{100 * r.final.test_accuracy:.2f}% at the end")
    if r.snapshots:
        lines.append(f"{r.snapshots} snapshots, {r.snapshot_seconds / r.snapshots:.3f} s each to build "
                     f"({r.snapshot_seconds:.1f} s of {r.wall_s:.1f} s)")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    result = train(args)
    print(report(result))
    if args.json:
        args.json.write_text(json.dumps(asdict(result), indent=1))


if __name__ == "__main__":
    main()
