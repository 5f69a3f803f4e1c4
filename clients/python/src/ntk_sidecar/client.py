"""The core client: one Attach stream per run, fed from a background thread, failing open.

The training thread only ever appends to a bounded in-memory queue (`submit`, `send_scalars`) and reads the
latest decision (`should_stop`); both take a lock for O(1) work and never wait on the network. A supervisor
thread opens the stream, reads acks and decisions, and reconnects with exponential backoff (and jitter) when the
sidecar is down, slow or restarting; every new stream starts by re-sending RunStart, so the sidecar resumes the
run (or starts it afresh after a restart). The request side of the stream is a generator that grpc drains from
its own thread: it encodes each snapshot into chunks only as HTTP/2 flow control lets them out, so a slow
sidecar fills the queue, and a full queue drops its OLDEST snapshot (counted in `stats.snapshots_dropped`).
Failures are logged once per outage (and once on recovery), never per step.
"""

from __future__ import annotations

import collections
import logging
import os
import random
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

import grpc

from ._proto import NtkSidecarStub, pb
from .decision import Decision
from .messages import DEFAULT_CHUNK_BYTES, RunSpec, RunStatus, run_end, run_start, scalars, snapshot_messages
from .dtypes import ITEMSIZE
from .recording import CLIENT_SUFFIX, RunRecorder, recording_file_name
from .snapshot import COLUMN_KINDS, LOGIT_KINDS, Snapshot

LOG = logging.getLogger("ntk_sidecar")

# Errors on RunStart that no retry can fix (a bad RunStart, a changed probe set, a server without the service).
_FATAL_AT_START = {
    grpc.StatusCode.INVALID_ARGUMENT,
    grpc.StatusCode.FAILED_PRECONDITION,
    grpc.StatusCode.UNIMPLEMENTED,
    grpc.StatusCode.PERMISSION_DENIED,
    grpc.StatusCode.UNAUTHENTICATED,
}
_POLL_S = 1.0  # how often a waiting request generator re-checks its stream (it is also woken when it dies)


@dataclass
class ClientStats:
    snapshots_submitted: int = 0
    snapshots_sent: int = 0       # SnapshotEnd handed to gRPC
    snapshots_dropped: int = 0    # evicted from a full queue (oldest first) or left queued at close
    snapshots_lost: int = 0       # sent or half-sent on a stream that then broke
    snapshots_too_large: int = 0  # over the sidecar's max snapshot/chunk bytes: never sent
    snapshots_invalid: int = 0    # shapes that do not fit the RunSpec (RunSpec.check_snapshot): never sent
    snapshots_accepted: int = 0
    snapshots_rejected: int = 0
    scalars_sent: int = 0
    scalars_dropped: int = 0
    decisions: int = 0
    streams_opened: int = 0       # RunAccepted received
    connect_failures: int = 0


@dataclass(frozen=True)
class Ack:
    snapshot_id: int
    accepted: bool
    code: int
    message: str


class _Item:
    __slots__ = ("kind", "payload")

    def __init__(self, kind: str, payload: Any) -> None:
        self.kind = kind      # "snapshot" | "scalars" | "finish"
        self.payload = payload


class _Session:
    """One Attach stream."""

    def __init__(self) -> None:
        self.dead = threading.Event()
        self.accepted = threading.Event()
        self.accepted_msg: Any = None
        self.call: Any = None
        self.inflight: set[int] = set()


class SidecarClient:
    """Attach a run to a sidecar at `target` ("host:port").

    `submit(snapshot)` and `send_scalars(...)` queue without blocking; `should_stop()` reads the latest
    decision; `check_stop()` asks the sidecar (unary, with a deadline); `close()` ends the run. If the sidecar
    cannot be reached nothing raises: training goes on and the client keeps retrying.

    `record_path=FILE` or `record_dir=DIR` (DIR/<run id>.client.ntkrec.jsonl.gz) also writes what is submitted to a
    recording that `ntk-sidecar replay` reads (recording.py), whether or not the sidecar is reachable; it is
    `self.recorder`. The trainer waits for the recorder only when `record_max_queued` snapshots are still being
    written (local work). A recording error is logged once and stops the recording, never the run.
    """

    def __init__(
        self,
        target: str,
        spec: RunSpec,
        *,
        max_queued_snapshots: int = 2,
        max_queued_scalars: int = 1024,
        max_chunk_bytes: int = DEFAULT_CHUNK_BYTES,
        checksum: bool = True,
        backoff_initial_s: float = 0.2,
        backoff_max_s: float = 10.0,
        on_decision: Callable[[Decision], None] | None = None,
        channel_options: list[tuple[str, Any]] | None = None,
        logger: logging.Logger | None = None,
        start: bool = True,
        record_path: str | os.PathLike[str] | None = None,
        record_dir: str | os.PathLike[str] | None = None,
        record_max_queued: int = 8,
    ) -> None:
        if max_queued_snapshots < 1:
            raise ValueError(f"max_queued_snapshots = {max_queued_snapshots}; it must be >= 1")
        if max_chunk_bytes < 1024:
            raise ValueError(f"max_chunk_bytes = {max_chunk_bytes}; use at least 1024 (the sidecar's default limit is 16 MiB)")
        self.target = target
        self.spec = spec
        self.max_queued_snapshots = max_queued_snapshots
        self.max_queued_scalars = max_queued_scalars
        self.max_chunk_bytes = max_chunk_bytes
        self.checksum = checksum
        self.backoff_initial_s = backoff_initial_s
        self.backoff_max_s = backoff_max_s
        self.on_decision = on_decision
        self.log = logger or LOG
        self.stats = ClientStats()
        self.acks: collections.deque[Ack] = collections.deque(maxlen=1000)
        self.decisions: collections.deque[Decision] = collections.deque(maxlen=1000)

        self._lock = threading.Condition()
        self._queue: collections.deque[_Item] = collections.deque()
        self._queued_snapshots = 0
        self._queued_scalars = 0
        self._busy = False            # the request generator is between taking an item and handing it all out
        self._decision: Decision | None = None
        self._next_snapshot_id = 1
        self._closing = False
        self._finish_status: RunStatus = "completed"
        self._finished = threading.Event()   # the run ended on a stream (RunEnd sent and the stream closed)
        self._stopped = threading.Event()    # the supervisor is asked to stop now
        self._disabled: str | None = None
        self._down_since: float | None = None
        self._outage_failures = 0
        self._dropped_at_outage = 0
        self._session: _Session | None = None
        # Opt-in recording for `ntk-sidecar replay` (recording.py): written whether or not the sidecar answers.
        if record_path is not None and record_dir is not None:
            raise ValueError("give record_path (a file) or record_dir (a directory), not both")
        if record_dir is not None:
            record_path = Path(record_dir) / recording_file_name(spec.run_id, CLIENT_SUFFIX)
        self.recorder: RunRecorder | None = None
        if record_path is not None:
            self.recorder = RunRecorder(record_path, spec, max_queued=record_max_queued, logger=self.log)
        self._options = [
            # Reconnect quickly after a sidecar restart (grpc's default backoff grows to 120 s).
            ("grpc.initial_reconnect_backoff_ms", 200),
            ("grpc.min_reconnect_backoff_ms", 200),
            ("grpc.max_reconnect_backoff_ms", int(backoff_max_s * 1000)),
            ("grpc.enable_retries", 0),
            ("grpc.max_receive_message_length", 64 << 20),
        ] + list(channel_options or [])
        self._channel = grpc.insecure_channel(target, options=self._options)
        self._stub = NtkSidecarStub(self._channel)
        self._thread = threading.Thread(target=self._supervise, name="ntk-sidecar-client", daemon=True)
        if start:
            self.start()

    # ------------------------------------------------------------------------------------------------
    # Training-thread API (never blocks on the network)

    def start(self) -> None:
        if not self._thread.is_alive() and not self._stopped.is_set():
            self._thread.start()

    def submit(self, snapshot: Snapshot) -> None:
        """Queue a snapshot. When `max_queued_snapshots` are already waiting, the oldest is dropped. A snapshot
        whose shapes do not fit the RunSpec (`spec.check_snapshot`: the sidecar would reject it) is dropped at
        once, counted in `stats.snapshots_invalid` and logged once: a wrong shape never stops training."""
        try:
            self.spec.check_snapshot(snapshot)
        except ValueError as err:
            with self._lock:
                if self._closing:
                    raise RuntimeError("submit() after close()") from None
                self.stats.snapshots_submitted += 1
                self.stats.snapshots_invalid += 1
                first = self.stats.snapshots_invalid == 1
            if first:
                self.log.error("ntk-sidecar: snapshot at step %d not sent: %s (logged once)", snapshot.step, err)
            return
        with self._lock:
            if self._closing:
                raise RuntimeError("submit() after close()")
        if self.recorder is not None:
            self.recorder.snapshot(snapshot)  # outside the lock: it may wait for the recorder (never the network)
        with self._lock:
            if self._closing:
                raise RuntimeError("submit() after close()")
            self.stats.snapshots_submitted += 1
            if self._queued_snapshots >= self.max_queued_snapshots:
                self._drop_oldest("snapshot")
                self.stats.snapshots_dropped += 1
            self._queue.append(_Item("snapshot", snapshot))
            self._queued_snapshots += 1
            self._lock.notify_all()

    def send_scalars(self, step: int, train_loss: float, learning_rate: float = 0.0, samples_seen: int = 0,
                     compute_spent: float = 0.0, evals: dict[str, float] | None = None) -> None:
        """Queue cheap per-step values. A NaN/inf loss is sent as is: the sidecar calls that divergence.

        The training thread only queues the values (a tuple); the sender thread builds the protobuf message."""
        values = (int(step), float(train_loss), float(learning_rate), int(samples_seen), float(compute_spent),
                  None if not evals else {k: float(v) for k, v in evals.items()})
        with self._lock:
            if self._closing:
                raise RuntimeError("send_scalars() after close()")
            if self.recorder is not None:
                # Under the lock: the recording keeps the order in which items enter the queue.
                self.recorder.scalars(values[0], values[1], values[4])
            if self._queued_scalars >= self.max_queued_scalars:
                self._drop_oldest("scalars")
                self.stats.scalars_dropped += 1
            self._queue.append(_Item("scalars", values))
            self._queued_scalars += 1
            self._lock.notify_all()

    @property
    def decision(self) -> Decision | None:
        """The latest decision received (None before the first)."""
        return self._decision

    def should_stop(self) -> bool:
        """True once the latest decision is an enforced STOP. Non-blocking; False while disconnected."""
        d = self._decision
        return d is not None and d.stop and d.enforced

    def check_stop(self, timeout: float = 1.0) -> Decision | None:
        """Pull the run's latest decision from the sidecar (unary CheckStop with a deadline). None when the
        sidecar cannot answer in time or knows no decision yet: fail open."""
        try:
            msg = self._stub.CheckStop(pb.CheckStopRequest(run_id=self.spec.run_id), timeout=timeout)
        except grpc.RpcError as err:
            self.log.debug("ntk-sidecar: CheckStop failed: %s", _describe(err))
            return None
        d = Decision.from_proto(msg)
        self._remember(d)
        return d

    def get_run(self, timeout: float = 5.0) -> Any | None:
        """The sidecar's RunReport of this run (protobuf message), or None when it cannot answer."""
        try:
            return self._stub.GetRun(pb.GetRunRequest(run_id=self.spec.run_id), timeout=timeout)
        except grpc.RpcError as err:
            self.log.debug("ntk-sidecar: GetRun failed: %s", _describe(err))
            return None

    @property
    def connected(self) -> bool:
        s = self._session
        return s is not None and s.accepted.is_set() and not s.dead.is_set()

    @property
    def disabled(self) -> str | None:
        """Why the client gave up (a RunStart the sidecar refuses), or None."""
        return self._disabled

    def wait_for(self, predicate: Callable[["SidecarClient"], bool], timeout: float) -> bool:
        """Block until predicate(self) holds (re-checked on every ack, decision or queue change) or timeout."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while not predicate(self):
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._lock.wait(min(left, 0.2))
            return True

    def flush(self, timeout: float = 30.0) -> bool:
        """Wait until every queued item was sent and every sent snapshot answered. False on timeout."""
        def drained(c: SidecarClient) -> bool:
            s = c._session
            return not c._queue and not c._busy and (s is None or not s.inflight)
        return self.wait_for(drained, timeout)

    def close(self, status: RunStatus = "completed", timeout: float = 10.0) -> None:
        """Send what is queued, then RunEnd(status), and stop the thread. Gives up after `timeout` seconds
        (e.g. sidecar down): what is still queued is dropped and counted."""
        with self._lock:
            if self._closing:
                return
            self._closing = True
            self._finish_status = status
            self._queue.append(_Item("finish", status))
            self._lock.notify_all()
        if self._thread.is_alive():
            self._finished.wait(timeout)
        self._stopped.set()
        with self._lock:
            self._lock.notify_all()  # wake a request generator waiting for items
        session = self._session
        if session is not None:
            session.dead.set()
            if session.call is not None and not self._finished.is_set():
                session.call.cancel()
        if self._thread.is_alive():
            self._thread.join(timeout=2.0)
        with self._lock:
            left = self._queued_snapshots
            self.stats.snapshots_dropped += left
            self._queue.clear()
            self._queued_snapshots = self._queued_scalars = 0
            self._lock.notify_all()
        if left:
            self.log.warning("ntk-sidecar: run %s closed with %d snapshot(s) unsent (sidecar at %s unreachable)",
                             self.spec.run_id, left, self.target)
        self._channel.close()
        if self.recorder is not None:
            # Local work (the last kernel products, compression): not bounded by the network `timeout`.
            self.recorder.close(timeout=max(timeout, 60.0))

    def __enter__(self) -> "SidecarClient":
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        self.close("failed" if exc_type is not None else "completed")

    # ------------------------------------------------------------------------------------------------
    # Queue internals (under self._lock)

    def _drop_oldest(self, kind: str) -> None:
        for i, item in enumerate(self._queue):
            if item.kind == kind:
                del self._queue[i]
                if kind == "snapshot":
                    self._queued_snapshots -= 1
                else:
                    self._queued_scalars -= 1
                return

    def _take(self, session: _Session) -> _Item | None:
        """Next queued item for `session`, or None once the session died. Waits while the queue is empty."""
        with self._lock:
            while not self._queue:
                if session.dead.is_set() or self._stopped.is_set():
                    return None
                self._lock.wait(_POLL_S)
            if session.dead.is_set():
                return None
            item = self._queue.popleft()
            if item.kind == "snapshot":
                self._queued_snapshots -= 1
            elif item.kind == "scalars":
                self._queued_scalars -= 1
            self._busy = True
            return item

    def _done_with_item(self) -> None:
        with self._lock:
            self._busy = False
            self._lock.notify_all()

    def _remember(self, d: Decision) -> None:
        with self._lock:
            current = self._decision
            # CheckStop can return an older decision than the stream already delivered.
            if current is None or d.decided_at_unix_ms >= current.decided_at_unix_ms or d.stop:
                self._decision = d
            self._lock.notify_all()

    # ------------------------------------------------------------------------------------------------
    # Stream side (gRPC's request thread runs _requests; the supervisor thread runs the rest)

    def _requests(self, session: _Session) -> Iterator[Any]:
        yield run_start(self.spec)
        # Snapshots wait for RunAccepted: it carries the sidecar's chunk and snapshot limits.
        while not session.accepted.wait(_POLL_S):
            if session.dead.is_set() or self._stopped.is_set():
                return
        accepted = session.accepted_msg
        chunk_bytes = min(self.max_chunk_bytes, accepted.max_chunk_bytes or self.max_chunk_bytes)
        while True:
            item = self._take(session)
            if item is None:
                return
            try:
                if item.kind == "finish":
                    yield run_end(item.payload)
                    return
                if item.kind == "scalars":
                    yield scalars(*item.payload)
                    self.stats.scalars_sent += 1
                    continue
                snapshot: Snapshot = item.payload
                if not self._fits(snapshot, accepted, chunk_bytes):
                    continue
                with self._lock:
                    sid = self._next_snapshot_id
                    self._next_snapshot_id += 1
                    session.inflight.add(sid)
                for msg in snapshot_messages(snapshot, sid, chunk_bytes, self.checksum):
                    if session.dead.is_set():
                        return
                    yield msg
                self.stats.snapshots_sent += 1
            finally:
                self._done_with_item()

    def _fits(self, snapshot: Snapshot, accepted: Any, chunk_bytes: int) -> bool:
        limit = accepted.max_snapshot_bytes
        rows = max((t.rows for t in snapshot.tensors if t.kind not in LOGIT_KINDS), default=0)
        problem = None
        # The smallest chunk of a tensor: one column of all rows (Jacobian, sketch) or one row (Gram, logits).
        unit = max((t.rows if t.kind in COLUMN_KINDS else t.cols) * ITEMSIZE[t.dtype] for t in snapshot.tensors) \
            if snapshot.tensors else 0
        if limit and snapshot.nbytes > limit:
            problem = f"{snapshot.nbytes} bytes is over the sidecar's max snapshot bytes {limit}"
        elif accepted.max_rows and rows > accepted.max_rows:
            problem = f"{rows} rows is over the sidecar's max rows {accepted.max_rows}"
        elif unit > chunk_bytes:
            problem = f"one column or row takes {unit} bytes, over the chunk limit of {chunk_bytes} bytes"
        if problem is None:
            return True
        self.stats.snapshots_too_large += 1
        if self.stats.snapshots_too_large == 1:
            self.log.error("ntk-sidecar: snapshot at step %d not sent: %s; use a sketch or Gram mode, fewer probe "
                           "samples, or raise the sidecar's limits (logged once)", snapshot.step, problem)
        return False

    def _supervise(self) -> None:
        attempt = 0
        while not self._stopped.is_set() and not self._finished.is_set():
            session = _Session()
            self._session = session
            error: grpc.RpcError | None = None
            try:
                session.call = self._stub.Attach(self._requests(session))
                for msg in session.call:
                    self._on_message(session, msg)
                    if msg.HasField("accepted"):
                        attempt = 0
            except grpc.RpcError as err:
                error = err
            except Exception as err:  # a bug here must not reach the trainer
                self.log.exception("ntk-sidecar: unexpected client error (stream restarted): %s", err)
            finally:
                session.dead.set()
                with self._lock:
                    lost = len(session.inflight)
                    self.stats.snapshots_lost += lost
                    session.inflight.clear()
                    self._lock.notify_all()
            if error is None and self._closing and not self._queue:
                self._finished.set()   # RunEnd was sent and the sidecar closed the stream
                break
            if self._stopped.is_set():
                break
            with self._lock:
                if self._closing and not any(item.kind == "finish" for item in self._queue):
                    # RunEnd went out on the stream that broke: send it again on the next one.
                    self._queue.append(_Item("finish", self._finish_status))
            if error is not None and not session.accepted.is_set() and error.code() in _FATAL_AT_START:
                self._disabled = f"RunStart refused: {_describe(error)}"
                self.log.error("ntk-sidecar: the sidecar at %s refused run %s (%s); the client is off, training "
                               "continues without it", self.target, self.spec.run_id, _describe(error))
                self._finished.set()
                break
            self._outage(error)
            delay = min(self.backoff_max_s, self.backoff_initial_s * (2 ** attempt)) * random.uniform(0.5, 1.0)
            attempt += 1
            if self._stopped.wait(delay):
                break

    def _outage(self, error: grpc.RpcError | None) -> None:
        self.stats.connect_failures += 1
        self._outage_failures += 1
        if self._down_since is None:
            self._down_since = time.monotonic()
            self._dropped_at_outage = self.stats.snapshots_dropped
            why = _describe(error) if error is not None else "stream closed"
            self.log.warning("ntk-sidecar: lost the sidecar at %s (%s); training continues, reconnecting with "
                             "backoff (logged once per outage)", self.target, why)

    def _on_message(self, session: _Session, msg: Any) -> None:
        kind = msg.WhichOneof("kind")
        if kind == "accepted":
            session.accepted_msg = msg.accepted
            session.accepted.set()
            self.stats.streams_opened += 1
            if self._down_since is not None:
                self.log.warning(
                    "ntk-sidecar: reconnected to %s after %.1f s (%d failed attempts, %d snapshot(s) dropped "
                    "meanwhile); run %s %s", self.target, time.monotonic() - self._down_since,
                    self._outage_failures, self.stats.snapshots_dropped - self._dropped_at_outage,
                    self.spec.run_id, "resumed" if msg.accepted.resumed else "started afresh")
                self._down_since = None
                self._outage_failures = 0
            with self._lock:
                self._lock.notify_all()
        elif kind == "ack":
            a = msg.ack
            ack = Ack(a.snapshot_id, a.accepted, a.code, a.message)
            with self._lock:
                session.inflight.discard(a.snapshot_id)
                self.acks.append(ack)
                if a.accepted:
                    self.stats.snapshots_accepted += 1
                else:
                    self.stats.snapshots_rejected += 1
                self._lock.notify_all()
            if not a.accepted:
                self.log.warning("ntk-sidecar: snapshot %d rejected (code %d): %s", a.snapshot_id, a.code, a.message)
        elif kind == "decision":
            d = Decision.from_proto(msg.decision)
            with self._lock:
                self.stats.decisions += 1
                self.decisions.append(d)
            self._remember(d)
            if self.on_decision is not None:
                try:
                    self.on_decision(d)
                except Exception:  # the user's hook must not kill the stream
                    self.log.exception("ntk-sidecar: on_decision hook raised")


def _describe(err: grpc.RpcError | None) -> str:
    if err is None:
        return "no error"
    try:
        return f"{err.code().name}: {err.details()}"
    except Exception:
        return str(err)
