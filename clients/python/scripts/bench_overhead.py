#!/usr/bin/env python3
"""Benchmark (not a test): the cost of attaching the sidecar to the digits example at the default cadence
(snapshot every 200 steps, scalars every 10), side by side with the same run unattached, in one process.

Three variants with the same seed and steps, in rotated order: baseline (no sidecar), build-only (the snapshots
are built at the same cadence and thrown away) and attached (built and sent to a real sidecar). build-only −
baseline is "the Jacobian computation itself" (with its after-effects on caches and the allocator); attached −
build-only is the overhead of attaching excluding it: the client's calls, its sender thread, and the sidecar
process competing for the same CPUs. Reported, as medians:
  * wall time and CPU time (all threads of the trainer) of the three, and the overhead in both;
  * the client's own CPU, measured directly: its background threads (process CPU − training-thread CPU) plus
    the training thread's time in on_step apart from snapshot building;
  * the training-thread cost of each client call in isolation (on_step, should_stop, send_scalars);
  * per mode, the snapshot cost split into Jacobian, reduction (sketch/Gram) and copy to host.
BLAS and torch run one thread (set before torch loads) so that CPU time lands where it is measured.

    /usr/bin/python3 clients/python/scripts/bench_overhead.py                 # starts a sidecar (node + tsx)
    /usr/bin/python3 clients/python/scripts/bench_overhead.py --sidecar 127.0.0.1:50051 --reps 5

`--part matrix` (no sidecar needed; `--part all` runs both) measures instead what a snapshot costs the trainer
at the client's defaults (SidecarMonitor's adaptive schedule under its 5 % overhead governor) on the stopping
evaluation's tasks (bench/stopping/tasks.py, rebuilt in bench_tasks.py: digits MLP 64 → 512 → 10 for 1200 steps,
Fashion-MNIST MLP 784 → 64 → 10 and CNN for 3120 steps, batch 64, kernel probe n = 128, traced Gram) and on a
wider CNN whose step takes ≥ 20 ms: per task a baseline (no monitor), the defaults with the traced Gram and with the
projected NTK (`projection="random"`, k = 1), and the evaluation's own fixed cadence (`snapshot_every = steps/24`
or /20) with the traced Gram. Snapshots go to a null client (building them is what blocks the trainer; sending is
on the client's thread, measured by the attached runs above). Overhead = snapshot building / the rest of the
run's wall time (the monitor's own account, which is what its governor bounds) and, by difference, (wall −
baseline wall)/baseline wall. Then the per-step cost of `on_step` (time.perf_counter_ns over 10⁵ calls).
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import platform  # noqa: E402
import re  # noqa: E402
import signal  # noqa: E402
import socket  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
REPO = ROOT.parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "examples"))

import torch  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_tasks  # noqa: E402
import digits_mlp  # noqa: E402
from ntk_sidecar import RunSpec, SidecarClient, SidecarMonitor  # noqa: E402
from ntk_sidecar.torch_adapter import TorchNtk  # noqa: E402


def start_sidecar() -> tuple[subprocess.Popen[str], str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    target = f"127.0.0.1:{port}"
    data = tempfile.mkdtemp(prefix="ntk-bench-")
    proc = subprocess.Popen(["node", "--import", "tsx", "src/cli/main.ts", "serve", "--grpc-addr", target,
                             "--metrics-addr", "127.0.0.1:0", "--data-dir", data], cwd=REPO,
                            env={**os.environ, "NTK_SIDECAR_COMPUTE_WORKERS": "1"}, stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
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


def call_costs(target: str) -> dict[str, float]:
    """Microseconds per training-thread call, with the client connected."""
    client = SidecarClient(target, RunSpec(run_id=f"bench-calls-{time.time_ns()}", num_samples=4, learning_rate=0.1))
    client.wait_for(lambda c: c.connected, 30)
    monitor = SidecarMonitor(client, None, scalars_every=10)
    out: dict[str, float] = {}
    for name, fn, count in (("on_step (no snapshot)", lambda i: monitor.on_step(i + 1, 0.5), 20_000),
                            ("should_stop", lambda i: client.should_stop(), 20_000),
                            ("send_scalars", lambda i: client.send_scalars(i, 0.5), 500)):
        best = float("inf")
        for _ in range(3):
            t0 = time.thread_time()
            for i in range(count):
                fn(i)
            best = min(best, (time.thread_time() - t0) / count * 1e6)
            client.flush(30)
        out[name] = best
    client.close()
    return out


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


class NullClient:
    """What SidecarMonitor needs of a client; drops what it is given (the matrix measures snapshot building)."""
    decision = None

    def submit(self, snapshot: object) -> None:
        pass

    def send_scalars(self, *args: object, **kwargs: object) -> None:
        pass

    def close(self, status: object = None, timeout: float = 0.0) -> None:
        pass


# (task, steps, the evaluation's snapshot count): bench/stopping/tasks.py's budgets; the wide CNN is this bench's.
MATRIX = (("digits-w512", 1200, 24), ("fmnist-mlp", 3120, 20), ("fmnist-cnn", 3120, 20),
          ("fmnist-cnn-wide", 600, 20))


def train_run(name: str, steps: int, variant: str, every: int, probe_n: int = 128) -> dict[str, float] | None:
    built = bench_tasks.task(name)
    if built is None:
        return None
    model, x, y = built
    g = torch.Generator().manual_seed(0)
    opt = torch.optim.SGD(model.parameters(), lr=0.05)
    probe = x[torch.randperm(len(x), generator=torch.Generator().manual_seed(7))[:probe_n]]
    monitor = None
    if variant != "baseline":
        kw = dict(projection="random", projection_dim=1) if variant == "defaults, pNTK k=1" else dict(reduction="trace")
        ntk = TorchNtk(model, probe, probe_targets=y[:probe_n], mode="gram", loss="cross_entropy", **kw)
        monitor = SidecarMonitor(NullClient(), ntk.snapshot,
                                 snapshot_every=every if variant.startswith("fixed") else None)
    batches = [torch.randint(0, len(x), (64,), generator=g) for _ in range(steps)]
    started = time.perf_counter()
    for step in range(1, steps + 1):
        i = batches[step - 1]
        loss = torch.nn.functional.cross_entropy(model(x[i]), y[i])
        opt.zero_grad()
        loss.backward()
        opt.step()
        if monitor is not None:
            monitor.on_step(step, loss.item())
        else:
            loss.item()
    wall = time.perf_counter() - started
    out = {"wall_s": wall, "snapshots": 0, "snapshot_s": 0.0}
    if monitor is not None:
        out.update(snapshots=monitor.snapshots_taken, snapshot_s=monitor.snapshot_seconds,
                   deferred=monitor.snapshots_deferred)
    return out


def matrix(reps: int, tasks: list[str] | None = None) -> None:
    print(f"load average {open('/proc/loadavg').read().strip()}; torch {torch.__version__}, 1 thread; "
          f"{os.cpu_count()} CPUs ({platform.machine()})", flush=True)
    print()
    print("| task | steps | step ms | run | snapshots | snapshot s | overhead (monitor) | overhead (wall − baseline) |")
    print("|---|---|---|---|---|---|---|---|")
    for name, steps, count in MATRIX:
        if tasks and name not in tasks:
            continue
        every = max(1, steps // count)
        variants = ("baseline", "defaults, traced Gram", "defaults, pNTK k=1", f"fixed every {every}, traced Gram")
        results: dict[str, list[dict[str, float]]] = {v: [] for v in variants}
        for rep in range(reps):
            for v in variants[rep % 4:] + variants[:rep % 4]:
                r = train_run(name, steps, v, every)
                if r is None:
                    break
                results[v].append(r)
        if not results["baseline"]:
            print(f"| {name} | {steps} | – | dataset missing | | | | |")
            continue
        med = statistics.median
        base = med([r["wall_s"] for r in results["baseline"]])
        for v in variants:
            rs = results[v]
            wall = med([r["wall_s"] for r in rs])
            snap = med([r["snapshot_s"] for r in rs])
            own = med([r["snapshot_s"] / (r["wall_s"] - r["snapshot_s"]) for r in rs]) if v != "baseline" else 0.0
            print(f"| {name} | {steps} | {1e3 * base / steps:.2f} | {v} | {int(med([r['snapshots'] for r in rs]))} | "
                  f"{snap:.2f} | {100 * own:.1f} % | {100 * (wall - base) / base:+.1f} % |", flush=True)
    print(f"load average {open('/proc/loadavg').read().strip()}")


def per_step_cost() -> None:
    """on_step at the defaults (scalars every 10 steps, ≤ 1/s; the snapshot schedule's next step far away), with a
    real SidecarClient (fail-open, no sidecar listening), time.perf_counter_ns over 10⁵ calls."""
    client = SidecarClient("127.0.0.1:9", RunSpec(run_id=f"bench-step-{time.time_ns()}", num_samples=4))
    client.max_queued_scalars = 10 ** 9
    n = 100_000
    rows = []
    loss_t = torch.tensor(0.5)
    for label, make, arg in (("on_step(step, float), defaults", lambda: SidecarMonitor(client, None), 0.5),
                             ("on_step(step, 0-d tensor), defaults", lambda: SidecarMonitor(client, None), loss_t),
                             ("on_step, Scalars queued every step", lambda: SidecarMonitor(
                                 client, None, scalars_every=1, scalars_interval_s=0.0), 0.5)):
        monitor = make()
        best = float("inf")
        for _ in range(3):
            t0 = time.perf_counter_ns()
            for step in range(1, n + 1):
                monitor.on_step(step, arg)
            best = min(best, (time.perf_counter_ns() - t0) / n / 1e3)
        rows.append((label, best))
    t0 = time.perf_counter_ns()
    for step in range(n):
        client.send_scalars(step, 0.5)
    rows.append(("send_scalars", (time.perf_counter_ns() - t0) / n / 1e3))
    client.close(timeout=0.1)
    print()
    print(f"| client call (training thread, 10⁵ calls, best of 3) | µs | load average {os.getloadavg()[0]:.1f} |")
    print("|---|---|---|")
    for label, us in rows:
        print(f"| {label} | {us:.2f} | |")


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sidecar", help="HOST:PORT of a running sidecar (default: start one)")
    p.add_argument("--reps", type=int, default=5)
    p.add_argument("--steps", type=int, default=2000)
    p.add_argument("--mode", default="gram")
    p.add_argument("--part", choices=("attached", "matrix", "all"), default="attached")
    p.add_argument("--matrix-reps", type=int, default=1)
    p.add_argument("--tasks", nargs="*", help=f"matrix tasks (default: all of {[t for t, _, _ in MATRIX]})")
    args_in = p.parse_args(argv)
    torch.set_num_threads(1)
    if args_in.part in ("matrix", "all"):
        matrix(args_in.matrix_reps, args_in.tasks)
        per_step_cost()
        if args_in.part == "matrix":
            return
    proc = None
    target = args_in.sidecar
    if target is None:
        proc, target = start_sidecar()
    load_before = os.getloadavg()[0]
    try:
        # n = 16 probe samples: the README's overhead table was measured with it (the example's default is now 128).
        common = ["--steps", str(args_in.steps), "--mode", args_in.mode, "--threads", "1", "--quiet", "--probe", "16"]
        variants = {
            "baseline": digits_mlp.parse_args(common + ["--no-sidecar"]),
            "build-only": digits_mlp.parse_args(common + ["--build-only"]),
            "attached": digits_mlp.parse_args(common + ["--sidecar", target]),
        }
        digits_mlp.train(digits_mlp.parse_args(common + ["--no-sidecar", "--steps", "200"]))  # warm-up
        runs: list[dict[str, digits_mlp.Result]] = []
        names = list(variants)
        for rep in range(args_in.reps):
            got = {}
            for name in names[rep % 3:] + names[:rep % 3]:  # rotate the order: load drift hits all alike
                got[name] = digits_mlp.train(variants[name])
            runs.append(got)
            print(f"rep {rep + 1}: " + "; ".join(
                f"{n} {r.wall_s:.2f} s wall, {r.thread_cpu_s:.2f} s train-thread CPU "
                f"({r.snapshot_cpu_seconds:.2f} s building), {r.cpu_s - r.thread_cpu_s:.3f} s other threads"
                for n, r in got.items()), flush=True)
        calls = call_costs(target)
        modes = mode_costs(variants["attached"])
    finally:
        if proc is not None:
            proc.send_signal(signal.SIGTERM)
            proc.wait(10)
    med = statistics.median

    def col(name: str, f) -> list[float]:
        return [f(r[name]) for r in runs]

    def pct(values: list[float]) -> str:
        return f"{100 * med(values):+.2f} % (per rep {', '.join(f'{100 * v:+.1f}' for v in values)})"

    def cpu_total(r: digits_mlp.Result) -> float:
        return r.cpu_s  # all threads of the trainer process

    wall_over = [(r["attached"].wall_s - r["build-only"].wall_s) / r["baseline"].wall_s for r in runs]
    cpu_over = [(cpu_total(r["attached"]) - cpu_total(r["build-only"])) / cpu_total(r["baseline"]) for r in runs]
    sender = [r["attached"].cpu_s - r["attached"].thread_cpu_s for r in runs]
    calls_cpu = [r["attached"].monitor_cpu_seconds for r in runs]
    client_cpu = [(s + c) / r["baseline"].cpu_s for s, c, r in zip(sender, calls_cpu, runs)]
    jac_share = [r["build-only"].snapshot_seconds / r["baseline"].wall_s for r in runs]
    n_snap = runs[0]["attached"].snapshots
    print()
    print(f"digits MLP (85k parameters), {args_in.steps} steps of batch 64, mode {args_in.mode} with n = 16 probe "
          f"samples (N = 160), {n_snap} snapshots, scalars every 10 steps (≤ 1/s); torch {torch.__version__}, "
          f"1 thread; {os.cpu_count()} CPUs ({platform.machine()}), load average {load_before:.1f} → "
          f"{os.getloadavg()[0]:.1f}; medians of {args_in.reps} rotated triples")
    print()
    print("| run | wall (s) | trainer CPU, all threads (s) | snapshot building (s) |")
    print("|---|---|---|---|")
    for name in ("baseline", "build-only", "attached"):
        print(f"| {name} | {med(col(name, lambda r: r.wall_s)):.2f} | {med(col(name, cpu_total)):.2f} | "
              f"{med(col(name, lambda r: r.snapshot_seconds)):.2f} |")
    print()
    print(f"- Jacobian + {args_in.mode} building (build-only − baseline is its cost): "
          f"{med([r['build-only'].snapshot_seconds / max(r['build-only'].snapshots, 1) for r in runs]):.3f} s "
          f"per snapshot, {100 * med(jac_share):.1f} % of the baseline wall time at this cadence")
    print(f"- **client CPU, measured directly** (its background threads + on_step apart from snapshots, over the "
          f"baseline's CPU): **{pct(client_cpu)}** — background {med(sender):.3f} s, on_step "
          f"{med(calls_cpu):.3f} s per run")
    print(f"- overhead excluding the snapshot building by difference (attached − build-only, over baseline; "
          f"includes the sidecar process competing for the CPUs and all the machine's noise): wall {pct(wall_over)}; "
          f"CPU {pct(cpu_over)}")
    print()
    print("| client call (training thread, CPU) | µs |")
    print("|---|---|")
    for name, us in calls.items():
        print(f"| {name} | {us:.1f} |")
    print()
    print("| mode | Jacobian (s) | reduce (s) | to host (s) | per snapshot (s) | bytes sent |")
    print("|---|---|---|---|---|---|")
    for mode, t, nbytes in modes:
        print(f"| {mode} | {t.get('jacobian_s', 0):.3f} | {t.get('reduce_s', 0):.3f} | {t.get('to_host_s', 0):.3f} "
              f"| {t.get('total_s', 0):.3f} | {nbytes:,} |")


if __name__ == "__main__":
    main()
