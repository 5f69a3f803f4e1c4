"""The sidecar under test as a child process: `ntk-sidecar serve` from this checkout (node + tsx), on ports it
picks itself, with a policy file that defines the `shadow` policy the benchmark runs select."""

from __future__ import annotations

import json
import os
import re
import subprocess
import tempfile
import threading
import urllib.request
from pathlib import Path

from checkout import ROOT as REPO  # noqa: E402  (the exported commit under test, not the shared working tree)
# `shadow`: the default policy, decisions computed and exported but never enforced. Other policies are evaluated
# offline by replaying the recordings (replay.py), not by extra live feeds.
POLICIES = {"policies": {"shadow": {"enforced": False}}}


def live_policies() -> dict[str, object]:
    """`shadow` (the old rule) and `shadow-<column>` for every replay column, so a live feed can select any."""
    from replay import POLICY_DEFS, policy_body
    return {"policies": {"shadow": {"enforced": False},
                         **{f"shadow-{c}": policy_body(c) for c in POLICY_DEFS if c != "default"}}}
CLI = REPO / "src" / "cli" / "main.ts"


def supports(option: str) -> bool:
    """Whether this checkout's CLI knows `option` (e.g. "--record-dir", "replay"): a look at its source."""
    try:
        return option in CLI.read_text() or any(option in f.read_text() for f in (REPO / "src" / "cli").glob("*.ts"))
    except OSError:
        return False


def cli_command() -> list[str]:
    return ["node", "--import", "tsx", str(CLI)]
READY = re.compile(r"serving gRPC on (\S+), metrics on (http://\S+)/metrics")


class Sidecar:
    def __init__(self, backend: str = "reference", workers: int = 1, record_dir: Path | None = None) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="ntk-bench-stopping-"))
        (self.dir / "policy.json").write_text(json.dumps(live_policies()))
        self.backend = backend
        self.workers = workers
        # Recording (the lead's `serve --record-dir DIR`): every run's messages under DIR, replayed afterwards.
        self.recording: Path | None = record_dir if record_dir is not None and supports("record-dir") else None
        self.target = ""
        self.metrics_url = ""
        self.lines: list[str] = []
        # Every warning line (e.g. "snapshot … accepted without its training-dynamics diagnostics: …"), kept whole:
        # the harness attributes them to runs, the report counts them.
        self.warnings: list[str] = []
        self._ready = threading.Event()
        self.proc: subprocess.Popen[str] | None = None

    def start(self, timeout: float = 120.0) -> "Sidecar":
        cmd = ["node", "--import", "tsx", "src/cli/main.ts", "serve", "--grpc-addr", "127.0.0.1:0",
               "--metrics-addr", "127.0.0.1:0", "--policy", str(self.dir / "policy.json"),
               "--data-dir", str(self.dir / "data"), "--backend", self.backend]
        if self.recording is not None:
            self.recording.mkdir(parents=True, exist_ok=True)
            cmd += ["--record-dir", str(self.recording)]
        env = {**os.environ, "NTK_SIDECAR_COMPUTE_WORKERS": str(self.workers)}
        self.proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, text=True)
        threading.Thread(target=self._read, daemon=True).start()
        if not self._ready.wait(timeout):
            self.stop()
            raise RuntimeError("sidecar did not start:\n" + "\n".join(self.lines[-20:]))
        return self

    def _read(self) -> None:
        assert self.proc is not None and self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.append(line.rstrip())
            del self.lines[:-500]  # keep the tail for error messages
            if "warn" in line.lower():
                self.warnings.append(line.rstrip())
            m = READY.search(line)
            if m:
                self.target, self.metrics_url = m.group(1), m.group(2)
                self._ready.set()

    def metrics(self) -> str:
        with urllib.request.urlopen(f"{self.metrics_url}/metrics", timeout=10) as r:
            return r.read().decode()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


def metric_value(text: str, name: str, run_id: str) -> float | None:
    """The value of `name{...run_id="<run_id>"...}` in Prometheus text, or None."""
    for line in text.splitlines():
        if line.startswith(name + "{") and f'run_id="{run_id}"' in line:
            return float(line.rsplit(" ", 1)[1])
    return None
