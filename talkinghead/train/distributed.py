"""Data-parallel training under torchrun, the same recipe code with or without it.

    torchrun --nproc_per_node 4 -m talkinghead train osm --videos DIR --out DIR --device cuda

torchrun sets WORLD_SIZE, RANK and LOCAL_RANK. Each process then draws its own batches (seed +
rank), DistributedDataParallel averages the gradients, and only rank 0 writes files. Without
torchrun everything runs in the one process, untouched.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
from torch import nn


@dataclass(frozen=True)
class Distributed:
    rank: int = 0
    world_size: int = 1
    device: str = "cpu"

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def wrap(self, model: nn.Module) -> nn.Module:
        """The module to train: DDP around `model` when several processes train it."""
        if self.world_size == 1:
            return model
        from torch.nn.parallel import DistributedDataParallel

        ids = [torch.device(self.device).index] if self.device.startswith("cuda") else None
        return DistributedDataParallel(model, device_ids=ids)

    def close(self) -> None:
        if self.world_size > 1 and torch.distributed.is_initialized():
            torch.distributed.destroy_process_group()


def start(device: str) -> Distributed:
    """Join torchrun's process group if launched by it (one GPU per process for cuda, gloo on
    the CPU); otherwise the single-process setting."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size == 1:
        return Distributed(device=device)
    rank, local_rank = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0"))
    if device.startswith("cuda"):
        device = f"cuda:{local_rank}"
        torch.cuda.set_device(local_rank)
    torch.distributed.init_process_group("nccl" if device.startswith("cuda") else "gloo")
    return Distributed(rank, world_size, device)
