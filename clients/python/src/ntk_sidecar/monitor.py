"""SidecarMonitor: the framework-free step logic every callback shares, and the plain-loop helper.

Per training step (`on_step`): queue Scalars every `scalars_every` steps but at most once per
`scalars_interval_s` seconds (a non-finite loss goes at once: it means divergence), take a snapshot when one is
due (always at the first step, so the run has its initial kernel), then answer "stop now?" from the latest
decision.

When snapshots are due. By default (`snapshot_every=None`) on the adaptive schedule (`SnapshotSchedule`): every
`dense_every` (10) steps until step `dense_until` (100) — the two phases of training and catapults live there —
then the interval grows by `growth` (1.5×) after each snapshot up to `max_every` (200): steps 1, 11, …, 101, 116,
138, 172, 223, 299, 413, 584, 784, 984, … (30 snapshots in 3120 steps) A due snapshot is further deferred while building it would take the time
spent building snapshots over `overhead_budget` (5 %) of the training time so far (wall time between on_step calls
outside snapshot building; the next snapshot's cost is taken as the last one's), so what snapshots cost the trainer
stays ≤ the budget whatever a step or a snapshot costs — on a toy whose steps take 0.3 ms this thins the schedule
to a few snapshots; the first snapshot is exempt. An explicit `snapshot_every=k` wins: a snapshot every k steps
(the first step, 1 + k, 1 + 2k, …), no governor unless `overhead_budget` is also given. In shadow mode (the monitor's `shadow=True`, or a decision with enforced=false from a
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


class SnapshotSchedule:
    """The default snapshot steps: the first step s₀, then every `dense_every` steps while the step is below
    `dense_until`, then intervals growing by `growth` (rounded, at least 1 more step) up to `max_every`.

    Stateless: `next_step(step, interval)` is (the next due step after a snapshot at `step`, the interval to carry
    to the next call; start with `dense_every`); `steps(first, until)` lists the due steps."""

    def __init__(self, dense_every: int = 10, dense_until: int = 100, growth: float = 1.5,
                 max_every: int = 200) -> None:
        if dense_every < 1 or max_every < dense_every or growth < 1.0 or dense_until < 0:
            raise ValueError(f"SnapshotSchedule(dense_every={dense_every}, dense_until={dense_until}, growth={growth}, "
                             f"max_every={max_every}): need 1 <= dense_every <= max_every, growth >= 1, dense_until >= 0")
        self.dense_every = dense_every
        self.dense_until = dense_until
        self.growth = growth
        self.max_every = max_every

    def next_step(self, step: int, interval: float) -> tuple[int, float]:
        if step >= self.dense_until:
            interval = min(float(self.max_every), interval * self.growth)
        return step + max(1, int(round(interval))), interval

    def steps(self, first: int, until: int) -> list[int]:
        """The due steps from `first` to `until` inclusive (without the governor)."""
        out, step, interval = [], first, float(self.dense_every)
        while step <= until:
            out.append(step)
            step, interval = self.next_step(step, interval)
        return out

    def __repr__(self) -> str:
        return (f"SnapshotSchedule(dense_every={self.dense_every}, dense_until={self.dense_until}, "
                f"growth={self.growth}, max_every={self.max_every})")


DEFAULT_OVERHEAD_BUDGET = 0.05


class SidecarMonitor:
    """`client`: a SidecarClient (or None on ranks that do not talk to the sidecar). `snapshot_fn(step,
    train_loss, learning_rate=..., samples_seen=..., compute_spent=...)` builds a Snapshot, e.g.
    `TorchNtk.snapshot`; None sends scalars only.

    `snapshot_every`: None (default) = the adaptive `schedule` (default `SnapshotSchedule()`) with the overhead
    governor at `overhead_budget` (default 0.05; 0 or None turns it off); an int = a fixed cadence, governed only when
    `overhead_budget` is given."""

    def __init__(
        self,
        client: _Client | None,
        snapshot_fn: SnapshotFn | None = None,
        *,
        snapshot_every: int | None = None,
        scalars_every: int = 10,
        scalars_interval_s: float = 1.0,
        shadow: bool = False,
        sync: Callable[[bool], bool] | None = None,
        logger: logging.Logger | None = None,
        clock: Callable[[], float] = time.monotonic,
        schedule: SnapshotSchedule | None = None,
        overhead_budget: float | None = -1.0,
        timer: Callable[[], float] = time.perf_counter,
    ) -> None:
        if (snapshot_every is not None and snapshot_every < 1) or scalars_every < 1:
            raise ValueError(f"snapshot_every = {snapshot_every}, scalars_every = {scalars_every}; both must be >= 1")
        if snapshot_every is not None and schedule is not None:
            raise ValueError("give snapshot_every or schedule, not both")
        self.client = client
        self.snapshot_fn = snapshot_fn
        self.snapshot_every = snapshot_every
        self.schedule = schedule if schedule is not None or snapshot_every is not None else SnapshotSchedule()
        if overhead_budget is not None and overhead_budget < 0:   # the default: governed on the adaptive schedule
            overhead_budget = DEFAULT_OVERHEAD_BUDGET if snapshot_every is None else None
        self.overhead_budget = overhead_budget or None
        self.timer = timer
        self._started_at: float | None = None       # timer() at the first on_step (training time is counted from it)
        self._last_snapshot_cost = 0.0
        self.snapshots_deferred = 0                 # due snapshots the governor postponed (counted once per due step)
        self._deferring = False
        self._interval = float(self.schedule.dense_every) if self.schedule is not None else 0.0
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
            if step >= self._next_snapshot_step and self.snapshot_fn is not None and self._snapshot_allowed():
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

    def _snapshot_allowed(self) -> bool:
        """The overhead governor: a due snapshot waits while (time spent building snapshots + the last one's cost)
        would exceed overhead_budget × training time so far. The first snapshot is always taken."""
        if self._started_at is None:
            self._started_at = self.timer()
            return True
        if self.overhead_budget is None:
            return True
        train_s = self.timer() - self._started_at - self.snapshot_seconds
        if self.snapshot_seconds + self._last_snapshot_cost <= self.overhead_budget * train_s:
            self._deferring = False
            return True
        if not self._deferring:
            self._deferring = True
            self.snapshots_deferred += 1
        return False

    def overhead(self) -> float:
        """Snapshot building time over training time (wall, since the first on_step), so far."""
        if self._started_at is None:
            return 0.0
        train_s = self.timer() - self._started_at - self.snapshot_seconds
        return self.snapshot_seconds / train_s if train_s > 0 else math.inf

    def _snapshot(self, client: _Client, step: int, loss: float | None, learning_rate: float, samples_seen: int,
                  compute_spent: float) -> None:
        if self.snapshot_every is not None:
            self._next_snapshot_step = step + self.snapshot_every
        else:
            assert self.schedule is not None
            self._next_snapshot_step, self._interval = self.schedule.next_step(step, self._interval)
        self.last_snapshot_step = step
        # A client the sidecar refused (client.disabled) would drop the snapshot: do not spend the Jacobian.
        if getattr(client, "disabled", None) is not None:
            return
        started, started_cpu = self.timer(), time.thread_time()
        snapshot = self.snapshot_fn(step, loss, learning_rate=learning_rate, samples_seen=samples_seen,  # type: ignore[misc]
                                    compute_spent=compute_spent)
        cost = self.timer() - started
        self._last_snapshot_cost = cost
        self.snapshot_seconds += cost
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


__all__ = ["DEFAULT_OVERHEAD_BUDGET", "SidecarMonitor", "SnapshotSchedule", "as_float"]
