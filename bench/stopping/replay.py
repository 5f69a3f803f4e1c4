"""Policy columns replayed offline on the sidecar's recordings (issue 11 item 6, harness side).

The sidecar records what each run sent (`serve --record-dir DIR`: DIR/<encoded run id>.ntkrec.jsonl.gz); after the
matrix, every kernel-fed recording is replayed under each policy column with

    ntk-sidecar replay RECORDING --policy FILE --json
    → {"format": 1, "runId", "policy", "decisions": [{"snapshotId", "step", "action", "reason", "detail",
       "evidence", "enforced"}], "stopStep": number | null}

and the outcome stored in the run's result JSON under "replay": {column: {"policy", "stopStep", "decisions"}}.
A column is a policy file: the recorded runs selected the policy `shadow`, so each column's file redefines
`shadow` (never enforced) over the policy it evaluates. The list is a parameter (run_matrix.py --policies); columns
whose policy the checkout does not define fail replay and are reported as missing, not as "never stops".
"""

from __future__ import annotations

import json
import subprocess
import tempfile
import urllib.parse
from pathlib import Path
from typing import Any, Callable

from sidecar_proc import REPO, cli_command, supports

# column name → the `shadow` policy it replays (merged over the defaults with `extends`). "default" is the live run's
# policy itself: its replay must reproduce the live decisions (the report checks it).
POLICY_DEFS: dict[str, dict[str, Any]] = {
    "default": {},
}
POLICY_COLUMNS = tuple(POLICY_DEFS)


def policy_file(column: str, folder: Path) -> Path:
    """The policy file for one column: `{"policies": {"shadow": {"extends": <column>, "enforced": false}}}` for a
    named policy of the sidecar, or the overrides in POLICY_DEFS."""
    body = dict(POLICY_DEFS.get(column, {"extends": column}))
    body["enforced"] = False
    path = folder / f"{column}.json"
    path.write_text(json.dumps({"policies": {"shadow": body}}))
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


def replay_one(recording: Path, policy: Path, timeout: float = 300) -> dict[str, Any]:
    proc = subprocess.run(cli_command() + ["replay", str(recording), "--policy", str(policy), "--json"], cwd=REPO,
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
            rec = recording_for(record_dir, result["runs"]["kernel"]["run_id"])
            if rec is None:
                continue
            result["replay"] = {}
            for column, file in files.items():
                out = replay_one(rec, file)
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
