"""Generated protobuf code for ntksidecar.v1 (scripts/gen_proto.sh) and the gRPC stub built from its service
descriptor (service.py). Never edit ntksidecar/v1/sidecar_pb2.py by hand: regenerate it."""

from .ntksidecar.v1 import sidecar_pb2 as pb
from .service import NtkSidecarStub

__all__ = ["pb", "NtkSidecarStub"]
