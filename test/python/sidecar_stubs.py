"""Python message classes and gRPC method handles for ntksidecar.v1, generated from the .proto at run time.

Messages come from `protoc --python_out` into a temporary directory (Debian's protobuf-compiler 3.21;
bookworm's python3-grpc-tools bundles protoc 3.6, which rejects proto3 `optional`, so it is only a
fallback). The gRPC side needs no *_pb2_grpc.py: each method's path and streaming shape are read from
the service descriptor, which keeps the client tied to the proto alone.
"""

from __future__ import annotations

import importlib
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from types import ModuleType
from typing import Any

import grpc
from google.protobuf import descriptor_pb2

PROTO_REL = Path("ntksidecar/v1/sidecar.proto")
SERVICE = "ntksidecar.v1.NtkSidecar"


def generate_pb2(proto_root: Path, out_dir: Path) -> ModuleType:
    """Runs protoc on proto_root/ntksidecar/v1/sidecar.proto into out_dir and imports the result."""
    proto = proto_root / PROTO_REL
    if not proto.is_file():
        raise FileNotFoundError(f"{proto} not found")
    protoc = shutil.which("protoc")
    if protoc:
        cmd = [protoc]
    else:
        cmd = [sys.executable, "-m", "grpc_tools.protoc"]
    cmd += [f"-I{proto_root}", f"--python_out={out_dir}", str(PROTO_REL)]
    done = subprocess.run(cmd, cwd=proto_root, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(
            f"{' '.join(cmd)} failed ({done.returncode}): {done.stderr.strip()}\n"
            "Install the test dependencies with `npm run setup:test` (needs protobuf-compiler).")
    sys.path.insert(0, str(out_dir))
    return importlib.import_module("ntksidecar.v1.sidecar_pb2")


class SidecarClient:
    """One callable per RPC of the service, named as in the proto (Attach, CheckStop, GetRun, ...)."""

    def __init__(self, pb2: ModuleType, channel: grpc.Channel) -> None:
        service = pb2.DESCRIPTOR.services_by_name[SERVICE.rsplit(".", 1)[1]]
        self.methods: dict[str, Any] = {}
        for method in service.methods:
            shape = descriptor_pb2.MethodDescriptorProto()
            method.CopyToProto(shape)
            request = getattr(pb2, method.input_type.name)
            response = getattr(pb2, method.output_type.name)
            factory = {
                (False, False): channel.unary_unary,
                (False, True): channel.unary_stream,
                (True, False): channel.stream_unary,
                (True, True): channel.stream_stream,
            }[(shape.client_streaming, shape.server_streaming)]
            self.methods[method.name] = factory(
                f"/{service.full_name}/{method.name}",
                request_serializer=request.SerializeToString,
                response_deserializer=response.FromString,
            )

    def __getattr__(self, name: str) -> Any:
        try:
            return self.methods[name]
        except KeyError:
            raise AttributeError(name) from None


def message_to_json(msg: Any) -> dict[str, Any]:
    """Message -> plain dict with proto field names, every field present (defaults too), uint64 as int,
    enums as names, and non-finite doubles as the strings "NaN"/"Infinity"/"-Infinity" (JSON has none)."""
    out: dict[str, Any] = {}
    for field in msg.DESCRIPTOR.fields:
        value = getattr(msg, field.name)
        if field.message_type is not None and field.message_type.GetOptions().map_entry:
            value_field = field.message_type.fields_by_name["value"]
            out[field.name] = {k: _scalar(value_field, v) for k, v in value.items()}
        elif field.label == field.LABEL_REPEATED:
            out[field.name] = [_scalar(field, v) for v in value]
        elif field.message_type is not None:
            out[field.name] = message_to_json(value) if msg.HasField(field.name) else None
        elif field.has_presence and not msg.HasField(field.name):
            out[field.name] = None  # proto3 `optional` left unset
        else:
            out[field.name] = _scalar(field, value)
    return out


def _scalar(field: Any, value: Any) -> Any:
    if field.message_type is not None:
        return message_to_json(value)
    if field.enum_type is not None:
        return field.enum_type.values_by_number[value].name if value in field.enum_type.values_by_number else value
    if isinstance(value, float) and value != value:
        return "NaN"
    if isinstance(value, float) and value in (float("inf"), float("-inf")):
        return "Infinity" if value > 0 else "-Infinity"
    if isinstance(value, bytes):
        return len(value)  # bulk bytes are summarised by length
    return value


def temp_stub_dir() -> tempfile.TemporaryDirectory[str]:
    return tempfile.TemporaryDirectory(prefix="ntk-sidecar-pb2-")
