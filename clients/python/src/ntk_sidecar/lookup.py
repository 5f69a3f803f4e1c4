"""DecisionLookup: "what does the sidecar say about run X now?" for code that does not own the run's client
(tuner integrations: ntk_sidecar.optuna.NtkPruner, ntk_sidecar.ray.NtkStopper).

One unary CheckStop (GetRun for the whole report) per question, with a short deadline, and **fail-open**: when
the sidecar cannot answer (down, slow, unknown run, no decision yet) the answer is None, which every caller
reads as "don't stop". After a transport failure (UNAVAILABLE, DEADLINE_EXCEEDED, ...) the lookup does not ask
again for `retry_after_s` seconds, so a tuner that asks every step pays at most one deadline per interval, not
one per step; a failure is logged once per outage. A STOP latches in the sidecar, so an enforced STOP is cached
per run and answered without a call.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from typing import Any, Callable

import grpc

from ._proto import NtkSidecarStub, pb
from .decision import Decision

LOG = logging.getLogger("ntk_sidecar")
DEFAULT_TARGET = "127.0.0.1:50051"

# Answers that say "the sidecar is there but knows nothing yet": no back-off.
_NO_ANSWER_YET = {grpc.StatusCode.NOT_FOUND, grpc.StatusCode.INVALID_ARGUMENT}


class DecisionLookup:
    """`target` defaults to $NTK_SIDECAR_TARGET, then 127.0.0.1:50051. Thread-safe; picklable (the channel is
    re-opened lazily in the new process)."""

    def __init__(self, target: str | None = None, *, timeout_s: float = 0.5, retry_after_s: float = 5.0,
                 channel_options: list[tuple[str, Any]] | None = None, logger: logging.Logger | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if timeout_s <= 0 or retry_after_s < 0:
            raise ValueError(f"timeout_s = {timeout_s}, retry_after_s = {retry_after_s}; need timeout_s > 0 and "
                             "retry_after_s >= 0")
        self.target = target or os.environ.get("NTK_SIDECAR_TARGET") or DEFAULT_TARGET
        self.timeout_s = timeout_s
        self.retry_after_s = retry_after_s
        self.channel_options = list(channel_options or [])
        self.log = logger or LOG
        self.clock = clock
        self.calls = 0            # RPCs made
        self.failures = 0         # RPCs that failed in transport (not "unknown run")
        self._lock = threading.Lock()
        self._channel: Any = None
        self._stub: Any = None
        self._quiet_until = -float("inf")
        self._down = False
        self._stops: dict[str, Decision] = {}

    # -----------------------------------------------------------------------------------------
    def decision(self, run_id: str) -> Decision | None:
        """The run's latest decision (CheckStop), or None when the sidecar cannot say (fail open)."""
        cached = self._stops.get(run_id)
        if cached is not None:
            return cached
        msg = self._call("CheckStop", pb.CheckStopRequest(run_id=run_id))
        if msg is None:
            return None
        d = Decision.from_proto(msg)
        if d.stop and d.enforced:
            self._stops[run_id] = d
        return d

    def report(self, run_id: str) -> Any | None:
        """The run's RunReport (GetRun; protobuf message), or None when the sidecar cannot say."""
        return self._call("GetRun", pb.GetRunRequest(run_id=run_id))

    def forget(self, run_id: str) -> None:
        self._stops.pop(run_id, None)

    def close(self) -> None:
        with self._lock:
            if self._channel is not None:
                self._channel.close()
            self._channel = self._stub = None

    # -----------------------------------------------------------------------------------------
    def _call(self, method: str, request: Any) -> Any | None:
        now = self.clock()
        if now < self._quiet_until:
            return None
        stub = self._ensure_stub()
        self.calls += 1
        try:
            reply = getattr(stub, method)(request, timeout=self.timeout_s)
        except grpc.RpcError as err:
            code = _code(err)
            if code in _NO_ANSWER_YET:
                self._recovered()
                self.log.debug("ntk-sidecar: %s(%s): %s", method, _run_of(request), _describe(err))
                return None
            self.failures += 1
            self._quiet_until = self.clock() + self.retry_after_s
            if not self._down:
                self._down = True
                self.log.warning("ntk-sidecar: no answer from the sidecar at %s (%s); not stopping anything, asking "
                                 "again in %.0f s (logged once per outage)", self.target, _describe(err),
                                 self.retry_after_s)
            return None
        self._recovered()
        return reply

    def _recovered(self) -> None:
        if self._down:
            self._down = False
            self.log.warning("ntk-sidecar: the sidecar at %s answers again", self.target)

    def _ensure_stub(self) -> Any:
        with self._lock:
            if self._stub is None:
                options = [("grpc.initial_reconnect_backoff_ms", 200), ("grpc.min_reconnect_backoff_ms", 200),
                           ("grpc.max_reconnect_backoff_ms", 5000), ("grpc.enable_retries", 0),
                           *self.channel_options]
                self._channel = grpc.insecure_channel(self.target, options=options)
                self._stub = NtkSidecarStub(self._channel)
            return self._stub

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.update(_lock=None, _channel=None, _stub=None, log=None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()
        self.log = LOG


def _code(err: grpc.RpcError) -> Any:
    try:
        return err.code()
    except Exception:
        return None


def _describe(err: grpc.RpcError) -> str:
    try:
        return f"{err.code().name}: {err.details()}"
    except Exception:
        return str(err)


def _run_of(request: Any) -> str:
    return getattr(request, "run_id", "")


__all__ = ["DecisionLookup", "DEFAULT_TARGET"]
