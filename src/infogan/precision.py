"""Which number format a run trains in: `--precision auto|float32|bf16`.

bf16 here is autocast: the networks' matrix products and convolutions run in bf16 while the weights,
the optimizer state and the losses stay in float32 (train.py casts the heads' outputs up before each
loss). It pays only where the hardware has bf16 units: CUDA devices that report bf16 support, and
CPUs with AMX or AVX-512 BF16 (2.2x per dSprites step on this project's Xeon; without those units
PyTorch emulates bf16 and a step gets slower). `auto` asks the device, so one command line is fast
wherever it runs; the choice is resolved once, at the start of training, and saved in config.json.
Inference (sample, evaluate, encode, the explorer) runs in float32 whatever the run trained in: the
weights are float32 either way (docs/results/precision.md).
"""

from __future__ import annotations

import functools

import torch


def native_bf16(device: torch.device) -> tuple[bool, str]:
    """Whether `device` runs bf16 natively, and what it reported."""
    if device.type == "cuda":
        supported = torch.cuda.is_bf16_supported(including_emulation=False)
        name = torch.cuda.get_device_name(device)
        return supported, f"{name} {'supports' if supported else 'does not support'} bf16"
    if device.type == "cpu":
        units = [name for name, has in cpu_bf16_units().items() if has]
        return bool(
            units
        ), f"this CPU reports {' and '.join(units)}" if units else "this CPU has no AMX or AVX-512 BF16"
    return False, f"{device.type} devices are not checked for bf16"


@functools.cache
def cpu_bf16_units() -> dict[str, bool]:
    """The CPU's bf16 units as PyTorch reads them (cpuinfo): the AMX tiles and AVX-512 BF16."""
    return {"AMX": torch.cpu._is_amx_tile_supported(), "AVX-512 BF16": torch.cpu._is_avx512_bf16_supported()}


def resolve_precision(precision: str, device: torch.device) -> tuple[str, str]:
    """`precision` with auto replaced by bf16 or float32 for `device`, and why, for the start of training."""
    if precision != "auto":
        return precision, "as asked"
    native, reason = native_bf16(device)
    return ("bf16" if native else "float32"), f"auto: {reason}"


def autocast(precision: str, device: torch.device) -> torch.autocast:
    """The autocast context of a training step: bf16 when `precision` resolves to it, else a no-op."""
    resolved, _ = resolve_precision(precision, device)
    return torch.autocast(device.type, torch.bfloat16, enabled=resolved == "bf16")
