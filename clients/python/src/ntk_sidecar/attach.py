"""`attach`: a client and a monitor for one run in one call (the plain-loop entry point)."""

from __future__ import annotations

import os
import socket
import time
from typing import Any

from .client import SidecarClient
from .messages import RunSpec
from .monitor import SidecarMonitor

DEFAULT_TARGET = "127.0.0.1:50051"


def default_run_id() -> str:
    return f"{socket.gethostname()}-{os.getpid()}-{int(time.time())}"


def attach(
    source: Any = None,
    *,
    target: str | None = None,
    run_id: str | None = None,
    spec: RunSpec | None = None,
    snapshot_every: int | None = None,
    scalars_every: int = 10,
    scalars_interval_s: float = 1.0,
    shadow: bool = False,
    sync: Any = None,
    client_options: dict[str, Any] | None = None,
    record_dir: str | None = None,
    record_path: str | None = None,
    schedule: Any = None,
    overhead_budget: float | None = -1.0,
    **run_fields: Any,
) -> SidecarMonitor:
    """Attach a run and return its SidecarMonitor (use it as a context manager, call `on_step` every step).

    `source`: an adapter with `run_spec(run_id, **fields)` and `snapshot(step, loss, ...)` (TorchNtk), or None
    for scalars only (then pass `spec`, or `num_samples`/`num_outputs` in run_fields). `target` defaults to
    $NTK_SIDECAR_TARGET, then 127.0.0.1:50051. Extra keyword arguments are RunSpec fields (job_id, cohort,
    max_steps, optimizer, learning_rate, ...). `record_dir`/`record_path` also record the run for
    `ntk-sidecar replay` (SidecarClient's options of the same names). Snapshots: the adaptive schedule under a
    5 % overhead governor by default; `snapshot_every=k` for a fixed cadence (SidecarMonitor).
    """
    target = target or os.environ.get("NTK_SIDECAR_TARGET") or DEFAULT_TARGET
    run_id = run_id or (spec.run_id if spec is not None else default_run_id())
    if spec is None:
        spec = source.run_spec(run_id, **run_fields) if source is not None else RunSpec(run_id=run_id, **run_fields)
    options = dict(client_options or {})
    if record_dir is not None:
        options["record_dir"] = record_dir
    if record_path is not None:
        options["record_path"] = record_path
    client = SidecarClient(target, spec, **options)
    snapshot_fn = source.snapshot if source is not None else None
    return SidecarMonitor(client, snapshot_fn, snapshot_every=snapshot_every, scalars_every=scalars_every,
                          scalars_interval_s=scalars_interval_s, shadow=shadow, sync=sync, schedule=schedule,
                          overhead_budget=overhead_budget)
