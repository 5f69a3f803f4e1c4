"""torch.distributed: rank `src` talks to the sidecar, every rank stops on the same step.

`DistributedStop.sync(local)` is a collective: all ranks call it at the same steps (SidecarMonitor does, once
per on_step). Rank `src` contributes its local answer (from its SidecarClient); a broadcast hands that answer
to every rank, so they all see the same bit at the same step. Cost: one 1-element broadcast per call.
"""

from __future__ import annotations

import torch
import torch.distributed as dist


class DistributedStop:
    def __init__(self, src: int = 0, group: object | None = None, device: torch.device | str | None = None) -> None:
        if not dist.is_available() or not dist.is_initialized():
            raise RuntimeError("torch.distributed is not initialised; call dist.init_process_group first")
        self.src = src
        self.group = group
        if device is None:
            # NCCL needs CUDA tensors; gloo and the rest take CPU tensors.
            device = f"cuda:{torch.cuda.current_device()}" if dist.get_backend(group) == "nccl" else "cpu"
        self.device = torch.device(device)
        self.rank = dist.get_rank()

    @property
    def is_src(self) -> bool:
        return self.rank == self.src

    def sync(self, local: bool) -> bool:
        flag = torch.tensor([1 if (self.is_src and local) else 0], dtype=torch.int32, device=self.device)
        dist.broadcast(flag, src=self.src, group=self.group)
        return bool(flag.item())
