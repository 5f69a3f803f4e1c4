"""Test helpers: import path, loud skips for missing frameworks, and a real sidecar (the CLI as a process).

Server-backed tests use $NTK_SIDECAR_TEST_TARGET (set by the vitest wrappers in test/python-client/, which start
the real server with startTestServer); without it they start `ntk-sidecar serve` themselves with node + tsx.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
from pathlib import Path
from typing import Any

CLIENT_ROOT = Path(__file__).resolve().parents[1]          # clients/python
REPO = CLIENT_ROOT.parents[1]
sys.path.insert(0, str(CLIENT_ROOT / "src"))


def require(module: str, extra: str) -> Any:
    """Import `module` or skip LOUDLY: the reason is printed to stderr as well as recorded by unittest."""
    try:
        return importlib.import_module(module)
    except ImportError as err:
        reason = f"{module} is not installed ({err}); install the '{extra}' extra to run this test"
        print(f"\n*** SKIPPED (framework missing): {reason}", file=sys.stderr, flush=True)
        raise unittest.SkipTest(reason) from None


# The policies the server-backed tests select (test/python-client/*.test.ts passes the same document to
# startTestServer): "shadow" computes decisions with enforced = false.
TEST_POLICIES = {"policies": {"shadow": {"enforced": False}}}


def policy_path(directory: str) -> Path:
    return Path(directory) / "policy.json"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class SidecarProcess:
    """`ntk-sidecar serve` as a child process on a fixed port, so a test can kill it and start it again on the
    same address."""

    def __init__(self, port: int | None = None, extra_args: list[str] | None = None,
                 policy: dict[str, Any] | None = None) -> None:
        self.port = port or free_port()
        self.dir = tempfile.mkdtemp(prefix="ntk-sidecar-test-")
        # TEST_POLICIES plus `policy`: its named policies are added, its other top-level keys (e.g. "cohort") set.
        document = json.loads(json.dumps(TEST_POLICIES))
        for key, value in (policy or {}).items():
            if key == "policies":
                document["policies"].update(value)
            else:
                document[key] = value
        policy_path(self.dir).write_text(json.dumps(document))
        self.target = f"127.0.0.1:{self.port}"
        self.extra_args = extra_args or []
        self.proc: subprocess.Popen[str] | None = None
        self.stderr_lines: list[str] = []
        self._ready = threading.Event()

    def start(self, wait: bool = True, timeout: float = 60.0) -> "SidecarProcess":
        self._ready.clear()
        cmd = ["node", "--import", "tsx", "src/cli/main.ts", "serve", "--grpc-addr", self.target,
               "--metrics-addr", "127.0.0.1:0", "--backend", "reference", "--policy", str(policy_path(self.dir)),
               "--data-dir", str(Path(self.dir) / "data"), *self.extra_args]
        env = {**os.environ, "NTK_SIDECAR_COMPUTE_WORKERS": "1"}
        self.proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, text=True)
        self._reader = threading.Thread(target=self._read, args=(self.proc,), daemon=True)
        self._reader.start()
        if wait:
            self.wait_ready(timeout)
        return self

    def _read(self, proc: subprocess.Popen[str]) -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            self.stderr_lines.append(line.rstrip())
            if re.search(r"serving gRPC on ", line):
                self._ready.set()

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while not self._ready.wait(0.2):
            if self.proc is not None and self.proc.poll() is not None:
                self._reap()
                raise RuntimeError(f"sidecar exited with {self.proc.returncode} before serving:\n" +
                                   "\n".join(self.stderr_lines[-20:]))
            if time.monotonic() > deadline:
                raise RuntimeError(f"sidecar did not start within {timeout} s:\n" + "\n".join(self.stderr_lines[-20:]))

    @property
    def ready(self) -> bool:
        return self._ready.is_set()

    def kill(self) -> None:
        """SIGKILL: no graceful shutdown, the way a crashed sidecar disappears."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)
        self._reap()

    def _reap(self) -> None:
        """After exit: the reader thread reaches EOF, then the pipe is closed."""
        if self.proc is not None and self.proc.poll() is not None:
            self._reader.join(5)
            if self.proc.stderr is not None:
                self.proc.stderr.close()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self._reap()
        shutil.rmtree(self.dir, ignore_errors=True)


_shared: SidecarProcess | None = None


def sidecar_target() -> str:
    """The sidecar the server-backed tests talk to (started once per process when not given)."""
    global _shared
    target = os.environ.get("NTK_SIDECAR_TEST_TARGET")
    if target:
        return target
    if _shared is None:
        _shared = SidecarProcess().start()
        import atexit
        atexit.register(_shared.stop)
    return _shared.target


class LogCapture(logging.Handler):
    """Collects the ntk_sidecar logger's records."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def messages(self, level: int = logging.WARNING) -> list[str]:
        return [r.getMessage() for r in self.records if r.levelno >= level]

    def __enter__(self) -> "LogCapture":
        logger = logging.getLogger("ntk_sidecar")
        logger.addHandler(self)
        logger.setLevel(logging.DEBUG)
        logger.propagate = False
        return self

    def __exit__(self, *exc: Any) -> None:
        logging.getLogger("ntk_sidecar").removeHandler(self)


def wait_until(predicate: Any, timeout: float, interval: float = 0.02) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return bool(predicate())
