"""Policy columns replayed offline on the sidecar's recordings (issue 11 item 6, harness side).

The sidecar records what each run sent (`serve --record-dir DIR`: DIR/<encoded run id>.ntkrec.jsonl.gz); after the
matrix, every kernel-fed recording is replayed under each policy column with

    ntk-sidecar replay RECORDING --policy FILE --json
    → {"format": 1, "runId", "policy", "decisions": [{"snapshotId", "step", "action", "reason", "detail",
       "evidence", "enforced"}], "stopStep": number | null}

and the outcome stored in the run's result JSON under "replay": {column: {"policy", "stopStep", "decisions"}}.
A column is a policy file holding one policy of the column's name (never enforced), applied with --policy-name. The list is a parameter (run_matrix.py --policies); columns
whose policy the checkout does not define fail replay and are reported as missing, not as "never stops".
"""

from __future__ import annotations

import json
import re
import subprocess
import tempfile
import urllib.parse
from pathlib import Path
from typing import Any, Callable

from sidecar_proc import REPO, cli_command, supports

# column name → the policy body it evaluates (merged over the sidecar's defaults; never enforced). "default" is the old
# rule (A14 on the training loss, `rule: loss`, the default before issue 11); "generalization" the new one (G5 on the
# estimate the sidecar picks, `estimate: auto`); "gen-*" each estimate alone (ablation); "label-wave" the published
# rule of Yuan et al. (G4).
POLICY_DEFS: dict[str, dict[str, Any]] = {
    "default": {"rule": "loss"},
    "generalization": {"rule": "generalization", "generalization": {"estimate": "auto"}},
    "gen-eval": {"rule": "generalization", "generalization": {"estimate": "eval_accuracy"}},
    "gen-loo": {"rule": "generalization", "generalization": {"estimate": "loo_accuracy"}},
    "gen-loo-error": {"rule": "generalization", "generalization": {"estimate": "neg_loo_error"}},
    "label-wave": {"rule": "label_wave"},
}
POLICY_COLUMNS = tuple(POLICY_DEFS)

# Grid columns (tune.py): G5 with explicit settings, named
#   g5-<estimate>-a<minAccuracyGain>-z<upperZ>-h<horizonFraction>-v<stopVotes>     replayed on the kernel feed
#   held-<estimate>-a<…>-z<…>-h<…>-v<…>                                            replayed on the held-out feed
# <estimate>: auto | eval (eval_accuracy) | loo (loo_accuracy) | looerr (neg_loo_error). z0 stands for upperZ 1e-6
# (the policy requires upperZ > 0; 1e-6 is the point estimate of the gain). Any column whose name starts with
# "held-" is replayed on the run's held-out-probe recording (512 validation samples) instead of the kernel feed.
ESTIMATES = {"auto": "auto", "eval": "eval_accuracy", "loo": "loo_accuracy", "looerr": "neg_loo_error"}
GRID = re.compile(r"^(g5|held)-(auto|eval|loo|looerr)-a([0-9.]+)-z([0-9.]+)-h([0-9.]+)-v([0-9]+)$")


def grid_name(estimate: str, gain: float, z: float, horizon: float, votes: int, held: bool = False) -> str:
    return f"{'held' if held else 'g5'}-{estimate}-a{gain:g}-z{z:g}-h{horizon:g}-v{votes}"


def grid_body(column: str) -> dict[str, Any] | None:
    m = GRID.match(column)
    if m is None:
        return None
    _, est, gain, z, horizon, votes = m.groups()
    # The column's δ_G and H hold on either feed: the sidecar's own held-out-probe values are overridden too.
    return {"rule": "generalization",
            "generalization": {"estimate": ESTIMATES[est], "minAccuracyGain": float(gain),
                               "heldOutMinAccuracyGain": float(gain), "upperZ": max(float(z), 1e-6),
                               "horizonFraction": float(horizon), "heldOutHorizonFraction": float(horizon)},
            "stopping": {"stopVotes": int(votes)}}


def feed_of(column: str) -> str:
    """The recording a column replays: "heldout" (the 512-sample held-out probe feed) or "kernel"."""
    return "heldout" if column.startswith("held") else "kernel"


def policy_body(column: str) -> dict[str, Any]:
    """The body of a column's policy, never enforced; an unknown column name is taken as `extends: <name>`."""
    grid = grid_body(column)
    body = dict(grid if grid is not None else POLICY_DEFS.get(column, {"extends": column}))
    body["enforced"] = False
    return body


def policy_file(column: str, folder: Path) -> Path:
    path = folder / f"{column}.json"
    path.write_text(json.dumps({"policies": {f"col-{column}": policy_body(column)}}))   # "default" is reserved
    return path


def recording_for(record_dir: Path, run_id: str) -> Path | None:
    if not record_dir.is_dir():
        return None
    for f in record_dir.glob("*.ntkrec.jsonl.gz"):
        name = f.name[: -len(".ntkrec.jsonl.gz")]
        if name == run_id or urllib.parse.unquote(name) == run_id:
            return f
    return None


def _bare(name: str) -> str:
    """Enum names as the live client reports them: "ACTION_STOP" → "STOP", "REASON_BUDGET" → "BUDGET"."""
    for prefix in ("ACTION_", "REASON_"):
        if name.startswith(prefix):
            return name[len(prefix):]
    return name


def replay_one(recording: Path, policy: Path, name: str, timeout: float = 300) -> dict[str, Any]:
    proc = subprocess.run(cli_command() + ["replay", str(recording), "--policy", str(policy), "--policy-name", name,
                                           "--json"], cwd=REPO,
                          capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        return {"error": (proc.stderr or proc.stdout).strip()[-400:]}
    out = json.loads(proc.stdout)
    if out.get("format") != 1:
        return {"error": f"unknown replay format {out.get('format')!r}"}
    return out


def replay_all(results_dir: Path, record_dir: Path, columns: list[str], log: Callable[[str], None] = print) -> int:
    """Replays every result's kernel recording under every column; returns the number of recordings replayed."""
    if not supports("replay") or not record_dir.is_dir():
        log("replay: this checkout's sidecar has no recordings or no `replay` command; policy columns skipped")
        return 0
    done = 0
    with tempfile.TemporaryDirectory(prefix="ntk-bench-replay-") as tmp:
        files = {c: policy_file(c, Path(tmp)) for c in columns}
        for path in sorted(results_dir.glob("*.json")):
            result = json.loads(path.read_text())
            recs = {feed: recording_for(record_dir, result["runs"][feed]["run_id"])
                    for feed in ("kernel", "heldout") if feed in result["runs"]}
            if recs.get("kernel") is None:
                continue
            result["replay"] = {}
            for column, file in files.items():
                rec = recs.get(feed_of(column))
                if rec is None:   # no held-out feed on this run (teacher-student): scored as never stopping
                    continue
                out = replay_one(rec, file, f"col-{column}")
                result["replay"][column] = {
                    "policy": out.get("policy"), "stopStep": out.get("stopStep"), "error": out.get("error"),
                    "stopReason": _bare(out.get("stopReason") or ""),
                    "decisions": [{"step": d["step"], "action": _bare(d["action"]), "reason": _bare(d["reason"]),
                                   "evidence": d.get("evidence", {}), "detail": d.get("detail", "")}
                                  for d in out.get("decisions", [])]}
                if out.get("error"):
                    log(f"replay {result['task']['name']} under {column}: {out['error'][:200]}")
            path.write_text(json.dumps(result, separators=(",", ":")))
            done += 1
    return done
