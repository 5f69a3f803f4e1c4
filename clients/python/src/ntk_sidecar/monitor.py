"""SidecarMonitor: the framework-free step logic every callback shares, and the plain-loop helper.

Per training step (`on_step`): queue Scalars every `scalars_every` steps but at most once per
`scalars_interval_s` seconds (a non-finite loss goes at once: it means divergence), take a snapshot every
`snapshot_every` steps (and at the first step, so the run has its initial kernel), then answer "stop now?"
from the latest decision. In shadow mode (the monitor's `shadow=True`, or a decision with enforced=false from a
shadow policy) a STOP is logged once with its step and reason and training goes on. With `sync` (e.g.
`DistributedStop(...).sync`), the local answer is replaced by rank 0's, so every rank stops on the same step.

    with SidecarMonitor(client, snapshot_fn=ntk.snapshot) as monitor:
        for step, batch in enumerate(loader, 1):
            loss = train_step(batch)
            if monitor.on_step(step, loss=loss.item()):
                break
"""

from __future__ import annotations

import logging
import math
import time
from typing import Any, Callable, Protocol

from .decision import Decision
from .snapshot import Snapshot

LOG = logging.getLogger("ntk_sidecar")


class _Client(Protocol):
    def submit(self, snapshot: Snapshot) -> None: ...
    def send_scalars(self, step: int, train_loss: float, learning_rate: float = ..., samples_seen: int = ...,
                     compute_spent: float = ..., evals: dict[str, float] | None = ...) -> None: ...
    @property
    def decision(self) -> Decision | None: ...
    def close(self, status: Any = ..., timeout: float = ...) -> None: ...


SnapshotFn = Callable[..., Snapshot]


class SidecarMonitor:
    """`client`: a SidecarClient (or None on ranks that do not talk to the sidecar). `snapshot_fn(step,
    train_loss, learning_rate=..., samples_seen=..., compute_spent=...)` builds a Snapshot, e.g.
    `TorchNtk.snapshot`; None sends scalars only."""

    def __init__(
        self,
        client: _Client | None,
        snapshot_fn: SnapshotFn | None = None,
        *,
        snapshot_every: int = 200,
        scalars_every: int = 10,
        scalars_interval_s: float = 1.0,
        shadow: bool = False,
        sync: Callable[[bool], bool] | None = None,
        logger: logging.Logger | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if snapshot_every < 1 or scalars_every < 1:
            raise ValueError(f"snapshot_every = {snapshot_every}, scalars_every = {scalars_every}; both must be >= 1")
        self.client = client
        self.snapshot_fn = snapshot_fn
        self.snapshot_every = snapshot_every
        self.scalars_every = scalars_every
        # Each Scalars message costs the sender ~0.5 ms of CPU in grpcio: a fast loop (1 ms steps) sending every
        # 10 steps would spend ~5 % of a core on them, so the rate is capped in time as well.
        self.scalars_interval_s = scalars_interval_s
        self.clock = clock
        self._last_scalars_at: float | None = None
        self.shadow = shadow
        self.sync = sync
        self.log = logger or LOG
        self.last_snapshot_step: int | None = None
        self._next_snapshot_step = -math.inf         # the first on_step takes one (the run's initial kernel)
        self.stop_step: int | None = None          # step at which on_step returned True
        self.stop_decision: Decision | None = None
        self.would_stop_step: int | None = None    # shadow mode: step at which a STOP was first seen
        self.snapshot_seconds = 0.0                # wall time spent building snapshots (Jacobian, sketch, Gram)
        self.snapshot_cpu_seconds = 0.0            # the same, CPU time of the training thread
        self.snapshots_taken = 0
        # Exceptions that end the run as STOPPED, not FAILED, when they leave the `with` block (e.g.
        # optuna.TrialPruned: ntk_sidecar.optuna.attach_trial sets it).
        self.stopped_exceptions: tuple[type[BaseException], ...] = ()
        self._closed = False

    def on_step(self, step: int, loss: float | None = None, *, learning_rate: float = 0.0, samples_seen: int = 0,
                compute_spent: float = 0.0, evals: dict[str, float] | None = None) -> bool:
        """Call once per optimizer step, after it; True means "stop training now".

        Written for the common case (no snapshot, no scalars, no STOP): a few comparisons, no function calls.
        It runs right after the framework's step, with the interpreter's caches cold, where every call costs."""
        client = self.client
        if client is not None and not self._closed:
            if loss is not None:
                if type(loss) is not float:
                    loss = as_float(loss)
                # A non-finite loss (x != x is NaN) goes at once: divergence is news.
                if loss is not None and (step % self.scalars_every == 0 or loss != loss or abs(loss) == math.inf):
                    if self._scalars_due(loss):
                        client.send_scalars(step, loss, learning_rate, samples_seen, compute_spent, evals)
            if step >= self._next_snapshot_step and self.snapshot_fn is not None:
                self._snapshot(client, step, loss, learning_rate, samples_seen, compute_spent)
        d = client.decision if client is not None else None
        stop = d is not None and d.action == "STOP" and self._confirm(d, step)
        if self.sync is not None:
            stop = self.sync(stop)
        if stop and self.stop_step is None:
            self.stop_step = step
            self.stop_decision = d
            self.log.warning("ntk-sidecar: stopping at step %d: %s", step,
                             d.describe() if d is not None else "rank 0 received STOP from the sidecar")
        return stop

    def _snapshot(self, client: _Client, step: int, loss: float | None, learning_rate: float, samples_seen: int,
                  compute_spent: float) -> None:
        self._next_snapshot_step = step + self.snapshot_every
        self.last_snapshot_step = step
        # A client the sidecar refused (client.disabled) would drop the snapshot: do not spend the Jacobian.
        if getattr(client, "disabled", None) is not None:
            return
        started, started_cpu = time.perf_counter(), time.thread_time()
        snapshot = self.snapshot_fn(step, loss, learning_rate=learning_rate, samples_seen=samples_seen,  # type: ignore[misc]
                                    compute_spent=compute_spent)
        self.snapshot_seconds += time.perf_counter() - started
        self.snapshot_cpu_seconds += time.thread_time() - started_cpu
        self.snapshots_taken += 1
        client.submit(snapshot)

    def _scalars_due(self, loss: float) -> bool:
        """Called on a scalars step: True unless the last Scalars went out less than scalars_interval_s ago."""
        if not math.isfinite(loss):
            return True
        now = self.clock()
        if self._last_scalars_at is not None and now - self._last_scalars_at < self.scalars_interval_s:
            return False
        self._last_scalars_at = now
        return True

    def _confirm(self, d: Decision, step: int) -> bool:
        """A STOP decision: True when it is to be obeyed, else (shadow mode) log it once and go on."""
        if d.enforced and not self.shadow:
            return True
        if self.would_stop_step is None:
            self.would_stop_step = step
            self.log.warning("ntk-sidecar: shadow mode, would stop at step %d: %s", step, d.describe())
        return False

    def close(self, status: str | None = None, timeout: float = 10.0) -> None:
        """End the run on the sidecar: status defaults to "stopped" after a STOP, else "completed"."""
        if self._closed:
            return
        self._closed = True
        if self.client is not None:
            self.client.close(status or ("stopped" if self.stop_step is not None else "completed"), timeout=timeout)

    def __enter__(self) -> "SidecarMonitor":
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is not None and self.stopped_exceptions and issubclass(exc_type, self.stopped_exceptions):
            self.close("stopped")
        else:
            self.close("failed" if exc_type is not None else None)


def as_float(value: Any) -> float | None:
    """A float from a loss-like value (Python number, numpy or torch scalar; NaN kept: it means diverged), or
    None when absent or not a number."""
    if value is None:
        return None
    try:
        item = value.item() if hasattr(value, "item") else value
        return float(item)
    except (TypeError, ValueError):
        return None


__all__ = ["SidecarMonitor", "as_float"]
