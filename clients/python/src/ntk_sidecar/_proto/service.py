"""gRPC method handles for ntksidecar.v1.NtkSidecar, read from the service descriptor in sidecar_pb2.

No *_pb2_grpc.py is generated: Debian bookworm has no protoc that both accepts proto3 `optional` (3.21 does)
and ships the Python gRPC plugin (grpc-tools bundles protoc 3.6, which rejects it). Building the handles from
the descriptor keeps them tied to the committed messages: a renamed or re-shaped RPC changes them with the
next `gen_proto.sh`, never silently.
"""

from __future__ import annotations

from typing import Any, Callable

import grpc
from google.protobuf import descriptor_pb2

from .ntksidecar.v1 import sidecar_pb2 as pb

SERVICE_NAME = "NtkSidecar"


class NtkSidecarStub:
    """One callable per RPC, named as in the proto: Attach (stream-stream), CheckStop, GetRun, ListRuns, EndRun
    (unary-unary). Same calling convention as a grpcio-generated stub."""

    Attach: Callable[..., Any]
    CheckStop: Callable[..., Any]
    GetRun: Callable[..., Any]
    ListRuns: Callable[..., Any]
    EndRun: Callable[..., Any]

    def __init__(self, channel: grpc.Channel) -> None:
        service = pb.DESCRIPTOR.services_by_name[SERVICE_NAME]
        for method in service.methods:
            shape = descriptor_pb2.MethodDescriptorProto()
            method.CopyToProto(shape)
            request = getattr(pb, method.input_type.name)
            response = getattr(pb, method.output_type.name)
            factory = {
                (False, False): channel.unary_unary,
                (False, True): channel.unary_stream,
                (True, False): channel.stream_unary,
                (True, True): channel.stream_stream,
            }[(shape.client_streaming, shape.server_streaming)]
            handle = factory(
                f"/{service.full_name}/{method.name}",
                request_serializer=request.SerializeToString,
                response_deserializer=response.FromString,
            )
            setattr(self, method.name, handle)
