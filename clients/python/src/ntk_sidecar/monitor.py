"""SidecarMonitor: the framework-free step logic every callback shares, and the plain-loop helper.

Per training step (`on_step`): queue Scalars every `scalars_every` steps, take a snapshot every
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
        shadow: bool = False,
        sync: Callable[[bool], bool] | None = None,
        logger: logging.Logger | None = None,
    ) -> None:
        if snapshot_every < 1 or scalars_every < 1:
            raise ValueError(f"snapshot_every = {snapshot_every}, scalars_every = {scalars_every}; both must be >= 1")
        self.client = client
        self.snapshot_fn = snapshot_fn
        self.snapshot_every = snapshot_every
        self.scalars_every = scalars_every
        self.shadow = shadow
        self.sync = sync
        self.log = logger or LOG
        self.last_snapshot_step: int | None = None
        self.stop_step: int | None = None          # step at which on_step returned True
        self.stop_decision: Decision | None = None
        self.would_stop_step: int | None = None    # shadow mode: step at which a STOP was first seen
        self.snapshot_seconds = 0.0                # wall time spent building snapshots (Jacobian, sketch, Gram)
        self.snapshot_cpu_seconds = 0.0            # the same, CPU time of the training thread
        self.snapshots_taken = 0
        self._closed = False

    def on_step(self, step: int, loss: float | None = None, *, learning_rate: float = 0.0, samples_seen: int = 0,
                compute_spent: float = 0.0, evals: dict[str, float] | None = None) -> bool:
        """Call once per optimizer step, after it; True means "stop training now"."""
        client = self.client
        if client is not None and not self._closed:
            loss_value = as_float(loss)
            if loss_value is not None and step % self.scalars_every == 0:
                client.send_scalars(step, loss_value, learning_rate, samples_seen, compute_spent, evals)
            due = self.last_snapshot_step is None or step - self.last_snapshot_step >= self.snapshot_every
            if self.snapshot_fn is not None and due:
                started, started_cpu = time.perf_counter(), time.thread_time()
                snapshot = self.snapshot_fn(step, loss_value, learning_rate=learning_rate,
                                            samples_seen=samples_seen, compute_spent=compute_spent)
                self.snapshot_seconds += time.perf_counter() - started
                self.snapshot_cpu_seconds += time.thread_time() - started_cpu
                self.snapshots_taken += 1
                self.last_snapshot_step = step
                client.submit(snapshot)
        stop = self._local_stop(step)
        if self.sync is not None:
            stop = self.sync(stop)
        if stop and self.stop_step is None:
            self.stop_step = step
            d = self.client.decision if self.client is not None else None
            self.stop_decision = d
            self.log.warning("ntk-sidecar: stopping at step %d: %s", step,
                             d.describe() if d is not None else "rank 0 received STOP from the sidecar")
        return stop

    def _local_stop(self, step: int) -> bool:
        d = self.client.decision if self.client is not None else None
        if d is None or not d.stop:
            return False
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
