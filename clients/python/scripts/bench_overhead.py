#!/usr/bin/env python3
"""Benchmark (not a test): training wall time of the digits example with and without the sidecar attached at
the default cadence, side by side in one run, plus the per-snapshot cost of each kernel mode.

Runs alternate (baseline, attached, attached, baseline, ...) with the same seed and steps, so drifting machine
load hits both alike. Reported:
  * baseline and attached wall time (median over --reps);
  * snapshot build time on the training thread (Jacobian + Gram/sketch: the "Jacobian computation itself");
  * overhead excluding it: (attached − snapshot build − baseline) / baseline, per pair, then the median;
  * the training-thread time spent in on_step apart from snapshots (scalars, queueing, reading the decision);
  * per mode, the snapshot cost split into Jacobian, reduction (sketch/Gram) and copy to host.

    /usr/bin/python3 clients/python/scripts/bench_overhead.py                 # starts a sidecar (node + tsx)
    /usr/bin/python3 clients/python/scripts/bench_overhead.py --sidecar 127.0.0.1:50051 --reps 5
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REPO = ROOT.parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "examples"))

import torch  # noqa: E402

import digits_mlp  # noqa: E402
from ntk_sidecar.torch_adapter import TorchNtk  # noqa: E402


def start_sidecar() -> tuple[subprocess.Popen[str], str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    target = f"127.0.0.1:{port}"
    data = tempfile.mkdtemp(prefix="ntk-bench-")
    proc = subprocess.Popen(["node", "--import", "tsx", "src/cli/main.ts", "serve", "--grpc-addr", target,
                             "--metrics-addr", "127.0.0.1:0", "--data-dir", data], cwd=REPO,
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    ready = threading.Event()

    def read() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            if re.search(r"serving gRPC on ", line):
                ready.set()

    threading.Thread(target=read, daemon=True).start()
    if not ready.wait(60):
        proc.kill()
        raise RuntimeError("the sidecar did not start within 60 s")
    return proc, target


def mode_costs(args: argparse.Namespace) -> list[tuple[str, dict[str, float], int]]:
    """Per mode: mean snapshot timing over 3 snapshots (after one warm-up), and the bytes it sends."""
    xtr, ytr, _, _ = digits_mlp.load_data(args.seed)
    model = digits_mlp.make_model(args.width, args.seed)
    out = []
    for mode in ("jacobian", "sketch", "gram", "logits"):
        ntk = TorchNtk(model, xtr[:args.probe], probe_targets=ytr[:args.probe], mode=mode,
                       sketch_dim=args.sketch_dim, loss="cross_entropy")
        snap = ntk.snapshot(0, 1.0)
        totals: dict[str, float] = {}
        for _ in range(3):
            snap = ntk.snapshot(0, 1.0)
            for k, v in ntk.last_timing.items():
                totals[k] = totals.get(k, 0.0) + v / 3
        out.append((mode, totals, snap.nbytes))
    return out


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sidecar", help="HOST:PORT of a running sidecar (default: start one)")
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--steps", type=int, default=2000)
    p.add_argument("--mode", default="gram")
    p.add_argument("--threads", type=int, default=1, help="torch threads for training (1: less noise)")
    args_in = p.parse_args(argv)
    proc = None
    target = args_in.sidecar
    if target is None:
        proc, target = start_sidecar()
    try:
        common = ["--steps", str(args_in.steps), "--mode", args_in.mode, "--threads", str(args_in.threads), "--quiet"]
        base_args = digits_mlp.parse_args(common + ["--no-sidecar"])
        att_args = digits_mlp.parse_args(common + ["--sidecar", target])
        digits_mlp.train(digits_mlp.parse_args(common + ["--no-sidecar", "--steps", "200"]))  # warm-up
        pairs = []
        for rep in range(args_in.reps):
            order = ("base", "att") if rep % 2 == 0 else ("att", "base")
            got = {}
            for which in order:
                got[which] = digits_mlp.train(base_args if which == "base" else att_args)
            pairs.append((got["base"], got["att"]))
            b, a = got["base"], got["att"]
            print(f"rep {rep + 1}: baseline {b.wall_s:.2f} s, attached {a.wall_s:.2f} s "
                  f"(snapshots {a.snapshot_seconds:.2f} s in {a.snapshots}, on_step rest {a.monitor_seconds:.3f} s, "
                  f"sent {a.client_stats.get('snapshots_sent')}, dropped {a.client_stats.get('snapshots_dropped')})",
                  flush=True)
        base = [b.wall_s for b, _ in pairs]
        att = [a.wall_s for _, a in pairs]
        snap = [a.snapshot_seconds for _, a in pairs]
        rest = [a.monitor_seconds for _, a in pairs]
        excl = [(a.wall_s - a.snapshot_seconds - b.wall_s) / b.wall_s for b, a in pairs]
        excl_cpu = [(a.cpu_s - a.snapshot_cpu_seconds - b.cpu_s) / b.cpu_s for b, a in pairs]
        n_snap = pairs[0][1].snapshots
        print()
        print(f"digits MLP, {args_in.steps} steps, batch 64, mode {args_in.mode}, snapshot every 200 steps "
              f"({n_snap} snapshots), scalars every 10; torch {torch.__version__}, {args_in.threads} training thread(s), "
              f"{os.cpu_count()} CPUs ({platform.processor() or platform.machine()}); median of {args_in.reps} pairs")
        print()
        med = statistics.median

        def pct(values: list[float]) -> str:
            return f"**{100 * med(values):+.2f} %** ({', '.join(f'{100 * v:+.2f}' for v in values)})"

        print("| | wall time (s) | CPU time of the trainer process (s) |")
        print("|---|---|---|")
        print(f"| baseline (no sidecar) | {med(base):.2f} | {med([b.cpu_s for b, _ in pairs]):.2f} |")
        print(f"| attached | {med(att):.2f} | {med([a.cpu_s for _, a in pairs]):.2f} |")
        print(f"| of which snapshot building (Jacobian + {args_in.mode}) | {med(snap):.2f} | "
              f"{med([a.snapshot_cpu_seconds for _, a in pairs]):.2f} |")
        print(f"| of which on_step apart from snapshots (training thread) | {med(rest):.3f} | |")
        print(f"| overhead excluding snapshot building: median (per pair) | {pct(excl)} | {pct(excl_cpu)} |")
        print()
        print("| mode | Jacobian (s) | reduce (s) | to host (s) | total per snapshot (s) | bytes sent |")
        print("|---|---|---|---|---|---|")
        for mode, t, nbytes in mode_costs(att_args):
            print(f"| {mode} | {t.get('jacobian_s', 0):.3f} | {t.get('reduce_s', 0):.3f} | {t.get('to_host_s', 0):.3f} "
                  f"| {t.get('total_s', 0):.3f} | {nbytes:,} |")
    finally:
        if proc is not None:
            proc.send_signal(signal.SIGTERM)
            proc.wait(10)


if __name__ == "__main__":
    main()
