#!/usr/bin/env python3
"""Writes the cross-language golden fixtures in test/fixtures/python-chunks/ from the Python client's own
message code (ntk_sidecar.messages), for the TypeScript decoder tests (test/python-client/goldenChunks.test.ts).

Per wire dtype, `jacobian_<dtype>.bin` is a whole Attach request stream for one snapshot of a seeded
(n=5, C=2, P=7) Jacobian: RunStart, SnapshotHeader, TensorChunks, SnapshotEnd. The Jacobian is given to the
client as an (n, C, P) array in two column blocks ([0, 4) and [4, 7)) and cut into chunks of at most 3 columns,
so chunks start at columns 0, 3, 4 (block + chunk offsets); the f32 probe logits ride along. `gram_f64.bin`
holds a 10 x 10 Gram cut into row chunks at rows 0, 3, 6, 9. Each message is prefixed by its length as a
protobuf varint (the standard "delimited" framing). expected.json holds the float64 values the sidecar must
decode (the dtype-rounded inputs) as nested [sample][output][param] lists, so row order is checked against the
(n, C, P) array the trainer had, not against the wire.

    clients/python/scripts/write_golden_chunks.py [--out DIR]   (default: test/fixtures/python-chunks)
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from ntk_sidecar.dtypes import ITEMSIZE, encode, round_trip  # noqa: E402
from ntk_sidecar.messages import RunSpec, run_start, snapshot_messages  # noqa: E402
from ntk_sidecar.snapshot import Snapshot, TensorData, sample_major  # noqa: E402

DEFAULT_OUT = ROOT.parents[1] / "test" / "fixtures" / "python-chunks"
SAMPLES, OUTPUTS, PARAMS = 5, 2, 7
SEED = 20240601


def varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        if n:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def framed(messages: list[Any]) -> bytes:
    return b"".join(varint(len(b)) + b for b in (m.SerializeToString() for m in messages))


def _chunk_list(messages: list[Any]) -> list[dict[str, Any]]:
    return [{"tensor": m.chunk.tensor, "offset": m.chunk.offset, "rows": m.chunk.rows, "cols": m.chunk.cols,
             "bytes": len(m.chunk.data), "crc32c": m.chunk.crc32c}
            for m in messages if m.WhichOneof("kind") == "chunk"]


def build() -> dict[str, bytes]:
    """File name -> contents (the .bin files and expected.json)."""
    rng = np.random.default_rng(SEED)
    # Every value is exact: a 13-bit integer times a power of two (|x| from 2^-8 to 32764, inside f16's range), so
    # f16/bf16 rounding is visible, and the Gram's sums of products (≤ 49 significant bits) are exact in float64 in
    # any summation order. Only integer draws and exact arithmetic: no libm, no CPU-dependent SIMD path.
    shape = (SAMPLES, OUTPUTS, PARAMS)
    mantissa = rng.integers(1, 8192, shape) * rng.choice([-1, 1], shape)
    jac = np.ldexp(mantissa.astype(np.float64), rng.integers(-8, 3, shape))
    jac[0, 0, 0], jac[0, 1, 0], jac[1, 0, 0], jac[SAMPLES - 1, OUTPUTS - 1, PARAMS - 1] = 1.0, 2.0, 3.0, -4.0
    logits = np.ldexp(rng.integers(-4096, 4096, (SAMPLES, OUTPUTS)).astype(np.float64), -10).astype(np.float32)
    targets = np.eye(OUTPUTS)[rng.integers(0, OUTPUTS, SAMPLES)]
    spec = RunSpec(run_id="golden", num_samples=SAMPLES, num_outputs=OUTPUTS, targets=targets, loss="cross_entropy",
                   learning_rate=0.1, param_count=PARAMS)
    files: dict[str, bytes] = {}
    expected: dict[str, Any] = {
        "format": "TrainerMessages, each prefixed by its serialized length as a protobuf varint",
        "samples": SAMPLES, "outputs": OUTPUTS, "params": PARAMS, "files": {},
    }
    flat = sample_major(jac)
    for dtype in ("f32", "f64", "f16", "bf16"):
        tensor = TensorData("jacobian", dtype, SAMPLES * OUTPUTS, PARAMS, [(0, flat[:, :4]), (4, flat[:, 4:])])
        snap = Snapshot(step=100, train_loss=0.75, learning_rate=0.1, samples_seen=3200, compute_spent=12.5,
                        tensors=[tensor, TensorData.dense("logits", logits, "f32")])
        chunk_bytes = 3 * SAMPLES * OUTPUTS * ITEMSIZE[dtype]
        messages = [run_start(spec), *snapshot_messages(snap, 1, max_chunk_bytes=chunk_bytes, checksum=True)]
        name = f"jacobian_{dtype}.bin"
        files[name] = framed(messages)
        expected["files"][name] = {
            "dtype": dtype,
            "snapshot_id": 1, "step": 100,
            "jacobian": round_trip(jac, dtype).tolist(),
            "logits": logits.astype(np.float64).tolist(),
            "targets": targets.tolist(),
            "chunks": _chunk_list(messages),
            # J[(0,0), 0] = 1.0 as little-endian bytes of the dtype: the first bytes of the first chunk.
            "one_le_hex": encode(np.array([1.0]), dtype).tobytes().hex(),
        }
    gram = flat @ flat.T
    snap = Snapshot(step=200, train_loss=0.5, tensors=[TensorData.dense("gram", gram, "f64")])
    messages = [run_start(spec), *snapshot_messages(snap, 2, max_chunk_bytes=3 * 10 * 8, checksum=True)]
    files["gram_f64.bin"] = framed(messages)
    expected["files"]["gram_f64.bin"] = {"dtype": "f64", "snapshot_id": 2, "step": 200, "gram": gram.tolist(),
                                         "chunks": _chunk_list(messages)}
    files["expected.json"] = (json.dumps(expected, indent=1, sort_keys=True) + "\n").encode()
    return files


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = p.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for name, data in build().items():
        (args.out / name).write_bytes(data)
    print(f"wrote {len(build())} files to {args.out}")


if __name__ == "__main__":
    main()
