"""The training loop of InfoGAN: one function, `train`, whose steps mirror the objective.

Each step, as in the authors' code:
  (1) update D: maximise log D(x) + log(1 - D(G(z, c))), and, when L_I trains the shared trunk,
      maximise lambda * L_I on the same fake batch (trunk and Q head take this gradient);
  (2) update G: maximise log D(G(z, c)) + lambda * L_I (and the Q head here when L_I does not train
      the trunk).
"""

from __future__ import annotations

import json
import logging
import math
import shutil
import time
from pathlib import Path

import torch
from tqdm import tqdm

from infogan import contrastive, generate
from infogan.checkpoint import load_checkpoint, save_checkpoint
from infogan.config import TrainConfig, flag
from infogan.data import ImageData, batches, load_dataset, to_unit_range
from infogan.errors import InfoGANError
from infogan.latent import Latent, sample_latent
from infogan.losses import code_entropies, discriminator_loss, generator_loss, information_loss
from infogan.networks import InfoGAN
from infogan.visualize import save_grid

log = logging.getLogger(__name__)

# options that shape the networks or the latent: a checkpoint only resumes under the same values
MODEL_FIELDS = ("noise", "categorical", "continuous", "image_size", "channels", "learn_std", "spectral_norm")
MODEL_FIELDS += ("network", "cr_weight")  # cr_weight > 0 adds InfoGAN-CR's head: to turn it on late, use --cr-start
RUN_FILES = ("config.json", "metrics.jsonl", "summary.json", "checkpoints", "samples", "traversals")


def make_optimizers(model: InfoGAN, config: TrainConfig) -> dict[str, torch.optim.Adam]:
    """Adam per parameter group: D (trunk and D head), G (generator), Q (Q head), and InfoGAN-CR's head
    when the model has one (at Q's learning rate, as the authors')."""
    betas = (config.beta1, config.beta2)
    optimizers = {
        "d": torch.optim.Adam([*model.trunk.parameters(), *model.d_head.parameters()], config.lr_d, betas),
        "g": torch.optim.Adam(model.generator.parameters(), config.lr_g, betas),
        "q": torch.optim.Adam(model.q_head.parameters(), config.lr_q, betas),
    }
    if model.cr_head is not None:
        optimizers["cr"] = torch.optim.Adam(model.cr_head.parameters(), config.lr_q, betas)
    return optimizers


def train_step(
    model: InfoGAN,
    optimizers: dict[str, torch.optim.Adam],
    real: torch.Tensor,
    latent: Latent,
    config: TrainConfig,
    step: int = 0,
) -> dict[str, torch.Tensor]:
    """One D update then one G update on a batch of real images (B, C, H, W) in [-1, 1]; `step` (0-based)
    schedules the contrastive regulariser.

    Returns detached losses: loss_d, loss_g (adversarial parts), nll (n_codes,) of the codes, and loss_cr
    while the contrastive regulariser is on.
    """
    autocast = torch.autocast(real.device.type, torch.bfloat16, enabled=config.amp and real.device.type == "cuda")
    weights = (config.info_weight_cat, config.info_weight_cont)
    with autocast:
        fake = model.generator(latent.generator_input(model.spec))  # (B, C, H, W)

    # (1) update D: min softplus(-D(x)) + softplus(D(G(z, c)))  [+ lambda * (-L_I) through trunk and Q head]
    model.zero_grad(set_to_none=True)
    with autocast:
        real_features = model.trunk(real)  # (B, 1024)
        fake_features = model.trunk(fake.detach())
        loss_d = discriminator_loss(model.d_head(real_features).float(), model.d_head(fake_features).float())
        loss_d_total = loss_d
        if config.info_trains_trunk:
            info_d, _ = information_loss(_float(model.q_head(fake_features)), latent, *weights)
            loss_d_total = loss_d + info_d
    loss_d_total.backward()
    optimizers["d"].step()
    if config.info_trains_trunk:
        optimizers["q"].step()

    # (2) update G: min softplus(-D(G(z, c))) + lambda * (-L_I) [+ alpha * L_CR]; D's weights take no gradient
    model.zero_grad(set_to_none=True)
    with autocast:
        features = model.trunk(fake)
        loss_g = generator_loss(model.d_head(features).float())
        info_g, nll = information_loss(_float(model.q_head(features)), latent, *weights)
    trained = list(model.generator.parameters())
    if not config.info_trains_trunk:
        trained += list(model.q_head.parameters())
    out = {}
    loss_g_total = loss_g + info_g
    if contrastive.active(step, config.cr_weight, config.cr_start):
        gap = contrastive.gap_at(step, config.cr_start, config.cr_gap, config.cr_gap_steps)
        with autocast:
            loss_cr = contrastive.contrastive_loss(model, latent, fake, gap)
        loss_cr.backward(inputs=list(model.cr_head.parameters()), retain_graph=True)  # H: min L_CR
        loss_g_total = loss_g_total + config.cr_weight * loss_cr
        out["loss_cr"] = loss_cr.detach()
    loss_g_total.backward(inputs=trained)
    optimizers["g"].step()
    if "loss_cr" in out:
        optimizers["cr"].step()
    if not config.info_trains_trunk:
        optimizers["q"].step()
    return {"loss_d": loss_d.detach(), "loss_g": loss_g.detach(), "nll": nll, **out}


def _float(q_outputs: tuple) -> tuple:
    """Q's outputs in float32, so losses are computed at full precision under autocast."""
    logits, means, log_stds = q_outputs
    return [x.float() for x in logits], means.float(), None if log_stds is None else log_stds.float()


def prepare_run_folder(run: Path, resume: bool, overwrite: bool) -> None:
    """Refuse to write over another run unless asked; --overwrite removes only infogan's own files."""
    holds_run = any((run / name).exists() for name in RUN_FILES)
    if resume:
        if not (run / "checkpoints" / "latest.pt").is_file():
            raise InfoGANError(f"{run} has no checkpoints/latest.pt to resume from")
        return
    if holds_run and not overwrite:
        raise InfoGANError(f"{run} already holds a run: pass --resume {run} to continue it, or --overwrite")
    for name in RUN_FILES if holds_run else ():
        path = run / name
        shutil.rmtree(path) if path.is_dir() else path.unlink(missing_ok=True)
    run.mkdir(parents=True, exist_ok=True)


def check_resumable(saved: TrainConfig, config: TrainConfig) -> None:
    """A checkpoint's networks only load under the options that shaped them."""
    for name in MODEL_FIELDS:
        if getattr(saved, name) != getattr(config, name):
            raise InfoGANError(
                f"the checkpoint was trained with {flag(name)} {getattr(saved, name)!r}, "
                f"not {getattr(config, name)!r}: drop that option to resume, or start a new run"
            )


def write_epoch_images(model: InfoGAN, run: Path, epoch: int, seed: int) -> None:
    """Sample grid and one traversal per continuous code, from latents fixed by the run's seed."""
    images, columns = generate.sample_grid(model, seed)
    save_grid(images, columns, run / "samples" / f"epoch-{epoch:04d}.png")
    for code in range(model.spec.continuous):
        images, columns = generate.traversal(model, code, seed)
        save_grid(images, columns, run / "traversals" / f"epoch-{epoch:04d}-cont{code}.png")


def train(config: TrainConfig, resume: bool = False, overwrite: bool = False) -> Path:
    """Train a model as `config` says, writing the run folder `config.out`; returns its path."""
    config.validate()
    run = Path(config.out)
    prepare_run_folder(run, resume, overwrite)
    device = generate.resolve_device(config.device)

    # --- data, model, optimizers; every random stream seeded from config.seed
    torch.manual_seed(config.seed)
    data = load_dataset(config)
    if len(data) < config.batch_size:
        raise InfoGANError(f"--batch-size {config.batch_size} is larger than the data set ({len(data)} images)")
    images = place_images(data, device)
    model = generate.build_model(config).to(device)
    optimizers = make_optimizers(model, config)
    data_rng = torch.Generator().manual_seed(config.seed)  # batch order
    latent_rng = torch.Generator().manual_seed(config.seed + 1)  # latents of the training batches
    step, epoch, batch_in_epoch, epoch_rng_state = 0, 0, 0, data_rng.get_state()
    if resume:
        state = load_checkpoint(run / "checkpoints" / "latest.pt", device)
        check_resumable(TrainConfig.from_dict(state["config"]), config)
        model.load_state_dict(state["model"])
        for name, optimizer in optimizers.items():
            optimizer.load_state_dict(state["optimizers"][name])
        step, epoch, batch_in_epoch = state["step"], state["epoch"], state["batch_in_epoch"]
        torch.set_rng_state(state["rng"]["torch"])
        latent_rng.set_state(state["rng"]["latent"])
        epoch_rng_state = state["rng"]["data_epoch"]
        log.info("resumed %s at step %d (epoch %d)", run, step, epoch)
    config.save(run / "config.json")

    steps_per_epoch = len(data) // config.batch_size
    total_steps = config.steps or config.epochs * steps_per_epoch
    entropies = code_entropies(model.spec)
    names = model.spec.code_names()
    metrics = open(run / "metrics.jsonl", "a")  # noqa: SIM115 - kept open for the whole loop
    window: dict[str, torch.Tensor] = {}
    window_steps, train_seconds, window_start = 0, 0.0, time.perf_counter()
    progress = tqdm(total=total_steps, initial=step, desc="train", unit="step", dynamic_ncols=True, disable=None)

    def checkpoint() -> None:
        state = {
            "config": config.to_dict(),
            "model": model.state_dict(),
            "optimizers": {name: opt.state_dict() for name, opt in optimizers.items()},
            "step": step,
            "epoch": epoch,
            "batch_in_epoch": batch_in_epoch,
            "rng": {"torch": torch.get_rng_state(), "latent": latent_rng.get_state(), "data_epoch": epoch_rng_state},
        }
        save_checkpoint(state, run / "checkpoints" / "latest.pt")
        if config.keep_epoch_checkpoints and batch_in_epoch == 0:
            shutil.copyfile(run / "checkpoints" / "latest.pt", run / "checkpoints" / f"epoch-{epoch:04d}.pt")

    model.train()
    last: dict[str, float] = {}
    while step < total_steps:
        # --- one epoch: a permutation from the state the epoch started with (exact on resume)
        data_rng.set_state(epoch_rng_state)
        order = batches(data, config.batch_size, data_rng)
        for indices in order[batch_in_epoch:]:
            start = time.perf_counter()
            real = to_unit_range(images[indices].to(device, non_blocking=True))
            latent = sample_latent(model.spec, config.batch_size, latent_rng, device)
            losses = train_step(model, optimizers, real, latent, config, step)
            for key, value in losses.items():
                window[key] = window.get(key, 0) + value
            step, batch_in_epoch, window_steps = step + 1, batch_in_epoch + 1, window_steps + 1
            train_seconds += time.perf_counter() - start
            progress.update()

            # --- log: mean losses over the window, L_I = H(c) - NLL per code, images/s
            if step % config.log_every == 0 or step == total_steps or batch_in_epoch == len(order):
                last = summarise_window(window, window_steps, names, entropies)
                elapsed = time.perf_counter() - window_start
                record = {"event": "step", "step": step, "epoch": epoch + batch_in_epoch / len(order), **last}
                record.update({f"lr_{k}": opt.param_groups[0]["lr"] for k, opt in optimizers.items()})
                record["images_per_s"] = window_steps * config.batch_size / elapsed
                metrics.write(json.dumps(record) + "\n")
                metrics.flush()
                progress.set_postfix(loss_d=f"{last['loss_d']:.3f}", loss_g=f"{last['loss_g']:.3f}")
                window, window_steps, window_start = {}, 0, time.perf_counter()
            if step >= total_steps:
                break

        # --- end of an epoch (or of the run): images from the fixed latents, checkpoint
        if batch_in_epoch == len(order):
            epoch, batch_in_epoch, epoch_rng_state = epoch + 1, 0, data_rng.get_state()
        generate.recalibrate_batch_norm(model, config.batch_size, config.seed)
        write_epoch_images(model, run, epoch, config.seed)
        checkpoint()
        metrics.write(json.dumps({"event": "epoch", "step": step, "epoch": epoch, **last}) + "\n")
        metrics.flush()
    progress.close()
    metrics.close()

    summary = {
        "steps": step,
        "epochs": step / steps_per_epoch,
        "images_seen": step * config.batch_size,
        "train_seconds": train_seconds,
        "images_per_s": step * config.batch_size / train_seconds if train_seconds else None,
        "data": data.name,
        "data_images": len(data),
        "device": str(device),
        "torch": torch.__version__,
        "final": last,
    }
    (run / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    log.info("run written to %s", run)
    return run


def summarise_window(
    window: dict[str, torch.Tensor], count: int, names: list[str], entropies: list[float]
) -> dict[str, float]:
    """Mean losses of a logging window; a non-finite loss stops the run before anything is saved."""
    nll = (window["nll"] / count).tolist()
    out = {"loss_d": float(window["loss_d"] / count), "loss_g": float(window["loss_g"] / count)}
    if "loss_cr" in window:  # the contrastive regulariser's cross-entropy, when it is on
        out["loss_cr"] = float(window["loss_cr"] / count)
    for name, value, entropy in zip(names, nll, entropies, strict=True):
        out[f"nll_{name}"] = value
        out[f"mi_{name}"] = entropy - value
    if not all(math.isfinite(v) for v in out.values()):
        raise InfoGANError(
            f"a loss became non-finite ({out}): lower the learning rates or check the data; "
            "the last good checkpoint is kept"
        )
    return out


def place_images(data: ImageData, device: torch.device) -> torch.Tensor:
    """Keep the uint8 data set on the GPU when it fits in a quarter of its memory, else pinned in host
    memory for asynchronous copies; on the CPU as it is."""
    if device.type != "cuda":
        return data.images
    free, _ = torch.cuda.mem_get_info(device)
    if data.images.numel() < free // 4:
        return data.images.to(device)
    return data.images.pin_memory()
