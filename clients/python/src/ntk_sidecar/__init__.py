"""ntk_sidecar: attach a training run to an ntk-sidecar (empirical NTK spectrum, diagnostics, STOP/CONTINUE).

Core (numpy + grpcio): SidecarClient, RunSpec, Snapshot, TensorData, Decision, SidecarMonitor, attach.
Adapters, imported on demand: ntk_sidecar.torch_adapter.TorchNtk, ntk_sidecar.distributed.DistributedStop,
ntk_sidecar.jax_adapter.JaxNtk, ntk_sidecar.callbacks.{lightning,huggingface,keras}.
"""

from .attach import attach
from .client import Ack, ClientStats, SidecarClient
from .decision import Decision
from .messages import RunSpec
from .monitor import SidecarMonitor, SnapshotSchedule
from .sketch import OMEGA_BLOCK_ROWS, omega_block, omega_rows, sketch_reference
from .snapshot import Snapshot, TensorData

__version__ = "0.1.0"

__all__ = [
    "Ack", "ClientStats", "Decision", "OMEGA_BLOCK_ROWS", "RunSpec", "SidecarClient", "SidecarMonitor", "Snapshot",
    "SnapshotSchedule", "TensorData", "attach", "omega_block", "omega_rows", "sketch_reference", "__version__",
]
