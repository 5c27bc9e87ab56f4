"""Data-parallel training across processes started by torchrun: one model replica per process.

Why not DistributedDataParallel: train_step runs D's trunk three times per step (real, fake for D,
fake for G) and the G phase calls backward(inputs=...) so that D's weights take no gradient. DDP
hooks every parameter of a wrapped module and expects each forward to be followed by one backward
that reduces all of them; the G phase would leave D's gradients unreduced and fail the next step.
Instead each phase averages exactly the gradients it is about to apply, in one all-reduce of a flat
buffer after backward: the same mean of per-process gradients that DDP computes, with the
communication not overlapped with backward (a small cost at these model sizes).

Weights start identical (broadcast from rank 0) and every process applies the same averaged
gradients, so replicas stay identical; a fingerprint of the weights checks this at each checkpoint.
Batch norm uses each process's own batch statistics (as DDP does without SyncBatchNorm).
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import torch
import torch.distributed as dist

from infogan.errors import InfoGANError

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass
class Processes:
    """The processes training one model; world_size 1 makes every method a no-op."""

    rank: int = 0
    world_size: int = 1
    control: Any = None  # a gloo group for small CPU messages (stop flags) without a GPU sync
    owns_group: bool = False  # started the process group, so ends it

    @property
    def is_main(self) -> bool:
        """Rank 0 alone writes files."""
        return self.rank == 0

    def average(self, tensors: list[torch.Tensor]) -> None:
        """Replace each tensor by its mean over processes, in one all-reduce of a flat buffer."""
        if self.world_size == 1 or not tensors:
            return
        flat = torch.cat([t.reshape(-1) for t in tensors])  # (sum of numels,)
        dist.all_reduce(flat)
        flat /= self.world_size
        for tensor, chunk in zip(tensors, flat.split([t.numel() for t in tensors]), strict=True):
            tensor.copy_(chunk.view_as(tensor))

    def any(self, flag: bool) -> bool:
        """True on every process when `flag` is true on any, so that all stop after the same step."""
        if self.world_size == 1:
            return flag
        value = torch.tensor([int(flag)])
        dist.all_reduce(value, op=dist.ReduceOp.MAX, group=self.control)
        return bool(value.item())

    def broadcast_state(self, model: torch.nn.Module) -> None:
        """Copy rank 0's weights and buffers to every process."""
        if self.world_size == 1:
            return
        for tensor in model.state_dict().values():
            dist.broadcast(tensor, src=0)

    def on_main(self, action: Callable[[], T]) -> T | None:
        """Run `action` on rank 0 only; an InfoGANError there is raised on every process."""
        error = None
        result = None
        if self.is_main:
            try:
                result = action()
            except InfoGANError as raised:
                error = str(raised)
        if self.world_size > 1:
            message = [error]
            dist.broadcast_object_list(message, src=0, group=self.control)
            error = message[0]
        if error is not None:
            raise InfoGANError(error)
        return result

    def gather(self, value: T) -> list[T]:
        """Every process's `value`, in rank order, on every process."""
        if self.world_size == 1:
            return [value]
        values: list = [None] * self.world_size
        dist.all_gather_object(values, value, group=self.control)
        return values

    def check_identical(self, model: torch.nn.Module) -> list[str]:
        """Stop the run if any replica's weights or buffers differ from rank 0's, bit for bit;
        returns each process's fingerprint (none for a single process)."""
        if self.world_size == 1:
            return []
        prints = self.gather(state_fingerprint(model.state_dict()))
        if len(set(prints)) != 1:
            raise InfoGANError(f"model replicas diverged across processes (fingerprints {prints}): please report this")
        log.info("weights identical on all %d processes (fingerprint %s)", self.world_size, prints[0][:12])
        return prints

    def barrier(self) -> None:
        if self.world_size > 1:
            dist.barrier(group=self.control)


def state_fingerprint(state: dict[str, torch.Tensor]) -> str:
    """SHA-256 of a state dict's names, dtypes, shapes and bytes: equal only when bit for bit equal."""
    digest = hashlib.sha256()
    for name, tensor in state.items():
        tensor = tensor.detach().cpu().contiguous()
        digest.update(f"{name}|{tensor.dtype}|{tuple(tensor.shape)}|".encode())
        digest.update(tensor.reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def start(device: torch.device) -> tuple[Processes, torch.device]:
    """Join the process group torchrun describes (WORLD_SIZE > 1), else a single process.

    gloo on CPU, nccl on CUDA (one GPU per process, cuda:LOCAL_RANK); stop flags and small objects
    go over a gloo group in both cases. Returns the processes and this process's device.
    """
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size == 1:
        return Processes(), device
    if device.type == "cuda":
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
        torch.cuda.set_device(device)
    owns_group = not dist.is_initialized()
    if owns_group:
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    control = dist.new_group(backend="gloo") if device.type == "cuda" else None
    processes = Processes(dist.get_rank(), dist.get_world_size(), control, owns_group)
    log.info("process %d of %d on %s", processes.rank, processes.world_size, device)
    return processes, device


def stop(processes: Processes) -> None:
    """Wait for every process, then end the process group if start() began it."""
    if processes.world_size > 1:
        processes.barrier()
        if processes.owns_group:
            dist.destroy_process_group()
