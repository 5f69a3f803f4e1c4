"""Stopping methods evaluated on one recorded run (harness.py output): where each would stop and what it would
have got. Every run trained to its full budget, so the outcome of stopping at step s is read off the recorded
curve (the harness evaluated at every snapshot step, every epoch and at 25/50/75 % of the budget).

Methods:
  sidecar          the first STOP of the kernel-fed shadow run (Gram snapshots + logits + evaluation probe), live,
                   default policy
  logits-only      the first STOP of the logits-only shadow run on the same training (live)
  replay:<column>  the first STOP of the kernel run's recording replayed under a policy column (replay.py)
  heldout          the first STOP of a live logits-only feed whose evaluation probe is 512 held-out validation
                   samples (eval_held_out), under the live policy: the held-out mode of issue 11 item 5
  keras-p0         Keras EarlyStopping defaults: monitor val_loss, patience 0, min_delta 0 (stops at the first
                   validation check that does not improve on the best, from the second check on)
  lightning-p3     Lightning EarlyStopping defaults: val_loss, patience 3, min_delta 0 (three non-improving checks)
  patience-tuned   the patience (in checks) chosen in hindsight on this matrix (report.py: tune_patience)
  budget-25/50/75  a fixed fraction of the budget
  oracle           the first evaluation step after which the test accuracy, smoothed over ORACLE_WINDOW evaluations
                   (trailing mean), stays ≥ 99 % of the end-of-budget accuracy (regression: smoothed test loss ≤ 1.01 ×
                   the final); uses the test split, so no trainer can do it: the most a stop within the 1 % allowance
                   can save
A method that never stops uses the whole budget.
"""

from __future__ import annotations

from typing import Any

PATIENCE_GRID = (1, 2, 3, 5, 10, 20, 50)
BASE_METHODS = ("sidecar", "logits-only", "keras-p0", "lightning-p3", "patience-tuned", "budget-25", "budget-50",
                "budget-75", "oracle")
ORACLE_WINDOW = 3


def methods(results: list[dict[str, Any]]) -> list[str]:
    """The columns of this matrix: the live feeds, every replayed policy column that some run has, the baselines."""
    cols: list[str] = []
    for r in results:
        for c in r.get("replay", {}):
            if f"replay:{c}" not in cols:
                cols.append(f"replay:{c}")
    held = ["heldout"] if any("heldout" in r["runs"] for r in results) else []
    return ["sidecar", "logits-only"] + cols + held + [m for m in BASE_METHODS if m not in ("sidecar", "logits-only")]


def grid_rows(result: dict[str, Any]) -> list[dict[str, Any]]:
    """Evaluation rows on the coarse grid (validation checks ∪ snapshot steps ∪ the end), without the dense early grid."""
    keep = set(check_steps(result)) | set(range(0, result["last_step"] + 1, result["snapshot_every"]))
    keep.add(result["last_step"])
    return [row for row in result["curve"] if row["step"] in keep]


def oracle_stop(result: dict[str, Any], window: int = ORACLE_WINDOW, allowance: float = 0.01) -> int | None:
    rows = grid_rows(result)
    regression = "test_acc" not in rows[-1]
    key = "test_loss" if regression else "test_acc"
    vals = [row[key] for row in rows]
    smooth = [sum(vals[max(0, i - window + 1):i + 1]) / len(vals[max(0, i - window + 1):i + 1]) for i in range(len(vals))]
    final = vals[-1]
    ok = [(v <= (1 + allowance) * final) if regression else (v >= (1 - allowance) * final) for v in smooth]
    first = None
    for i in range(len(ok) - 1, -1, -1):
        if not ok[i]:
            break
        first = i
    if first is None or rows[first]["step"] == result["last_step"]:
        return None
    return int(rows[first]["step"])


def first_stop(decisions: list[dict[str, Any]]) -> int | None:
    """The first STOP that is not the budget's own (runs declare max_steps; a BUDGET STOP at the end saves nothing)."""
    for d in decisions:
        if d["action"] == "STOP" and d["reason"] != "BUDGET":
            return int(d["step"])
    return None


def check_steps(result: dict[str, Any]) -> list[int]:
    """Validation checks: the end of every epoch (every `eval_every` steps; full-batch runs: every 1 % of the
    budget), as Keras and Lightning check once per epoch by default."""
    every = result["eval_every"]
    last = result["last_step"]
    return list(range(every, last + 1, every))


def patience_stop(result: dict[str, Any], patience: int, keras: bool = False) -> int | None:
    """Step at which patience early stopping on val_loss (min_delta 0) stops, or None (never)."""
    by_step = {row["step"]: row for row in result["curve"]}
    best = float("inf")
    wait = 0
    for i, step in enumerate(check_steps(result)):
        val = by_step[step]["val_loss"]
        if val < best:
            best, wait = val, 0
            continue
        wait += 1
        # Keras: `wait >= patience and epoch > 0` (so patience 0 stops at the first non-improving check);
        # Lightning: `wait >= patience`.
        if wait >= max(patience, 1 if keras else patience) and (i > 0 or not keras):
            return step
    return None


def stop_steps(result: dict[str, Any], tuned_patience: int) -> dict[str, int | None]:
    last = result["last_step"]
    budget = result["task"]["steps"]
    out: dict[str, int | None] = {
        "sidecar": first_stop(result["runs"]["kernel"]["decisions"]),
        "logits-only": first_stop(result["runs"]["logits"]["decisions"]),
        "keras-p0": patience_stop(result, 0, keras=True),
        "lightning-p3": patience_stop(result, 3),
        "patience-tuned": patience_stop(result, tuned_patience),
    }
    for f in (25, 50, 75):
        s = budget * f // 100
        out[f"budget-{f}"] = s if s <= last else None
    out["oracle"] = oracle_stop(result)
    if "heldout" in result["runs"]:
        out["heldout"] = first_stop(result["runs"]["heldout"]["decisions"])
    for column, rep in result.get("replay", {}).items():
        # The first non-BUDGET STOP of the replayed timeline (replay's stopStep counts the budget's own STOP too).
        out[f"replay:{column}"] = None if rep.get("error") else first_stop(rep["decisions"])
    return out


def outcome(result: dict[str, Any], step: int | None) -> dict[str, Any]:
    """Metrics at the stop (None = the end of the budget), compute fractions and quality relative to the end."""
    curve = result["curve"]
    by_step = {row["step"]: row for row in curve}
    last = result["last_step"]
    budget = result["task"]["steps"]
    s = last if step is None else step
    if s not in by_step:   # a replayed STOP between evaluations: the last evaluation before it
        s = max(k for k in by_step if k <= s)
    at, end = by_step[s], by_step[last]
    regression = "test_acc" not in end
    out: dict[str, Any] = {
        "stop_step": step, "used": (step if step is not None else last) / budget,
        "saved": 1 - (step if step is not None else last) / budget,
        "saved_time": 1 - at["train_seconds"] / end["train_seconds"] if end["train_seconds"] > 0 else 0.0,
        "test_loss": at["test_loss"], "test_loss_end": end["test_loss"],
        "test_loss_best": min(r["test_loss"] for r in curve),
        "loss_excess": at["test_loss"] / end["test_loss"] - 1,
    }
    if regression:
        out["quality_lost"] = out["loss_excess"]
        out["meets"] = out["loss_excess"] <= 0.01
    else:
        out.update(test_acc=at["test_acc"], test_acc_end=end["test_acc"],
                   test_acc_best=max(r["test_acc"] for r in curve), retention=at["test_acc"] / end["test_acc"])
        out["quality_lost"] = 1 - out["retention"]
        out["meets"] = out["retention"] >= 0.99
    return out


def evaluate_run(result: dict[str, Any], tuned_patience: int) -> dict[str, dict[str, Any]]:
    return {m: outcome(result, s) for m, s in stop_steps(result, tuned_patience).items()}


def tune_patience(results: list[dict[str, Any]]) -> tuple[int, list[dict[str, Any]]]:
    """In hindsight, on this matrix: the patience that meets the quality target on the most runs, ties broken by
    the larger mean compute saved. Generous to the baseline: it is tuned on the test outcomes themselves."""
    rows = []
    for p in PATIENCE_GRID:
        outs = [outcome(r, patience_stop(r, p)) for r in results]
        rows.append({"patience": p, "meets": sum(o["meets"] for o in outs),
                     "saved": sum(o["saved"] for o in outs) / max(1, len(outs))})
    best = max(rows, key=lambda r: (r["meets"], r["saved"]))
    return int(best["patience"]), rows
