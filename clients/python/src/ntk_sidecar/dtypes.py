"""Wire dtypes: little-endian bytes of f32, f64, f16 and bf16 (sidecar.proto `DType`).

bfloat16 has no numpy dtype: it is the upper half of a binary32, so encoding rounds the float32 bit pattern to
its upper 16 bits (round to nearest, ties to even, as torch and JAX do) and decoding shifts it back, which is
exact. f16 uses numpy's float16 (IEEE binary16, round to nearest even).
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from ._proto import pb

WireDType = Literal["f32", "f64", "f16", "bf16"]

ITEMSIZE: dict[str, int] = {"f32": 4, "f64": 8, "f16": 2, "bf16": 2}
PROTO_DTYPE: dict[str, int] = {"f32": pb.DTYPE_F32, "f64": pb.DTYPE_F64, "f16": pb.DTYPE_F16, "bf16": pb.DTYPE_BF16}
_NUMPY_LE = {"f32": "<f4", "f64": "<f8", "f16": "<f2", "bf16": "<u2"}


def check_dtype(dtype: str) -> WireDType:
    if dtype not in ITEMSIZE:
        raise ValueError(f"wire dtype {dtype!r} is not one of {sorted(ITEMSIZE)}")
    return dtype  # type: ignore[return-value]


def to_bf16_bits(values: np.ndarray) -> np.ndarray:
    """uint16 bfloat16 bit patterns of `values` (rounded to nearest even; NaN stays a quiet NaN)."""
    f32 = np.ascontiguousarray(values, dtype=np.float32)
    bits = f32.view(np.uint32)
    rounded = bits + np.uint32(0x7FFF) + ((bits >> np.uint32(16)) & np.uint32(1))
    out = (rounded >> np.uint32(16)).astype(np.uint16)
    nan = np.isnan(f32)
    if nan.any():
        out[nan] = ((bits[nan] >> np.uint32(16)) | np.uint32(0x0040)).astype(np.uint16)
    return out


def from_bf16_bits(bits: np.ndarray) -> np.ndarray:
    """float32 values of uint16 bfloat16 bit patterns (exact)."""
    return (bits.astype(np.uint32) << np.uint32(16)).view(np.float32)


def encode(values: np.ndarray, dtype: str) -> np.ndarray:
    """`values` as a C-contiguous little-endian array of the wire dtype, ready for `.tobytes()` (a view when
    `values` already is one, e.g. float32 on a little-endian host)."""
    dtype = check_dtype(dtype)
    if dtype == "bf16":
        return to_bf16_bits(values).astype("<u2", copy=False)
    return np.ascontiguousarray(values, dtype=_NUMPY_LE[dtype])


def decode(data: bytes | memoryview | np.ndarray, dtype: str, shape: tuple[int, ...] | None = None) -> np.ndarray:
    """float64 values of little-endian wire bytes (what the sidecar accumulates, docs/science.md A0)."""
    dtype = check_dtype(dtype)
    raw = np.frombuffer(data, dtype=np.uint8) if not isinstance(data, np.ndarray) else data.reshape(-1).view(np.uint8)
    if raw.size % ITEMSIZE[dtype]:
        raise ValueError(f"{raw.size} bytes is not a whole number of {dtype} elements ({ITEMSIZE[dtype]} bytes each)")
    typed = raw.view(_NUMPY_LE[dtype])
    out = (from_bf16_bits(typed) if dtype == "bf16" else typed).astype(np.float64)
    return out.reshape(shape) if shape is not None else out


def round_trip(values: np.ndarray, dtype: str) -> np.ndarray:
    """float64 values the sidecar will see after `values` travel as `dtype`."""
    return decode(encode(values, dtype), dtype, np.shape(values))
