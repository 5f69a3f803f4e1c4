#!/usr/bin/env python3
"""A small grid of G5 settings replayed on the recordings of a matrix (issue 11 follow-up: tune on recordings,
confirm on fresh training). Every cell is the real `ntk-sidecar replay RECORDING --policy FILE --json` (replay.py),
i.e. exactly what the server would have decided, scored against the harness's measured curves (baselines.py).

    /usr/bin/python3 bench/stopping/tune.py                        # the grid on bench/stopping/results
    /usr/bin/python3 bench/stopping/tune.py --results DIR --columns g5-auto-a0.01-z1-h0.2-v2,held-…   # given columns

Replays are cached in <results>/grid/grid.json (stop step and first decisions per run and column: small, committed);
the table is written to <results>/grid/TUNING.md and included in REPORT.md by report.py.

The grid (why these values):
  minAccuracyGain 0.005 / 0.01 / 0.02 — the quality allowance is 1 point of test accuracy; 0.005 is the shipped
      default, 0.01 the allowance itself, 0.02 twice it. The evaluation probe resolves 1/1024 (training probe) or
      1/512 (held-out probe) per sample, with a binomial standard error of ≈ 0.8 (training probe at 93 %) and
      ≈ 1.5 points (held-out probe at 86 %), so a gain below ≈ 0.005 over a horizon is under the probe's noise.
  upperZ 0 / 1.645 — the point estimate and the shipped one-sided 95 % (0 is sent as 1e-6: the policy
      requires upperZ > 0).
  horizonFraction 0.2 / 0.5 — A14's horizon, and a longer one (a gain is then asked over half the steps so far).
  stopVotes 1 / 2 — one vote, or A14's two consecutive votes (the shipped default).
  estimate — validation-free: auto (evaluation probe of training samples on classification, kernel LOO error on
      the MSE runs); held-out: the 512-sample held-out probe (the only estimate that feed carries).
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from baselines import first_stop, outcome, patience_stop, oracle_stop  # noqa: E402
from replay import _bare, feed_of, grid_name, policy_file, recording_for, replay_one  # noqa: E402
from report import load  # noqa: E402

GAINS = (0.005, 0.01, 0.02)
ZS = (0.0, 1.645)
HORIZONS = (0.2, 0.5)
VOTES = (1, 2)


def grid_columns(modes: tuple[str, ...] = ("g5-auto", "held-auto")) -> list[str]:
    cols = []
    for mode in modes:
        held = mode.startswith("held")
        est = mode.split("-", 1)[1]
        for g, z, h, v in itertools.product(GAINS, ZS, HORIZONS, VOTES):
            cols.append(grid_name(est, g, z, h, v, held))
    return cols


def replay_grid(results: list[dict[str, Any]], record_dir: Path, columns: list[str], cache_path: Path,
                workers: int = 2) -> dict[str, dict[str, Any]]:
    """{column: {run name: {"stop": step | None, "error": str | None}}}, cached."""
    cache: dict[str, dict[str, Any]] = json.loads(cache_path.read_text()) if cache_path.exists() else {}
    jobs = []
    with tempfile.TemporaryDirectory(prefix="ntk-bench-tune-") as tmp:
        for column in columns:
            file = policy_file(column, Path(tmp))
            for r in results:
                name = r["task"]["name"]
                if name in cache.get(column, {}) and not cache[column][name].get("error"):
                    continue
                feed = feed_of(column)
                if feed not in r["runs"]:
                    cache.setdefault(column, {})[name] = {"stop": None, "error": None, "no_feed": True}
                    continue
                rec = recording_for(record_dir, r["runs"][feed]["run_id"])
                if rec is None:
                    continue
                jobs.append((column, name, rec, file))

        def one(job: tuple[str, str, Path, Path]) -> tuple[str, str, dict[str, Any]]:
            column, name, rec, file = job
            out = replay_one(rec, file, f"col-{column}")
            decisions = [{"step": d["step"], "action": _bare(d["action"]), "reason": _bare(d["reason"])}
                         for d in out.get("decisions", [])]
            return column, name, {"stop": None if out.get("error") else first_stop(decisions), "error": out.get("error")}

        with ThreadPoolExecutor(workers) as pool:
            for i, (column, name, cell) in enumerate(pool.map(one, jobs), 1):
                cache.setdefault(column, {})[name] = cell
                if cell["error"]:
                    print(f"{column} {name}: {cell['error'][:200]}", flush=True)
                if i % 50 == 0:
                    print(f"  {i}/{len(jobs)} replays", flush=True)
                    cache_path.write_text(json.dumps(cache, indent=0, sort_keys=True))
    cache_path.write_text(json.dumps(cache, indent=0, sort_keys=True))
    return cache


def score(results: list[dict[str, Any]], stops: dict[str, int | None]) -> dict[str, Any]:
    outs = [outcome(r, stops.get(r["task"]["name"])) for r in results]
    light = [outcome(r, patience_stop(r, 3)) for r in results]
    oracle = [outcome(r, oracle_stop(r)) for r in results]
    n = len(outs)
    worst = max(range(n), key=lambda i: outs[i]["quality_lost"])
    better = sum(1 for a, b in zip(outs, light) if (a["saved"], -a["quality_lost"]) != (b["saved"], -b["quality_lost"])
                 and a["saved"] >= b["saved"] and a["quality_lost"] <= b["quality_lost"])
    worse = sum(1 for a, b in zip(outs, light) if (a["saved"], -a["quality_lost"]) != (b["saved"], -b["quality_lost"])
                and a["saved"] <= b["saved"] and a["quality_lost"] >= b["quality_lost"])
    fam: dict[str, list[dict[str, Any]]] = {}
    for r, o in zip(results, outs):
        fam.setdefault(r["task"]["group"], []).append(o)
    return {"n": n, "saved": sum(o["saved"] for o in outs) / n, "meets": sum(o["meets"] for o in outs),
            "lost_mean": sum(o["quality_lost"] for o in outs) / n, "lost_max": outs[worst]["quality_lost"],
            "worst_run": results[worst]["task"]["name"], "stopped": sum(o["stop_step"] is not None for o in outs),
            "oracle_saved": sum(o["saved"] for o in oracle) / n, "light_saved": sum(o["saved"] for o in light) / n,
            "light_meets": sum(o["meets"] for o in light), "light_lost": sum(o["quality_lost"] for o in light) / n,
            "better": better, "worse": worse,
            "family": {g: (sum(o["saved"] for o in os) / len(os), sum(o["meets"] for o in os), len(os))
                       for g, os in fam.items()},
            "misses": [f"{r['task']['name']} {100 * o['quality_lost']:.2f}%" for r, o in zip(results, outs)
                       if not o["meets"]]}


def pareto(s: dict[str, Any]) -> str:
    a = (s["saved"], s["meets"], -s["lost_mean"])
    b = (s["light_saved"], s["light_meets"], -s["light_lost"])
    if all(x >= y for x, y in zip(a, b)) and a != b:
        return "better"
    if all(y >= x for x, y in zip(a, b)) and a != b:
        return "worse"
    return "neither"


def table(results: list[dict[str, Any]], cache: dict[str, dict[str, Any]], columns: list[str], title: str) -> list[str]:
    md = [f"### {title}\n",
          "| column | minAccuracyGain | upperZ | horizonFraction | stopVotes | stopped | mean saved | of oracle | "
          "runs within 1 % | mean lost | worst lost (run) | vs Lightning p=3 (aggregate; runs better/worse) |",
          "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for c in columns:
        cells = cache.get(c, {})
        if any(v.get("error") for v in cells.values()):
            md.append(f"| `{c}` | replay failed: {next(v['error'] for v in cells.values() if v.get('error'))[:80]} |")
            continue
        s = score(results, {k: v["stop"] for k, v in cells.items()})
        parts = c.split("-")
        g, z, h, v = (parts[2][1:], parts[3][1:], parts[4][1:], parts[5][1:]) if len(parts) == 6 else ("", "", "", "")
        md.append(f"| `{c}` | {g} | {z} | {h} | {v} | {s['stopped']}/{s['n']} | {100 * s['saved']:.1f}% | "
                  f"{100 * s['saved'] / s['oracle_saved']:.0f}% | {s['meets']}/{s['n']} | {100 * s['lost_mean']:.2f}% | "
                  f"{100 * s['lost_max']:.2f}% ({s['worst_run']}) | {pareto(s)}; {s['better']}/{s['worse']} |")
    return md


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--results", type=Path, default=HERE / "results")
    p.add_argument("--columns", default=None, help="comma-separated grid columns (default: the whole grid)")
    p.add_argument("--workers", type=int, default=2)
    args = p.parse_args()
    args.results = args.results.resolve()   # absolute: the replays run from the exported checkout's directory
    results = load(args.results)
    grid_dir = args.results / "grid"
    grid_dir.mkdir(exist_ok=True)
    columns = args.columns.split(",") if args.columns else grid_columns()
    cache = replay_grid(results, args.results / "recordings", columns, grid_dir / "grid.json", args.workers)
    s0 = score(results, {})
    md = [f"Every cell replays the run's recording through `ntk-sidecar replay` under the column's policy; {len(results)} "
          f"runs; oracle {100 * s0['oracle_saved']:.1f}% saved; Lightning p=3 {100 * s0['light_saved']:.1f}% saved, "
          f"{s0['light_meets']}/{s0['n']} within 1 %, mean lost {100 * s0['light_lost']:.2f}%. A held-out column "
          f"counts a run without a held-out feed (teacher-student) as never stopping.\n"]
    for prefix, title in (("g5-", "Validation-free (kernel feed: evaluation probe of training samples / kernel LOO)"),
                          ("held-", "Held-out probe (512 validation samples)")):
        cols = [c for c in columns if c.startswith(prefix)]
        if cols:
            md += table(results, cache, cols, title) + [""]
    (grid_dir / "TUNING.md").write_text("\n".join(md) + "\n")
    print("\n".join(md))


if __name__ == "__main__":
    main()
