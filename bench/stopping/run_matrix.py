#!/usr/bin/env python3
"""Run the stopping benchmark (issue 7): start a sidecar from this checkout, train every task of the matrix with
the sidecar in shadow mode, write one JSON per task under bench/stopping/results/, then the report.

    npm run bench:stopping                                   # the whole matrix (~30 min on 2 CPU cores) + report
    /usr/bin/python3 bench/stopping/run_matrix.py --tasks digits-w512-ce --out /tmp/x --no-report

Needs Debian's python3 with torch, numpy, scikit-learn, grpcio, protobuf (`npm run setup:test`) and node.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import torch  # noqa: E402

from harness import run_task  # noqa: E402
from sidecar_proc import Sidecar  # noqa: E402
from tasks import by_name, matrix  # noqa: E402


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
    p.add_argument("--out", type=Path, default=HERE / "results")
    p.add_argument("--steps-scale", type=float, default=1.0, help="scale every budget (quick trials)")
    p.add_argument("--threads", type=int, default=1, help="torch threads (1: the fastest on a shared 2-core machine)")
    p.add_argument("--skip-done", action="store_true", help="keep results that already exist")
    p.add_argument("--no-report", action="store_true")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    tasks = by_name(args.tasks) if args.tasks else matrix()
    if args.steps_scale != 1.0:
        tasks = [dataclasses.replace(t, steps=max(10 * t.snapshots, int(t.steps * args.steps_scale) // 10 * 10))
                 for t in tasks]
    args.out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()

    def log(msg: str) -> None:
        print(f"[{time.perf_counter() - started:7.1f} s] {msg}", flush=True)

    sidecar = Sidecar().start()
    log(f"sidecar at {sidecar.target} (metrics {sidecar.metrics_url})")
    try:
        for i, task in enumerate(tasks, 1):
            path = args.out / f"{task.name}.json"
            if args.skip_done and path.exists():
                log(f"[{i}/{len(tasks)}] {task.name}: kept {path.name}")
                continue
            log(f"[{i}/{len(tasks)}] {task.name}: {task.steps} steps")
            result = run_task(task, sidecar, log)
            path.write_text(json.dumps(compact(result), separators=(",", ":")))
            k = result["runs"]["kernel"]["shadow"].get("would_stop_step")
            g = result["runs"]["logits"]["shadow"].get("would_stop_step")
            log(f"[{i}/{len(tasks)}] {task.name}: done in {result['wall_seconds']:.0f} s; would stop at {k} "
                f"(logits-only {g}) of {result['last_step']}")
    finally:
        sidecar.stop()
    if not args.no_report:
        from report import write_report
        report_dir = HERE if args.out.resolve() == (HERE / "results").resolve() else args.out
        write_report(args.out, report_dir)
        log(f"report written to {report_dir / 'REPORT.md'}")


if __name__ == "__main__":
    main()
