#!/usr/bin/env python3
"""One rank of the two-process torch.distributed (gloo) test (test_distributed.py): DDP training of a small MLP;
rank 0 attaches to the sidecar (budget STOP at --max-steps) and DistributedStop broadcasts its answer, so every
rank stops on the same step. Writes {"rank", "stop_step", "steps", "decision"} to --out."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import support  # noqa: E402,F401

import torch  # noqa: E402
import torch.distributed as dist  # noqa: E402

from ntk_sidecar import SidecarClient, SidecarMonitor  # noqa: E402
from ntk_sidecar.distributed import DistributedStop  # noqa: E402
from ntk_sidecar.torch_adapter import TorchNtk  # noqa: E402


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--rank", type=int, required=True)
    p.add_argument("--world", type=int, default=2)
    p.add_argument("--init", required=True, help="tcp://127.0.0.1:PORT")
    p.add_argument("--target", required=True)
    p.add_argument("--run-id", required=True)
    p.add_argument("--max-steps", type=int, default=30)
    p.add_argument("--out", type=Path, required=True)
    a = p.parse_args()
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=a.init, rank=a.rank, world_size=a.world)
    torch.manual_seed(0)  # same initial weights on every rank (DDP also broadcasts them)
    model = torch.nn.Sequential(torch.nn.Linear(6, 32), torch.nn.Tanh(), torch.nn.Linear(32, 3))
    ddp = torch.nn.parallel.DistributedDataParallel(model)
    opt = torch.optim.SGD(ddp.parameters(), lr=0.05)
    data = torch.Generator().manual_seed(100 + a.rank)  # each rank its own batches
    client = None
    snapshot_fn = None
    if a.rank == 0:
        probe = torch.randn(8, 6, generator=torch.Generator().manual_seed(1))
        ntk = TorchNtk(model, probe, mode="gram")
        client = SidecarClient(a.target, ntk.run_spec(a.run_id, job_id=a.run_id + "-job", rank=0, world_size=a.world,
                                                      learning_rate=0.05, max_steps=a.max_steps,
                                                      warmup_steps=a.max_steps))  # only the budget can STOP
        snapshot_fn = ntk.snapshot
    monitor = SidecarMonitor(client, snapshot_fn, snapshot_every=10, scalars_every=1, scalars_interval_s=0,
                             sync=DistributedStop().sync)
    steps = 0
    for step in range(1, 5001):
        x = torch.randn(16, 6, generator=data)
        loss = ddp(x).pow(2).mean()
        opt.zero_grad()
        loss.backward()  # gradient all-reduce across the ranks
        opt.step()
        steps = step
        if monitor.on_step(step, loss.item(), learning_rate=0.05):
            break
        time.sleep(0.001 * (1 + a.rank))  # ranks run at different paces; the collectives keep them in step
    decision = monitor.stop_decision
    monitor.close()
    a.out.write_text(json.dumps({
        "rank": a.rank, "stop_step": monitor.stop_step, "steps": steps,
        "decision": None if decision is None else {"action": decision.action, "reason": decision.reason,
                                                   "step": decision.step, "enforced": decision.enforced},
    }))
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
