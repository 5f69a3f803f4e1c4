"""Client-side recordings: what this client submitted for a run, in the sidecar's recording format (version 1), so
that `ntk-sidecar replay FILE [--policy FILE]` can replay it offline (docs/design.md §4; the format is defined by
src/record/recording.ts and read by its decodeRecording()).

One JSON object per line, gzip-compressed:

* a header: ``{type: "header", format: "ntk-sidecar-recording", version: 1, sidecarVersion: "python-client X",
  start: <RunStart>, policy: null, analysis: {backend: "client", exactMax: 2048, topK: 64}}`` where RunStart is
  the object the sidecar's proto loader makes of it (snake_case keys, enums by name, 64-bit integers as numbers,
  unset messages null, bytes as ``{"$b64": base64}``);
* per snapshot: ``{type: "snapshot", snapshotId, step, trainLoss, learningRate, preconditioned, computeSpent,
  kernel: {kind, dtype, reduction, size, upper}, logits, evalLogits}`` — the kernel the sidecar would assemble
  from the snapshot (a Gram as sent, symmetrized; K = J·Jᵀ of a Jacobian or sketch in float64, traced
  K̄_ij = (1/C) Σ_c K_(ic),(jc) when the snapshot's reduction is "trace"), always from the values as they travel
  (the wire dtype), its upper triangle (i ≤ j, row by row) and the logits as base64 of float64 little-endian;
* per Scalars: ``{type: "scalars", step, trainLoss, computeSpent}``.

Non-finite numbers (a diverged loss) travel as ``{"$num": "NaN"}`` (or "Infinity", "-Infinity").

The recording holds every snapshot the client accepted (`submit` after `RunSpec.check_snapshot`) and every Scalars
it queued, in that order — also those the sidecar never saw (unreachable, dropped from a full queue, over its
limits): it is what the trainer produced. Snapshot ids count the recorded snapshots from 1.

Recording never costs the run: the kernel product and the compression run on a background thread; an error
(cannot create the file, disk full) is logged once and recording of the run stops. The trainer waits only when
the recorder is `max_queued` snapshots behind (local CPU and disk work, never the network), so that a recording
is never silently incomplete.
"""

from __future__ import annotations

import base64
import collections
import gzip
import hashlib
import json
import logging
import math
import os
import threading
import time
import urllib.parse
from pathlib import Path
from typing import Any

import numpy as np
from google.protobuf.descriptor import FieldDescriptor

from .dtypes import round_trip
from .messages import run_start
from .snapshot import Snapshot, TensorData

RECORDING_FORMAT = "ntk-sidecar-recording"
RECORDING_VERSION = 1
RECORDING_SUFFIX = ".ntkrec.jsonl.gz"
# The part of a file name record_dir= gives a client recording before RECORDING_SUFFIX: a sidecar recording of the
# same run in the same directory (`serve --record-dir`) never has it, since the sidecar escapes every "." of a run id.
CLIENT_SUFFIX = ".client" + RECORDING_SUFFIX
# The sidecar's defaults (--exact-max, --top-k): the analysis settings a replay of a client recording uses.
DEFAULT_EXACT_MAX = 2048
DEFAULT_TOP_K = 64
_MAX_FILE_NAME = 200  # src/store/runStore.ts MAX_FILE_NAME
_COLUMN_SLICE_BYTES = 32 << 20  # float64 bytes of one Jacobian/sketch column slice multiplied at a time

LOG = logging.getLogger("ntk_sidecar")

_KIND = {"jacobian": "TENSOR_KIND_JACOBIAN", "sketch": "TENSOR_KIND_SKETCH", "gram": "TENSOR_KIND_GRAM"}
_DTYPE = {"f32": "DTYPE_F32", "f64": "DTYPE_F64", "f16": "DTYPE_F16", "bf16": "DTYPE_BF16"}


# ----------------------------------------------------------------------------------------------------------------
# Encoding


def _number(x: float) -> Any:
    x = float(x)
    if math.isfinite(x):
        return x
    return {"$num": "NaN" if math.isnan(x) else ("Infinity" if x > 0 else "-Infinity")}


def _scalar(field: FieldDescriptor, value: Any) -> Any:
    t = field.type
    if t == FieldDescriptor.TYPE_ENUM:
        known = field.enum_type.values_by_number.get(value)
        return known.name if known is not None else int(value)
    if t == FieldDescriptor.TYPE_BYTES:
        return {"$b64": base64.b64encode(bytes(value)).decode("ascii")}
    if t in (FieldDescriptor.TYPE_DOUBLE, FieldDescriptor.TYPE_FLOAT):
        return _number(value)
    if t == FieldDescriptor.TYPE_MESSAGE:
        return proto_object(value)
    if t == FieldDescriptor.TYPE_BOOL:
        return bool(value)
    if t == FieldDescriptor.TYPE_STRING:
        return str(value)
    return int(value)  # every integer type, 64-bit ones as numbers (proto-loader's longs: Number)


def proto_object(message: Any) -> dict[str, Any]:
    """`message` as the sidecar's proto loader makes it (src/protoDefinition.ts LOADER_OPTIONS: keepCase, enums as
    String, longs as Number, defaults, oneofs): every field under its proto name, unset messages null, with bytes
    and non-finite numbers in the recording's JSON form ({"$b64": …}, {"$num": …})."""
    out: dict[str, Any] = {}
    for field in message.DESCRIPTOR.fields:
        value = getattr(message, field.name)
        if field.message_type is not None and field.message_type.GetOptions().map_entry:
            value_field = field.message_type.fields_by_name["value"]
            out[field.name] = {str(k): _scalar(value_field, v) for k, v in value.items()}
        elif field.label == FieldDescriptor.LABEL_REPEATED:
            out[field.name] = [_scalar(field, v) for v in value]
        elif field.type == FieldDescriptor.TYPE_MESSAGE:
            out[field.name] = proto_object(value) if message.HasField(field.name) else None
        elif field.containing_oneof is not None and message.WhichOneof(field.containing_oneof.name) != field.name:
            continue  # protobufjs leaves unset oneof members out even with defaults
        else:
            out[field.name] = _scalar(field, value)
    for oneof in message.DESCRIPTOR.oneofs:
        if len(oneof.fields) == 1 and oneof.name == "_" + oneof.fields[0].name:
            continue  # proto3 `optional`: a synthetic oneof, no virtual property
        chosen = message.WhichOneof(oneof.name)
        if chosen is not None:
            out[oneof.name] = chosen
    return out


def _b64(values: np.ndarray) -> str:
    return base64.b64encode(np.ascontiguousarray(values, dtype="<f8").tobytes()).decode("ascii")


def _wire(tensor: TensorData, block: np.ndarray) -> np.ndarray:
    """float64 values of a block as the sidecar decodes them (after the wire dtype)."""
    return round_trip(np.asarray(block), tensor.dtype)


def _dense_wire(tensor: TensorData) -> np.ndarray:
    out = np.zeros((tensor.rows, tensor.cols))
    for offset, block in tensor.blocks:
        out[offset:offset + block.shape[0]] = _wire(tensor, block)
    return out


def snapshot_kernel(snapshot: Snapshot, samples: int, outputs: int) -> tuple[TensorData, np.ndarray] | None:
    """(kernel tensor, float64 kernel) the sidecar assembles from `snapshot`, or None without a kernel source:
    a Gram as sent, K ← (K + Kᵀ)/2 (src/kernel/finalizeGram.ts symmetrizeGram); a Jacobian or sketch B (N = n·C
    sample-major rows) as K = B Bᵀ in float64 of the wire values, or for reduction "trace" K̄ = B̃ B̃ᵀ / C with
    B̃ the same buffer read as n × C·cols, i.e. K̄_ij = (1/C) Σ_c K_(ic),(jc) (src/kernel/kernelAccumulator.ts).
    Only the upper triangle is recorded; it matches the sidecar's to float64 summation order."""
    tensor = next((t for t in snapshot.tensors if t.kind in _KIND), None)
    if tensor is None:
        return None
    if tensor.kind == "gram":
        k = _dense_wire(tensor)
        return tensor, 0.5 * (k + k.T)
    trace = snapshot.reduction == "trace"
    size = samples if trace else samples * outputs
    k = np.zeros((size, size))
    step = max(1, _COLUMN_SLICE_BYTES // (8 * tensor.rows))
    for _, block in tensor.blocks:
        for a in range(0, block.shape[1], step):
            b = _wire(tensor, block[:, a:a + step])
            if trace:
                b = b.reshape(samples, -1)  # row i: rows i·C … i·C + C − 1 end to end (sample-major)
            k += b @ b.T
    if trace and outputs > 1:
        k *= 1.0 / outputs
    return tensor, k


def upper_triangle(k: np.ndarray) -> np.ndarray:
    """K[i, j] for i ≤ j, row by row: n(n+1)/2 values (recording.ts upper())."""
    return k[np.triu_indices(k.shape[0])]


def header_line(spec: Any, client_version: str, exact_max: int = DEFAULT_EXACT_MAX, top_k: int = DEFAULT_TOP_K) -> dict:
    return {
        "type": "header", "format": RECORDING_FORMAT, "version": RECORDING_VERSION,
        "sidecarVersion": f"python-client {client_version}", "start": proto_object(run_start(spec).start),
        "policy": None, "analysis": {"backend": "client", "exactMax": exact_max, "topK": top_k},
    }


def snapshot_line(snapshot: Snapshot, snapshot_id: int, samples: int, outputs: int) -> dict:
    line: dict[str, Any] = {
        "type": "snapshot", "snapshotId": snapshot_id, "step": int(snapshot.step),
        "trainLoss": _number(snapshot.train_loss), "learningRate": _number(snapshot.learning_rate),
        "preconditioned": bool(getattr(snapshot, "preconditioned", False)),
        "computeSpent": _number(snapshot.compute_spent),
    }
    kernel = snapshot_kernel(snapshot, samples, outputs)
    # Absent keys, never null: decodeRecording() tells "no kernel" by `undefined`.
    if kernel is not None:
        tensor, k = kernel
        line["kernel"] = {"kind": _KIND[tensor.kind], "dtype": _DTYPE[tensor.dtype], "reduction": snapshot.reduction,
                          "size": int(k.shape[0]), "upper": _b64(upper_triangle(k))}
    for kind, key in (("logits", "logits"), ("eval_logits", "evalLogits")):
        t = snapshot.tensor(kind)  # type: ignore[arg-type]
        if t is not None:
            line[key] = _b64(_dense_wire(t).reshape(-1))
    return line


def scalars_line(step: int, train_loss: float, compute_spent: float) -> dict:
    return {"type": "scalars", "step": int(step), "trainLoss": _number(train_loss), "computeSpent": _number(compute_spent)}


def _dumps(obj: dict) -> bytes:
    return (json.dumps(obj, allow_nan=False, separators=(",", ":"), ensure_ascii=False) + "\n").encode("utf-8")


def recording_file_name(run_id: str, suffix: str = CLIENT_SUFFIX) -> str:
    """The run's file name (src/store/runStore.ts fileName): encodeURIComponent(run_id) with "." escaped too, or
    for a long or unencodable id its first 100 characters and a sha256 of its UTF-16LE code units."""
    try:
        encoded: str | None = urllib.parse.quote(run_id, safe="-_.!~*'()", errors="strict").replace(".", "%2E")
    except UnicodeEncodeError:
        encoded = None  # a lone surrogate
    if encoded is not None and len(encoded) + len(suffix) <= _MAX_FILE_NAME:
        return encoded + suffix
    digest = hashlib.sha256(run_id.encode("utf-16-le", errors="surrogatepass")).hexdigest()
    return f"{(encoded or '')[:100]}%~{digest}{suffix}"


# ----------------------------------------------------------------------------------------------------------------
# The writer


class RunRecorder:
    """Appends one run's recording to `path` (a new gzip member per recorder, so a restarted trainer with the same
    file appends, as `serve --record-dir` does for a resumed run). `snapshot()` and `scalars()` only queue; a
    daemon thread builds the lines, writes them and syncs the gzip stream whenever its queue runs empty (a crash
    loses at most what was still queued; replay reads an unfinished member up to its last complete line)."""

    def __init__(self, path: str | os.PathLike[str], spec: Any, *, client_version: str | None = None,
                 max_queued: int = 8, exact_max: int = DEFAULT_EXACT_MAX, top_k: int = DEFAULT_TOP_K,
                 logger: logging.Logger | None = None) -> None:
        if max_queued < 1:
            raise ValueError(f"max_queued = {max_queued}; it must be >= 1")
        if client_version is None:
            from . import __version__ as client_version  # noqa: N811 (late: the package imports this module)
        self.path = Path(path)
        self.spec = spec
        self.log = logger or LOG
        self.max_queued = max_queued
        self.snapshots_recorded = 0
        self.scalars_recorded = 0
        self.error: str | None = None
        self.waited_s = 0.0  # time the training thread waited for a full queue
        self._next_id = 1
        self._lock = threading.Condition()
        self._queue: collections.deque[tuple[str, Any]] = collections.deque()
        self._queued_snapshots = 0
        self._closing = False
        self._warned_wait = False
        self._busy = False  # the writer thread is between taking an item and writing it
        self._file: Any = None
        self._raw: Any = None
        try:
            header = _dumps(header_line(spec, str(client_version), exact_max, top_k))
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._raw = open(self.path, "ab")
            self._file = gzip.GzipFile(filename="", mode="wb", fileobj=self._raw, mtime=0)
            self._file.write(header)
            self._file.flush()
        except Exception as err:  # noqa: BLE001 (recording never costs the run)
            self._fail(err)
        self._thread = threading.Thread(target=self._run, name="ntk-sidecar-recorder", daemon=True)
        if self.error is None:
            self._thread.start()

    @property
    def active(self) -> bool:
        return self.error is None

    def snapshot(self, snapshot: Snapshot) -> None:
        """Queue a snapshot (waits only while `max_queued` snapshots are still being written)."""
        with self._lock:
            if self.error is not None or self._closing:
                return
            if self._queued_snapshots >= self.max_queued:
                started = time.monotonic()
                if not self._warned_wait:
                    self._warned_wait = True
                    self.log.warning("ntk-sidecar: the recording of run %s is %d snapshots behind; training waits for it "
                                     "(logged once): record fewer or smaller snapshots", self.spec.run_id, self.max_queued)
                while self._queued_snapshots >= self.max_queued and self.error is None:
                    self._lock.wait(0.5)
                self.waited_s += time.monotonic() - started
                if self.error is not None:
                    return
            self._queue.append(("snapshot", (self._next_id, snapshot)))
            self._next_id += 1
            self._queued_snapshots += 1
            self._lock.notify_all()

    def scalars(self, step: int, train_loss: float, compute_spent: float) -> None:
        with self._lock:
            if self.error is not None or self._closing:
                return
            self._queue.append(("scalars", scalars_line(step, train_loss, compute_spent)))
            self._lock.notify_all()

    def flush(self, timeout: float = 60.0) -> bool:
        """Wait until everything queued is written and synced to the file. False on timeout or error."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while (self._queue or self._busy) and self.error is None:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._lock.wait(min(left, 0.2))
            return self.error is None

    def close(self, timeout: float = 60.0) -> None:
        """Write what is queued, finish the gzip member and close the file (waits at most `timeout` seconds)."""
        with self._lock:
            if self._closing:
                return
            self._closing = True
            self._lock.notify_all()
        if self._thread.is_alive():
            self._thread.join(timeout)
            if self._thread.is_alive():
                self.log.warning("ntk-sidecar: the recording of run %s was not finished within %.0f s; %s may end "
                                 "early", self.spec.run_id, timeout, self.path)
                return
        self._close_file()

    # -- writer thread

    def _run(self) -> None:
        while True:
            with self._lock:
                while not self._queue and not self._closing:
                    self._lock.wait()
                if not self._queue:
                    break
                kind, payload = self._queue.popleft()
                self._busy = True
            try:
                if kind == "snapshot":
                    sid, snapshot = payload
                    line = snapshot_line(snapshot, sid, self.spec.num_samples, self.spec.num_outputs)
                    self._file.write(_dumps(line))
                    self.snapshots_recorded += 1
                else:
                    self._file.write(_dumps(payload))
                    self.scalars_recorded += 1
                with self._lock:
                    idle = not self._queue
                if idle:
                    self._file.flush()  # Z_SYNC_FLUSH: readable up to here even if the process dies now
                    self._raw.flush()
            except Exception as err:  # noqa: BLE001
                self._fail(err)
            finally:
                with self._lock:
                    if kind == "snapshot":
                        self._queued_snapshots -= 1
                    self._busy = False
                    self._lock.notify_all()
            if self.error is not None:
                break
        if self.error is not None:
            self._close_file()

    def _fail(self, err: BaseException) -> None:
        with self._lock:
            if self.error is not None:
                return
            self.error = f"{type(err).__name__}: {err}"
            self._queue.clear()
            self._queued_snapshots = 0
            self._lock.notify_all()
        self.log.error("ntk-sidecar: recording of run %s to %s stopped: %s; training continues", self.spec.run_id,
                       self.path, self.error)

    def _close_file(self) -> None:
        try:
            if self._file is not None:
                self._file.close()
        except Exception as err:  # noqa: BLE001
            self._fail(err)
        finally:
            self._file = None
            if self._raw is not None:
                try:
                    self._raw.close()
                except Exception as err:  # noqa: BLE001
                    self._fail(err)
                self._raw = None
