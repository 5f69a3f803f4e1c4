#!/usr/bin/env python3
"""Run the stopping benchmark (issue 11 item 7): start a sidecar from this checkout (recording every run when it
supports `serve --record-dir`), train every task of the matrix with the sidecar in shadow mode, write one JSON per
task under bench/stopping/results/, replay each recording under every policy column (`ntk-sidecar replay --json`),
then the report.

    npm run bench:stopping                       # the whole matrix (~16 min on 2 shared CPU cores; ≤ 45) + report
    npm run bench:stopping -- --quick            # smoke run: 4 tasks at a quarter budget, into /tmp, ~2 min
    /usr/bin/python3 bench/stopping/run_matrix.py --tasks fmnist-mlp-adam-s0 --out /tmp/x --no-report
    /usr/bin/python3 bench/stopping/run_matrix.py --replay-only      # re-replay the recordings, rewrite the report
    /usr/bin/python3 bench/stopping/run_matrix.py --seeds 2,3 --tasks fashion --out bench/stopping/results-fresh

Needs Debian's python3 with torch, numpy, scikit-learn, grpcio, protobuf and dataset-fashion-mnist
(`npm run setup:test`) and node.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import torch  # noqa: E402

from checkout import DESCRIPTION  # noqa: E402
from harness import run_task  # noqa: E402
from replay import POLICY_COLUMNS, replay_all  # noqa: E402
from sidecar_proc import Sidecar  # noqa: E402
from tasks import FASHION_SEEDS, by_name, matrix, quick  # noqa: E402


def compact(value: object) -> object:
    """Floats to 7 significant digits (the JSON is committed; full float64 precision is not information here)."""
    if isinstance(value, float):
        return float(f"{value:.7g}")
    if isinstance(value, dict):
        return {k: compact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [compact(v) for v in value]
    return value


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--tasks", nargs="*", help="task names (default: the whole matrix)")
    p.add_argument("--seeds", default=None,
                   help="seeds of the Fashion-MNIST runs (comma-separated; default 0,1: the committed matrix). "
                        "Fresh seeds confirm a setting tuned on the recordings: --seeds 2,3 --tasks fashion --out DIR")
    p.add_argument("--quick", action="store_true", help="smoke run: 4 tasks at --steps-scale 0.25 into /tmp")
    p.add_argument("--out", type=Path, default=None, help="results folder (default bench/stopping/results)")
    p.add_argument("--steps-scale", type=float, default=None, help="scale every budget (quick trials)")
    p.add_argument("--threads", type=int, default=1, help="torch threads (1: the fastest on a shared 2-core machine)")
    p.add_argument("--skip-done", action="store_true", help="keep results that already exist")
    p.add_argument("--no-report", action="store_true")
    p.add_argument("--eval-probe", choices=("auto", "on", "off"), default="auto",
                   help="send the evaluation probe (auto: when the Python client supports it)")
    p.add_argument("--policies", default=",".join(POLICY_COLUMNS),
                   help="policy columns replayed on every recording (comma-separated names; see replay.py)")
    p.add_argument("--live-policy", default="generalization",
                   help="policy column of the live kernel feed (the logits-only feed keeps the old rule)")
    p.add_argument("--replay-only", action="store_true", help="no training: replay the recordings, write the report")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    if args.quick:
        tasks = quick()
        scale = 0.25 if args.steps_scale is None else args.steps_scale
        out = (args.out or Path("/tmp/ntk-bench-stopping-quick")).resolve()
    else:
        seeds = tuple(int(x) for x in args.seeds.split(",")) if args.seeds else FASHION_SEEDS
        tasks = by_name(args.tasks, seeds) if args.tasks else matrix(seeds)
        scale = 1.0 if args.steps_scale is None else args.steps_scale
        out = (args.out or HERE / "results").resolve()   # absolute: the sidecar records from its own cwd
    if scale != 1.0:
        tasks = [dataclasses.replace(t, steps=max(4 * t.snapshots, int(t.steps * scale) // t.snapshots * t.snapshots))
                 for t in tasks]
    out.mkdir(parents=True, exist_ok=True)
    record_dir = out / "recordings"
    policies = [x for x in args.policies.split(",") if x]
    started = time.perf_counter()

    def log(msg: str) -> None:
        print(f"[{time.perf_counter() - started:7.1f} s] {msg}", flush=True)

    if not args.replay_only:
        sidecar = Sidecar(record_dir=record_dir).start()
        log(f"sidecar at {sidecar.target} (metrics {sidecar.metrics_url}; recording: "
            f"{sidecar.recording or 'not supported by this sidecar'})")
        try:
            for i, task in enumerate(tasks, 1):
                path = out / f"{task.name}.json"
                if args.skip_done and path.exists():
                    log(f"[{i}/{len(tasks)}] {task.name}: kept {path.name}")
                    continue
                log(f"[{i}/{len(tasks)}] {task.name}: {task.steps} steps")
                result = run_task(task, sidecar, log, eval_probe=args.eval_probe, live_policy=args.live_policy)
                result["recorded"] = bool(sidecar.recording)
                result["code_under_test"] = DESCRIPTION
                path.write_text(json.dumps(compact(result), separators=(",", ":")))
                k = result["runs"]["kernel"]["shadow"].get("would_stop_step")
                g = result["runs"]["logits"]["shadow"].get("would_stop_step")
                log(f"[{i}/{len(tasks)}] {task.name}: done in {result['wall_seconds']:.0f} s (training "
                    f"{result['train_seconds']:.0f} s, snapshots {result['runs']['kernel']['snapshot_seconds']:.0f} s); "
                    f"would stop at {k} (logits-only {g}) of {result['last_step']}")
        finally:
            sidecar.stop()
    n = replay_all(out, record_dir, policies, log)
    log(f"replayed {n} recording(s) under {len(policies)} policy column(s)")
    if not args.replay_only:
        (out / "matrix_wall_seconds").write_text(f"{time.perf_counter() - started:.0f}\n")
    if not args.no_report:
        from report import write_report
        report_dir = HERE if out.resolve() == (HERE / "results").resolve() else out
        write_report(out, report_dir, wall_seconds=None if args.replay_only else time.perf_counter() - started)
        log(f"report written to {report_dir / 'REPORT.md'}")


if __name__ == "__main__":
    os.nice(0)
    main()
