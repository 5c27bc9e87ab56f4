"""The training loop of InfoGAN: one function, `train`, whose steps mirror the objective.

Each step, as in the authors' code:
  (1) update D: maximise log D(x) + log(1 - D(G(z, c))), and, when L_I trains the shared trunk,
      maximise lambda * L_I on the same fake batch (trunk and Q head take this gradient);
  (2) update G: maximise log D(G(z, c)) + lambda * L_I (and the Q head here when L_I does not train
      the trunk).
"""

from __future__ import annotations

import contextlib
import datetime
import logging
import math
import time
from pathlib import Path

import torch
from tqdm import tqdm

from infogan import contrastive, distributed, generate
from infogan.augment import random_affine, random_erase, random_gamma
from infogan.checkpoint import LATEST, save_rotating
from infogan.config import TrainConfig
from infogan.data import ImageData, batches, load_dataset, to_unit_range
from infogan.distributed import Processes
from infogan.errors import InfoGANError, TrainingInterrupted
from infogan.files import copy_file, write_json
from infogan.interrupt import StopRequests
from infogan.latent import Latent, sample_latent
from infogan.losses import (
    code_entropies,
    consistency_loss,
    discriminator_loss,
    generator_loss,
    information_loss,
    real_clustering_loss,
)
from infogan.networks import InfoGAN, build_model, resolve_device
from infogan.run_folder import (
    check_position,
    check_run_folder,
    clear_run_folder,
    latent_states,
    nonfinite_advice,
    restore,
    run_lock,
)
from infogan.training_log import TrainingLog
from infogan.visualize import save_grid

log = logging.getLogger(__name__)


def make_optimizers(model: InfoGAN, config: TrainConfig) -> dict[str, torch.optim.Adam]:
    """Adam per parameter group: D (trunk and D head), G (generator), Q (Q head), and InfoGAN-CR's head
    when the model has one (at Q's learning rate, as the authors').

    The fused implementation updates each tensor in one pass instead of a chain of element-wise
    kernels: the same update up to floating-point rounding, 2-3x faster on CPU (benchmarks/train_speed.py).
    """
    options, lr = {"betas": (config.beta1, config.beta2), "fused": True}, learning_rates(config)
    optimizers = {
        "d": torch.optim.Adam([*model.trunk.parameters(), *model.d_head.parameters()], lr["d"], **options),
        "g": torch.optim.Adam(model.generator.parameters(), lr["g"], **options),
        "q": torch.optim.Adam(model.q_head.parameters(), lr["q"], **options),
    }
    if model.cr_head is not None:
        optimizers["cr"] = torch.optim.Adam(model.cr_head.parameters(), lr["cr"], **options)
    return optimizers


def compile_networks(model: InfoGAN, mode: str) -> None:
    """torch.compile G, D's trunk and both heads in place (mode "none": leave them eager), so state_dict
    keys and checkpoints are unchanged.

    These networks are small enough that a GPU step is bound by kernel launches: reduce-overhead
    replays each compiled graph as a CUDA graph. On this project's 2-core CPU it measured no faster
    than eager (README, Speed). A missing compiler falls back to eager with a warning instead of failing.
    """
    if mode == "none":
        return
    torch._dynamo.config.suppress_errors = True
    for network in (model.generator, model.trunk, model.d_head, model.q_head):
        network.compile(mode=None if mode == "default" else mode)


def learning_rates(config: TrainConfig) -> dict[str, float]:
    """By optimizer: InfoGAN-CR's head trains at Q's rate, as the authors'."""
    return {"d": config.lr_d, "g": config.lr_g, "q": config.lr_q, "cr": config.lr_q}


def train_step(
    model: InfoGAN,
    optimizers: dict[str, torch.optim.Adam],
    real: torch.Tensor,
    latent: Latent,
    config: TrainConfig,
    processes: Processes | None = None,
    step: int = 0,
    augmented: torch.Tensor | None = None,
) -> dict[str, torch.Tensor]:
    """One D update then one G update on a batch of real images (B, C, H, W) in [-1, 1]; `step` (0-based)
    schedules the contrastive regulariser; `augmented`, a randomly warped copy of `real`, feeds the
    real-image clustering term of --real-cluster-weight.

    Under torchrun each phase averages its gradients over `processes` before stepping.
    Returns detached losses: loss_d, loss_g (adversarial parts), nll (n_codes,) of the codes,
    skipped: how many of the two updates --skip-nonfinite skipped, loss_cr while the contrastive
    regulariser is on and loss_real_cluster with --real-cluster-weight.
    """
    autocast = torch.autocast(real.device.type, torch.bfloat16, enabled=config.amp)
    weights = (config.info_weight_cat, config.info_weight_cont)
    with autocast:
        fake = model.generator(latent.generator_input(model.spec))  # (B, C, H, W)

    # (1) update D: min softplus(-D(x)) + softplus(D(G(z, c)))  [+ lambda * (-L_I) through trunk and Q head]
    #     [+ real_cluster_weight * (KL(Q(x) || Q(aug(x))) - I(x; Q's category)) on real images]
    model.zero_grad(set_to_none=True)
    with autocast:
        real_features = model.trunk(real)  # (B, 1024)
        fake_features = model.trunk(fake.detach())
        loss_d = discriminator_loss(model.d_head(real_features).float(), model.d_head(fake_features).float())
        loss_d_total = loss_d
        if config.info_trains_trunk:
            info_d, _ = information_loss(_float(model.q_head(fake_features)), latent, *weights)
            loss_d_total = loss_d + info_d
        if config.real_cluster_weight:
            real_logits, _, _ = _float(model.q_head(real_features))
            augmented_logits, _, _ = _float(model.q_head(model.trunk(augmented)))
            loss_real_cluster = real_clustering_loss(real_logits) + consistency_loss(real_logits, augmented_logits)
            loss_d_total = loss_d_total + config.real_cluster_weight * loss_real_cluster
    loss_d_total.backward()
    trains_q = config.info_trains_trunk or config.real_cluster_weight > 0
    stepped = [optimizers["d"], *([optimizers["q"]] if trains_q else [])]
    updated_d = _update(stepped, loss_d_total, processes, config.skip_nonfinite)

    # (2) update G: min softplus(-D(G(z, c))) + lambda * (-L_I) [+ alpha * L_CR]; D's weights take no gradient
    model.zero_grad(set_to_none=True)
    with autocast:
        features = model.trunk(fake)
        loss_g = generator_loss(model.d_head(features).float())
        info_g, nll = information_loss(_float(model.q_head(features)), latent, *weights)
        loss_g_total = loss_g + info_g
    stepped = [optimizers["g"], *([] if config.info_trains_trunk else [optimizers["q"]])]
    inputs = [p for optimizer in stepped for p in _parameters(optimizer)]
    out = {"loss_real_cluster": loss_real_cluster.detach()} if config.real_cluster_weight else {}
    if contrastive.active(step, config.cr_weight, config.cr_start):
        gap = contrastive.gap_at(step, config.cr_start, config.cr_gap, config.cr_gap_steps)
        with autocast:
            loss_cr = contrastive.contrastive_loss(model, latent, fake, gap)
        loss_cr.backward(inputs=list(model.cr_head.parameters()), retain_graph=True)  # CR head: min L_CR
        loss_g_total = loss_g_total + config.cr_weight * loss_cr
        stepped.append(optimizers["cr"])
        out["loss_cr"] = loss_cr.detach()
    loss_g_total.backward(inputs=inputs)
    updated_g = _update(stepped, loss_g_total, processes, config.skip_nonfinite)
    skipped = torch.tensor(2 - updated_d - updated_g)
    return {"loss_d": loss_d.detach(), "loss_g": loss_g.detach(), "nll": nll, "skipped": skipped, **out}


def _parameters(optimizer: torch.optim.Optimizer) -> list[torch.Tensor]:
    return [p for group in optimizer.param_groups for p in group["params"]]


def _update(
    optimizers: list[torch.optim.Adam], loss: torch.Tensor, processes: Processes | None, skip_nonfinite: bool
) -> bool:
    """Average the phase's gradients over processes, then step its optimizers; returns whether it stepped.

    With skip_nonfinite the update is skipped when the loss or any gradient is non-finite on any
    process (the loss joins the all-reduce, so every process takes the same decision); this costs
    one device sync per phase, so it is only checked when asked.
    """
    gradients = [p.grad for optimizer in optimizers for p in _parameters(optimizer) if p.grad is not None]
    checked = [loss.detach().float().reshape(1).clone(), *gradients]
    if processes is not None:
        processes.average(checked)
    if skip_nonfinite and not bool(torch.stack([t.isfinite().all() for t in checked]).all()):
        return False
    for optimizer in optimizers:
        optimizer.step()
    return True


def _float(q_outputs: tuple) -> tuple:
    """Q's outputs in float32, so losses are computed at full precision under autocast."""
    logits, means, log_stds = q_outputs
    return [x.float() for x in logits], means.float(), None if log_stds is None else log_stds.float()


def warped_copy(real: torch.Tensor, config: TrainConfig, generator: torch.Generator) -> torch.Tensor:
    """The IMSAT term's random warp of a real batch: geometry, then grey levels, then cutout.

    A warp that is off draws no random numbers, so runs from before it existed replay exactly.
    """
    out = random_affine(real, generator, shear=config.real_cluster_shear, stretch=config.real_cluster_stretch)
    if config.real_cluster_gamma > 1:
        out = random_gamma(out, generator, config.real_cluster_gamma)
    if config.real_cluster_erase:
        out = random_erase(out, generator, config.real_cluster_erase)
    return out


def write_epoch_images(model: InfoGAN, run: Path, epoch: int, seed: int) -> None:
    """Sample grid and one traversal per continuous code, from latents fixed by the run's seed."""
    images, columns = generate.sample_grid(model, seed)
    save_grid(images, columns, run / "samples" / f"epoch-{epoch:04d}.png")
    for code in range(model.spec.continuous):
        images, columns = generate.traversal(model, code, seed)
        save_grid(images, columns, run / "traversals" / f"epoch-{epoch:04d}-cont{code}.png")


def train(config: TrainConfig, resume: bool = False, overwrite: bool = False) -> Path:
    """Train a model as `config` says, writing the run folder `config.out`; returns its path.

    Under torchrun every process trains a replica on its share of each epoch (config.batch_size
    images per process per step) and rank 0 alone writes the run folder. SIGINT or SIGTERM stops
    after the current step with a checkpoint and raises TrainingInterrupted.
    """
    config.validate()
    run = Path(config.out)
    processes, device = distributed.start(resolve_device(config.device))
    try:
        with contextlib.ExitStack() as held:  # rank 0 holds RUN/.lock until the end

            def claim() -> None:
                held.enter_context(run_lock(run))
                check_run_folder(run, resume, overwrite)

            processes.on_main(claim)
            return _train(config, run, resume, processes, device)
    except RuntimeError as error:
        if not out_of_memory(error):
            raise
        raise InfoGANError(
            f"out of memory on {device} ({str(error).splitlines()[0][:200]}): lower --batch-size or the latent sizes"
        ) from None
    finally:
        distributed.stop(processes)


def out_of_memory(error: RuntimeError) -> bool:
    """torch.OutOfMemoryError on CUDA; the CPU allocator raises a plain RuntimeError."""
    return isinstance(error, torch.OutOfMemoryError) or "can't allocate memory" in str(error)


def _train(config: TrainConfig, run: Path, resume: bool, processes: Processes, device: torch.device) -> Path:
    rank, world_size, main = processes.rank, processes.world_size, processes.is_main

    # --- data, model, optimizers; every random stream seeded from config.seed (latents also by rank)
    torch.manual_seed(config.seed)
    data = load_dataset(config)
    if len(data) // world_size < config.batch_size:
        raise InfoGANError(
            f"--batch-size {config.batch_size} (per process) is larger than the data set "
            f"({len(data)} images over {world_size} process(es))"
        )
    images = place_images(data, device)
    # channels-last convolutions: the same math, 15-20% faster per step on this CPU (benchmarks/train_speed.py)
    model = build_model(config).to(device, memory_format=torch.channels_last)
    compile_networks(model, config.compile)
    optimizers = make_optimizers(model, config)
    data_rng = torch.Generator().manual_seed(config.seed)  # batch order, the same on every process
    latent_rng = torch.Generator().manual_seed(config.seed + 1 + (rank << 32))  # latents of the training batches
    step, epoch, batch_in_epoch, epoch_rng_state = 0, 0, 0, data_rng.get_state()
    if resume:
        state = restore(run / "checkpoints" / LATEST, model, optimizers, config)
        step, epoch, batch_in_epoch = state["step"], state["epoch"], state["batch_in_epoch"]
        torch.set_rng_state(state["rng"]["torch"])
        latent_rng.set_state(latent_states(state, world_size)[rank])
        epoch_rng_state = state["rng"]["data_epoch"]
        check_position(state, len(data), len(data) // world_size // config.batch_size)
        log.info("resumed %s at step %d (epoch %d)", run, step, epoch)
    processes.broadcast_state(model)  # replicas start identical
    if main:
        if not resume:
            clear_run_folder(run)
        config.save(run / "config.json")

    steps_per_epoch = len(data) // world_size // config.batch_size
    total_steps = config.steps or config.epochs * steps_per_epoch
    entropies = code_entropies(model.spec)
    names = model.spec.code_names()
    metrics = TrainingLog(run, config) if main else None  # metrics.jsonl (+ TensorBoard), held-out clustering
    window = new_window(len(names), device, optional_terms(config))
    window_steps, skipped_steps, train_seconds, window_start = 0, 0, 0.0, time.perf_counter()
    progress = Progress(total_steps, step, main)
    if main:
        epochs = (total_steps - step) / steps_per_epoch
        log.info("training %d steps (%.1f epochs of %s) on %s", total_steps - step, epochs, data.name, device)

    def write(record: dict) -> None:
        if metrics is not None:
            metrics.write(record)

    def checkpoint() -> None:
        """G's batch-norm statistics, a check that the weights are finite and equal on every process, then save."""
        recalibrate_batch_norm(model, config.batch_size, config.seed)
        processes.broadcast_state(model)
        if not all(bool(t.isfinite().all()) for t in model.state_dict().values() if t.is_floating_point()):
            raise InfoGANError(f"the weights became non-finite by step {step}: {nonfinite_advice(run)}")
        fingerprints = processes.check_identical(model)
        latents = processes.gather(latent_rng.get_state())  # each process draws its own latents
        if main:
            state = {
                "config": config.to_dict(),
                "model": model.state_dict(),
                "optimizers": {name: opt.state_dict() for name, opt in optimizers.items()},
                "step": step,
                "epoch": epoch,
                "batch_in_epoch": batch_in_epoch,
                "data_images": len(data),
                "rng": {"torch": torch.get_rng_state(), "latent": latents, "data_epoch": epoch_rng_state},
            }
            saved = save_rotating(state, run / "checkpoints", config.keep_checkpoints)
            if config.keep_epoch_checkpoints and batch_in_epoch == 0:
                copy_file(saved, run / "checkpoints" / f"epoch-{epoch:04d}.pt")
            write({"event": "checkpoint", "step": step, "file": saved.name, "replica_fingerprints": fingerprints})

    model.train()
    last: dict[str, float] = {}
    with StopRequests() as signals:
        stopping = False
        while step < total_steps and not stopping:
            # --- one epoch: a permutation from the state the epoch started with (exact on resume)
            data_rng.set_state(epoch_rng_state)
            order = batches(data, config.batch_size, data_rng, rank, world_size)
            for indices in order[batch_in_epoch:]:
                start = time.perf_counter()
                real = to_unit_range(images[indices].to(device, non_blocking=True))
                latent = sample_latent(model.spec, config.batch_size, latent_rng, device)
                augmented = None
                if config.real_cluster_weight:
                    augmented = warped_copy(real, config, latent_rng)
                losses = train_step(model, optimizers, real, latent, config, processes, step, augmented)
                if int(losses.pop("skipped")):  # only non-zero under --skip-nonfinite: keep NaNs out of the means
                    skipped_steps += 1
                else:
                    for key, value in losses.items():
                        window[key] += value
                    window_steps += 1
                step, batch_in_epoch = step + 1, batch_in_epoch + 1
                train_seconds += time.perf_counter() - start
                progress.update()
                stopping = processes.any(signals.requested is not None)
                saving = config.checkpoint_every > 0 and step % config.checkpoint_every == 0

                # --- log: mean losses over the window and processes, L_I = H(c) - NLL per code, images/s;
                # every checkpoint follows a log line, so a non-finite loss stops the run before it is saved
                if (
                    step % config.log_every == 0
                    or step == total_steps
                    or batch_in_epoch == len(order)
                    or saving
                    or stopping
                ):
                    last = summarise_window(window, window_steps, skipped_steps, names, entropies, processes, run)
                    elapsed = time.perf_counter() - window_start
                    record = {"event": "step", "step": step, "epoch": epoch + batch_in_epoch / len(order), **last}
                    record.update({f"lr_{k}": opt.param_groups[0]["lr"] for k, opt in optimizers.items()})
                    record["images_per_s"] = (window_steps + skipped_steps) * config.batch_size * world_size / elapsed
                    write(record)
                    progress.show(record, config.batch_size * world_size)
                    window, window_steps, skipped_steps = new_window(len(names), device, optional_terms(config)), 0, 0
                    window_start = time.perf_counter()
                # --- held-out clustering every eval_every steps; the end of an epoch or of the run does its own
                mid_epoch = step < total_steps and batch_in_epoch < len(order) and not stopping
                if metrics is not None and config.eval_every and step % config.eval_every == 0 and mid_epoch:
                    metrics.write_clustering(model, step, epoch + batch_in_epoch / len(order))
                if step >= total_steps or stopping:
                    break
                if saving and batch_in_epoch < len(order):
                    checkpoint()

            # --- end of an epoch (or of the run, or a stop): images from the fixed latents, checkpoint
            if batch_in_epoch == len(order):
                epoch, batch_in_epoch, epoch_rng_state = epoch + 1, 0, data_rng.get_state()
            checkpoint()
            if main:
                write_epoch_images(model, run, epoch, config.seed)
            write({"event": "epoch", "step": step, "epoch": epoch, **last})
            if metrics is not None:
                metrics.write_clustering(model, step, epoch)
            stopping = processes.any(signals.requested is not None)  # a signal during the epoch's end
    progress.close()
    if metrics is not None:
        metrics.close()
    if stopping:
        raise TrainingInterrupted(
            f"stopped by {signals.requested or 'a signal to another process'} after step {step} of {total_steps}; "
            f"checkpoint saved: resume with `infogan train --resume {run}`",
            signals.number or 15,
        )

    if main:
        summary = {
            "steps": step,
            "epochs": step / steps_per_epoch,
            "images_seen": step * config.batch_size * world_size,
            "processes": world_size,
            "train_seconds": train_seconds,
            "images_per_s": step * config.batch_size * world_size / train_seconds if train_seconds else None,
            "data": data.name,
            "data_images": len(data),
            "device": str(device),
            "torch": torch.__version__,
            "final": last,
        }
        write_json(run / "summary.json", summary)
        log.info("run written to %s", run)
    return run


class Progress:
    """tqdm's bar on a terminal; elsewhere (a file, a pipe), where tqdm stays silent, one log line per
    metrics-log window: step, losses, images/s and the time left at that window's speed."""

    def __init__(self, total: int, initial: int, main: bool):
        self.total = total
        self.bar = tqdm(
            total=total, initial=initial, desc="train", unit="step", dynamic_ncols=True, disable=None if main else True
        )
        self.lines = main and self.bar.disable

    def update(self) -> None:
        self.bar.update()

    def show(self, record: dict, images_per_step: int) -> None:
        """A "step" record of metrics.jsonl on the bar, or as a log line."""
        losses = {key: value for key, value in record.items() if key.startswith("loss_")}
        if not self.lines:
            self.bar.set_postfix({key: f"{value:.3f}" for key, value in losses.items()})
            return
        speed = record["images_per_s"]
        left = datetime.timedelta(seconds=round((self.total - record["step"]) * images_per_step / speed))
        shown = ", ".join(f"{key} {value:.3f}" for key, value in losses.items())
        log.info("step %d/%d: %s; %.0f images/s, %s left", record["step"], self.total, shown, speed, left)

    def close(self) -> None:
        self.bar.close()


def optional_terms(config: TrainConfig) -> tuple[str, ...]:
    """Loss terms that train_step returns only when their option is on: the contrastive regulariser's
    cross-entropy (0 before --cr-start) and the real-image clustering term."""
    return tuple(
        name
        for name, on in (("loss_cr", config.cr_weight > 0), ("loss_real_cluster", config.real_cluster_weight > 0))
        if on
    )


def new_window(codes: int, device: torch.device, terms: tuple[str, ...]) -> dict[str, torch.Tensor]:
    """Running sums of the losses over a logging window, kept on the device (no sync per step)."""
    scalars = ("loss_d", "loss_g", *terms)
    return {"nll": torch.zeros(codes, device=device), **{name: torch.zeros((), device=device) for name in scalars}}


def summarise_window(
    window: dict[str, torch.Tensor],
    count: int,
    skipped: int,
    names: list[str],
    entropies: list[float],
    processes: Processes,
    run: Path,
) -> dict[str, float]:
    """Mean losses of a logging window over its steps and all processes; a non-finite loss (or a
    window whose every step --skip-nonfinite skipped) stops the run before anything is saved."""
    scalars = [name for name in window if name != "nll"]  # loss_d, loss_g, then the optional terms
    sums = torch.cat([*(window[name].view(1) for name in scalars), window["nll"]]).float()
    totals = [sums, torch.tensor([count, skipped], dtype=torch.float32, device=sums.device)]
    processes.average(totals)
    means = (totals[0] / totals[1][0]).tolist()  # mean sums / mean count: 0 / 0 when every step was skipped
    out = dict(zip(scalars, means, strict=False))
    for name, value, entropy in zip(names, means[len(scalars) :], entropies, strict=True):
        out[f"nll_{name}"] = value
        out[f"mi_{name}"] = entropy - value
    if skipped:  # every process skips the same steps
        out["skipped_steps"] = skipped
        log.warning("skipped %d step(s) with non-finite losses or gradients", out["skipped_steps"])
    if not all(math.isfinite(v) for v in out.values()):
        raise InfoGANError(f"a loss became non-finite ({out}): {nonfinite_advice(run)}")
    return out


@torch.no_grad()
def recalibrate_batch_norm(model: InfoGAN, batch_size: int, seed: int = 0, batches: int = 50) -> None:
    """Recompute G's batch-norm population statistics as exact means over fresh latent batches.

    Training runs G on batch statistics; the exponential running averages lag behind weights that
    move at lr 1e-3, and eval-mode samples drawn with them were noise where train-mode samples were
    clean digits. Training never reads these buffers, so this changes no optimisation step.
    """
    layers = [m for m in model.generator.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    momenta = [layer.momentum for layer in layers]
    for layer in layers:
        layer.reset_running_stats()
        layer.momentum = None  # cumulative average
    was_training = model.training
    model.generator.train()
    generator = torch.Generator().manual_seed(seed)
    device = next(model.parameters()).device
    for _ in range(batches):
        model.generator(sample_latent(model.spec, batch_size, generator).generator_input(model.spec).to(device))
    for layer, momentum in zip(layers, momenta, strict=True):
        layer.momentum = momentum
    model.train(was_training)


def place_images(data: ImageData, device: torch.device) -> torch.Tensor:
    """Keep the uint8 data set on the GPU when it fits in a quarter of its memory, else pinned in host
    memory for asynchronous copies; on the CPU as it is."""
    if device.type != "cuda":
        return data.images
    free, _ = torch.cuda.mem_get_info(device)
    if data.images.numel() < free // 4:
        return data.images.to(device)
    return data.images.pin_memory()
