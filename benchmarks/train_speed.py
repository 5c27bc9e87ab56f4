"""Training speed of infogan's step against a plain eager PyTorch loop of the same networks and losses.

Both run alternately in one process on the same data, batch size and threads, after warm-up, so
their ratio is robust to the machine's load; absolute figures from different runs are not
comparable. Also prints the FLOPs of one step (torch.utils.flop_counter), the achieved rate as a
fraction of this device's matrix-multiply peak measured here (bf16's under --precision bf16), the share of a step
spent making the batch (lookup, conversion and each epoch's permutation), and peak memory (resident on
the CPU, allocated on the GPU); --profile N prints where N steps of infogan's step spend their time;
--json FILE writes the same figures.

    python benchmarks/train_speed.py --batch-size 64 --rounds 5
    python benchmarks/train_speed.py --preset dsprites --precision bf16 --profile 20
    python benchmarks/train_speed.py --device cuda --compile reduce-overhead --data DIR --json speed.json

The face presets (`celeba`: the paper's CelebA networks at 32x32; `celeba-64`: DCGAN's at 64x64), each in
float32 and bf16, on the real faces; without --data they time random images of the same shape (the pixels
do not change a step's time), as on a machine without the faces:

    python benchmarks/train_speed.py --preset celeba --data ../shared/data/celeba-10k --rounds 5
    python benchmarks/train_speed.py --preset celeba --data ../shared/data/celeba-10k --rounds 5 --precision bf16
    python benchmarks/train_speed.py --preset celeba-64 --data ../shared/data/celeba-10k --rounds 5
    python benchmarks/train_speed.py --preset celeba-64 --data ../shared/data/celeba-10k --rounds 5 --precision bf16
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import resource
import statistics
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset
from torch.utils.flop_counter import FlopCounterMode

from infogan.config import COMPILE_MODES, preset_config
from infogan.data import ImageData, load_dataset, to_unit_range
from infogan.latent import sample_latent
from infogan.networks import build_model, resolve_device
from infogan.train import compile_networks, make_optimizers, train_step

# data sets that exist only as the user's folder (--data), timed on random images of their shape without one
FOLDER_DATASETS = ("celeba", "folder")
GENERATED_IMAGES = 8_000  # as many as the training part of ../shared/data/celeba-10k


def generated_images(config, count: int = GENERATED_IMAGES) -> ImageData:
    """Random uint8 images of the shape the config's networks take: a step's time does not depend on the pixels."""
    shape = (count, config.channels, config.image_size, config.image_size)
    images = torch.randint(0, 256, shape, dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    return ImageData(images, None, f"random {config.image_size}x{config.image_size}x{config.channels} (no --data)")


def plain_loop(config, data_images, device):
    """The yardstick: the loop a careful user writes from the paper and the PyTorch DCGAN example.

    DataLoader over a float TensorDataset, one Adam for D (trunk, D head, Q head) and one for G,
    L_I added to both losses as in the authors' code, full backward passes.
    """
    model = build_model(config).to(device)
    spec = model.spec
    opt_d = torch.optim.Adam(
        [*model.trunk.parameters(), *model.d_head.parameters(), *model.q_head.parameters()],
        config.lr_d,
        (config.beta1, config.beta2),
    )
    opt_g = torch.optim.Adam(model.generator.parameters(), config.lr_g, (config.beta1, config.beta2))
    floats = TensorDataset(to_unit_range(data_images))
    loader = DataLoader(floats, batch_size=config.batch_size, shuffle=True, drop_last=True)

    def info_loss(features, latent):
        logits, means, _ = model.q_head(features)
        cat = sum(F.cross_entropy(lg, latent.categorical[:, i]) for i, lg in enumerate(logits))
        cont = (0.5 * (latent.continuous - means) ** 2).mean(0).sum()
        return config.info_weight_cat * cat + config.info_weight_cont * cont

    def steps():
        while True:
            for (real,) in loader:
                real = real.to(device)
                latent = sample_latent(spec, config.batch_size, device=device)
                fake = model.generator(latent.generator_input(spec))
                opt_d.zero_grad()
                real_logits = model.d_head(model.trunk(real)).squeeze(1)
                fake_features = model.trunk(fake.detach())
                fake_logits = model.d_head(fake_features).squeeze(1)
                loss_d = (
                    F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits))
                    + F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))
                    + info_loss(fake_features, latent)
                )
                loss_d.backward()
                opt_d.step()
                opt_g.zero_grad()
                features = model.trunk(fake)
                logits = model.d_head(features).squeeze(1)
                loss_g = F.binary_cross_entropy_with_logits(logits, torch.ones_like(logits))
                loss_g = loss_g + info_loss(features, latent)
                loss_g.backward()
                opt_g.step()
                yield

    return steps()


def our_loop(config, data_images, device):
    """infogan's training step on the in-memory uint8 data, batched as train.train does."""
    model = build_model(config).to(device, memory_format=torch.channels_last)
    compile_networks(model, config.compile)
    optimizers = make_optimizers(model, config)
    images = data_images.to(device)
    generator = torch.Generator().manual_seed(0)

    def steps():
        while True:
            for indices in torch.randperm(len(images), generator=generator).split(config.batch_size)[:-1]:
                real = to_unit_range(images[indices])
                latent = sample_latent(model.spec, config.batch_size, generator, device)
                train_step(model, optimizers, real, latent, config)
                yield

    return steps()


def synchronize(device: torch.device) -> None:
    """Wait for the GPU's queued kernels, so that a timing covers the work and only it (no-op on CPU)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def images_per_second(steps, count: int, batch_size: int, device: torch.device) -> float:
    synchronize(device)
    start = time.perf_counter()
    for _ in range(count):
        next(steps)
    synchronize(device)
    return count * batch_size / (time.perf_counter() - start)


def matmul_peak(device: torch.device, dtype: torch.dtype = torch.float32, size: int = 2048, repeats: int = 10) -> float:
    """Matrix-multiply rate of this device at `dtype` (FLOP/s), the best of several timings."""
    a, b = torch.randn(size, size, device=device, dtype=dtype), torch.randn(size, size, device=device, dtype=dtype)
    best = float("inf")
    for _ in range(repeats):
        synchronize(device)
        start = time.perf_counter()
        a @ b
        synchronize(device)
        best = min(best, time.perf_counter() - start)
    return 2 * size**3 / best


def batch_seconds(images: torch.Tensor, batch_size: int, count: int = 200) -> float:
    """Seconds to make one batch as train.train does: a share of the epoch's permutation, the uint8 lookup
    and the conversion to [-1, 1]."""
    generator = torch.Generator().manual_seed(0)
    start = time.perf_counter()
    order = torch.randperm(len(images), generator=generator).split(batch_size)
    permutation = (time.perf_counter() - start) / len(order)
    start = time.perf_counter()
    for indices in order[:count]:
        to_unit_range(images[indices])
    return permutation + (time.perf_counter() - start) / min(count, len(order))


def print_profile(steps, count: int) -> None:
    """The operators where `count` of infogan's steps spend their time, by self CPU time."""
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as profiler:
        for _ in range(count):
            next(steps)
    print(profiler.key_averages().table(sort_by="self_cpu_time_total", row_limit=15, max_name_column_width=40))


def peak_memory(device: torch.device) -> dict[str, float | str]:
    """Peak GPU memory allocated by tensors on CUDA; peak resident memory of the process on the CPU."""
    if device.type == "cuda":
        return {"peak_memory_mib": torch.cuda.max_memory_allocated(device) / 2**20, "peak_memory_kind": "GPU allocated"}
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"peak_memory_mib": rss, "peak_memory_kind": "resident"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", default="mnist")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--steps", type=int, default=10, help="steps per timed round")
    parser.add_argument("--rounds", type=int, default=5, help="alternating timed rounds of each loop")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--compile", default="none", choices=COMPILE_MODES, help="torch.compile mode of infogan's step")
    parser.add_argument(
        "--precision", choices=("float32", "bf16"), default="float32", help="infogan's step (plain loop: float32)"
    )
    parser.add_argument("--amp", dest="precision", action="store_const", const="bf16", help="--precision bf16")
    parser.add_argument("--profile", type=int, default=0, metavar="N", help="print a profile of N of infogan's steps")
    parser.add_argument(
        "--data",
        help="the data set's folder or file (default: the preset's data set; for celeba and folder presets, "
        "random images of their shape)",
    )
    parser.add_argument("--images", type=int, help="time on the first N images only (the plain loop holds floats)")
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    args = parser.parse_args()

    device = resolve_device(args.device)
    # the yardstick is the paper's loop, so infogan's step is timed without the IMSAT term (--real-cluster-weight 0)
    # and with one G update per step (--g-steps 1), on the same networks
    config = preset_config(
        args.preset,
        batch_size=args.batch_size,
        compile=args.compile,
        precision=args.precision,
        real_cluster_weight=0.0,
        g_steps=1,
        data_dir=args.data,
    )
    dataset = generated_images(config) if config.dataset in FOLDER_DATASETS and not args.data else load_dataset(config)
    data = dataset.images[: args.images]  # dSprites' 737,280 as floats would take 12 GB
    torch.manual_seed(0)
    plain = plain_loop(dataclasses.replace(config, precision="float32"), data, device)
    ours = our_loop(config, data, device)
    for steps in (plain, ours):  # warm-up
        images_per_second(steps, 3, args.batch_size, device)

    plain_rates, our_rates = [], []
    for _ in range(args.rounds):
        plain_rates.append(images_per_second(plain, args.steps, args.batch_size, device))
        our_rates.append(images_per_second(ours, args.steps, args.batch_size, device))
    plain_rate, our_rate = statistics.median(plain_rates), statistics.median(our_rates)
    memory = peak_memory(device)  # both loops' networks and data are resident

    # FLOPs are counted on an eager copy of infogan's step: the counter sees aten operators, which compiled
    # kernels and replayed CUDA graphs hide
    flops = {}
    eager = our_loop(dataclasses.replace(config, compile="none"), data, device)
    for name, steps in (("plain", plain), ("ours", eager)):
        with FlopCounterMode(display=False) as counter:
            next(steps)
        flops[name] = counter.get_total_flops() / args.batch_size
    flops_per_image = flops["ours"]
    dtype = torch.bfloat16 if args.precision == "bf16" else torch.float32
    peak = matmul_peak(device, dtype)
    achieved = our_rate * flops_per_image
    making_batches = batch_seconds(data, args.batch_size) * our_rate / args.batch_size  # share of a step
    card = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"

    print(
        f"device {device} ({card}), threads {torch.get_num_threads()}, preset {args.preset}, "
        f"batch {args.batch_size}, compile {args.compile}, precision {args.precision}"
    )
    print(f"plain eager loop   {plain_rate:8.1f} images/s  (rounds: {', '.join(f'{r:.0f}' for r in plain_rates)})")
    print(f"infogan            {our_rate:8.1f} images/s  (rounds: {', '.join(f'{r:.0f}' for r in our_rates)})")
    print(f"ratio              {our_rate / plain_rate:8.2f}x")
    print(f"FLOPs per image    {flops['plain'] / 1e9:8.3f} GFLOP plain, {flops_per_image / 1e9:.3f} infogan")
    print(f"matmul peak        {peak / 1e9:8.1f} GFLOP/s ({str(dtype)[6:]} {2048}^2 matmul, best of 10)")
    print(f"achieved           {achieved / 1e9:8.1f} GFLOP/s = {achieved / peak:.0%} of peak (infogan)")
    print(f"making the batch   {making_batches:8.1%} of infogan's step (permutation, uint8 lookup, conversion)")
    print(f"peak memory        {memory['peak_memory_mib']:8.0f} MiB ({memory['peak_memory_kind']})")
    if args.profile:
        print_profile(ours, args.profile)
    if args.json:
        figures = {
            "device": str(device),
            "device_name": card,
            "torch": torch.__version__,
            "threads": torch.get_num_threads(),
            "preset": args.preset,
            "data": dataset.name,
            "batch_size": args.batch_size,
            "compile": args.compile,
            "precision": args.precision,
            "steps_per_round": args.steps,
            "plain_images_per_s": plain_rate,
            "infogan_images_per_s": our_rate,
            "ratio": our_rate / plain_rate,
            "plain_rounds": plain_rates,
            "infogan_rounds": our_rates,
            "gflop_per_image": {"plain": flops["plain"] / 1e9, "infogan": flops_per_image / 1e9},
            "matmul_peak_gflop_per_s": peak / 1e9,
            "matmul_peak_dtype": str(dtype),
            "achieved_fraction_of_peak": achieved / peak,
            "batch_making_fraction_of_step": making_batches,
            **memory,
        }
        args.json.write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
