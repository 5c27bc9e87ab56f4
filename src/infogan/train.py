"""The training loop of InfoGAN: `train`, whose steps mirror the objective.

Each step, as in the authors' code:
  (1) update D: maximise log D(x) + log(1 - D(G(z, c))), and, when L_I trains the shared trunk,
      maximise lambda * L_I on the same fake batch (trunk and Q head take this gradient);
  (2) update G: maximise log D(G(z, c)) + lambda * L_I (and the Q head here when L_I does not train
      the trunk).
The options beyond the paper join through one marked hook per phase: IMSAT's term on real images in
(1) (imsat.py), InfoGAN-CR's contrastive regulariser in (2) (contrastive.py). The loop around the step
(`Trainer.fit`) is a sequence of named phases: batch, step, log, evaluate, checkpoint, end of epoch,
with when each runs decided in one place (`due`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import shlex
import time
from dataclasses import dataclass
from pathlib import Path

import torch

from infogan import contrastive, distributed, generate, imsat, precision
from infogan.config import SNAPSHOT_SHARE, TrainConfig
from infogan.data import ImageData, batches, load_dataset, to_unit_range
from infogan.distributed import Processes
from infogan.errors import InfoGANError, TrainingInterrupted, first_line
from infogan.files import write_json
from infogan.interrupt import StopRequests
from infogan.latent import Latent, sample_latent
from infogan.lock import locked_folder
from infogan.losses import code_entropies, discriminator_loss, full_precision, generator_loss, information_loss
from infogan.networks import InfoGAN, build_model, resolve_device
from infogan.run_folder import (
    Position,
    check_run_folder,
    checkpoint_state,
    clear_run_folder,
    nonfinite_advice,
    resume_from_latest,
    save_run_checkpoint,
)
from infogan.training_log import LossWindow, Progress, TrainingLog, optional_terms, shown_progress
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
    """One D update then --g-steps G updates on a batch of real images (B, C, H, W) in [-1, 1]; `step` (0-based)
    schedules the contrastive regulariser; `augmented`, a randomly warped copy of `real`, feeds the
    real-image clustering term of --real-cluster-weight.

    Under torchrun each phase averages its gradients over `processes` before stepping.
    Returns detached losses: loss_d, loss_g (adversarial parts), nll (n_codes,) of the codes,
    skipped: how many of the 1 + g_steps updates --skip-nonfinite skipped, loss_cr while the contrastive
    regulariser is on and loss_real_cluster with --real-cluster-weight.
    """
    autocast = precision.autocast(config.precision, real.device)
    weights = (config.info_weight_cat, config.info_weight_cont)
    out: dict[str, torch.Tensor] = {}
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
            info_d, _ = information_loss(full_precision(model.q_head(fake_features)), latent, *weights)
            loss_d_total = loss_d + info_d
        if imsat.active(config):  # beyond the paper: + w * (KL(Q(x) || Q(aug(x))) - I(x; c)) on real images
            loss_real_cluster = imsat.discriminator_term(model, real_features, augmented)
            loss_d_total = loss_d_total + config.real_cluster_weight * loss_real_cluster
            out["loss_real_cluster"] = loss_real_cluster.detach()
    loss_d_total.backward()
    trains_q = config.info_trains_trunk or imsat.active(config)
    stepped = [optimizers["d"], *([optimizers["q"]] if trains_q else [])]
    updated_d = _update(stepped, loss_d_total, processes, config.skip_nonfinite)

    # (2) update G: min softplus(-D(G(z, c))) + lambda * (-L_I); D's weights take no gradient.
    #     --g-steps K takes K such updates on the same latents (InfoGAN-CR's code: 2), the first on this fake batch
    updated_g = 0
    for g_step in range(config.g_steps):
        if g_step:
            with autocast:
                fake = model.generator(latent.generator_input(model.spec))
        loss_g, nll, loss_cr, updated = _generator_update(
            model, optimizers, latent, fake, config, processes, step, autocast, train_cr_head=g_step == 0
        )
        updated_g += updated
        if loss_cr is not None:
            out["loss_cr"] = loss_cr
    skipped = torch.tensor(1 + config.g_steps - updated_d - updated_g)
    return {"loss_d": loss_d.detach(), "loss_g": loss_g, "nll": nll, "skipped": skipped, **out}


def _generator_update(
    model: InfoGAN,
    optimizers: dict[str, torch.optim.Adam],
    latent: Latent,
    fake: torch.Tensor,
    config: TrainConfig,
    processes: Processes | None,
    step: int,
    autocast: torch.autocast,
    train_cr_head: bool,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None, bool]:
    """One G update on `fake` = G(latent) (and Q's head when L_I does not train the trunk; InfoGAN-CR's
    head H once per step, on `train_cr_head`): (loss_g, nll, loss_cr or None, whether it stepped)."""
    weights = (config.info_weight_cat, config.info_weight_cont)
    model.zero_grad(set_to_none=True)
    with autocast:
        features = model.trunk(fake)
        loss_g = generator_loss(model.d_head(features).float())
        info_g, nll = information_loss(full_precision(model.q_head(features)), latent, *weights)
        loss_g_total = loss_g + info_g
    stepped = [optimizers["g"], *([] if config.info_trains_trunk else [optimizers["q"]])]
    inputs = [p for optimizer in stepped for p in _parameters(optimizer)]
    loss_cr = contrastive.generator_term(model, latent, fake, step, config, autocast, train_head=train_cr_head)
    if loss_cr is not None:  # beyond the paper: + alpha * L_CR, InfoGAN-CR's contrastive regulariser
        if train_cr_head:
            stepped.append(optimizers["cr"])
        loss_g_total = loss_g_total + config.cr_weight * loss_cr
    loss_g_total.backward(inputs=inputs)
    updated = _update(stepped, loss_g_total, processes, config.skip_nonfinite)
    return loss_g.detach(), nll, None if loss_cr is None else loss_cr.detach(), updated


def _parameters(optimizer: torch.optim.Optimizer) -> list[torch.Tensor]:
    return [p for group in optimizer.param_groups for p in group["params"]]


class NonFiniteUpdate(InfoGANError):
    """A step from a finite loss and finite gradients made the weights non-finite (a learning rate too large):
    skipping the step cannot help, as every later one would do the same."""


def _update(
    optimizers: list[torch.optim.Adam], loss: torch.Tensor, processes: Processes | None, skip_nonfinite: bool
) -> bool:
    """Average the phase's gradients over processes, then step its optimizers; returns whether it stepped.

    With skip_nonfinite the update is skipped when the loss or any gradient is non-finite on any
    process (the loss joins the all-reduce, so every process takes the same decision), and an update
    that still makes the weights non-finite raises NonFiniteUpdate (the weights are equal on every
    process, and so is the decision); this costs two device syncs per phase, so it is only checked when asked.
    """
    gradients = [p.grad for optimizer in optimizers for p in _parameters(optimizer) if p.grad is not None]
    checked = [loss.detach().float().reshape(1).clone(), *gradients]
    if processes is not None:
        processes.average(checked)
    if skip_nonfinite and not _finite(checked):
        return False
    for optimizer in optimizers:
        optimizer.step()
    if skip_nonfinite and not _finite([p for optimizer in optimizers for p in _parameters(optimizer)]):
        rates = ", ".join(f"{group['lr']:g}" for optimizer in optimizers for group in optimizer.param_groups)
        raise NonFiniteUpdate(
            f"an update from a finite loss and gradients made the weights non-finite (learning rates {rates}): "
            "--skip-nonfinite skips bad batches, not a learning rate too large"
        )
    return True


def _finite(tensors: list[torch.Tensor]) -> bool:
    """Whether every value of every tensor is finite: one device sync."""
    return bool(torch.stack([t.isfinite().all() for t in tensors]).all())


def write_epoch_images(model: InfoGAN, run: Path, epoch: int, seed: int) -> None:
    """Sample grid (every categorical code) and one traversal per continuous code, from latents fixed
    by the run's seed, their rows labelled."""
    images, columns = generate.sample_grid(model, seed)
    save_grid(images, columns, run / "samples" / f"epoch-{epoch:04d}.png", generate.sample_grid_rows(model.spec))
    for code in range(model.spec.continuous):
        images, columns = generate.traversal(model, code, seed)
        path = run / "traversals" / f"epoch-{epoch:04d}-cont{code}.png"
        save_grid(images, columns, path, generate.traversal_rows(model.spec))


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
                held.enter_context(locked_folder(run))
                check_run_folder(run, resume, overwrite)

            processes.on_main(claim)
            held.enter_context(shown_progress())
            return Trainer(config, run, resume, processes, device).fit()
    except NonFiniteUpdate as error:  # no checkpoint follows it: the last good one is kept
        raise InfoGANError(f"{error}: {nonfinite_advice(run, skipping=True)}") from None
    except RuntimeError as error:
        if not out_of_memory(error):
            raise
        raise InfoGANError(
            f"out of memory on {device} ({first_line(error)[:200]}): lower --batch-size or the latent sizes"
        ) from None
    finally:
        distributed.stop(processes)


def out_of_memory(error: RuntimeError) -> bool:
    """torch.OutOfMemoryError on CUDA; the CPU allocator raises a plain RuntimeError."""
    return isinstance(error, torch.OutOfMemoryError) or "can't allocate memory" in str(error)


def within_share(snapshot_seconds: float, snapshots: int, elapsed: float, share: float = SNAPSHOT_SHARE) -> bool:
    """Whether one more snapshot, as long as the past ones on average, keeps all of them within `share`
    of the `elapsed` seconds (the first one always may)."""
    expected = snapshot_seconds / snapshots if snapshots else 0.0
    return snapshot_seconds + expected <= share * elapsed


@dataclass(frozen=True)
class Due:
    """What follows a step: a log line, the end of an epoch, a clustering score, the end of the loop, a
    snapshot (checkpoint, pictures and clustering score), a checkpoint alone."""

    log: bool
    epoch_end: bool
    evaluate: bool
    end: bool
    snapshot: bool
    checkpoint: bool


def due(
    config: TrainConfig,
    position: Position,
    epoch_batches: int,
    total_steps: int,
    stopping: bool,
    since_snapshot: int,
    share_left: bool,
) -> Due:
    """The cadence rules in one place, after the step that brought training to `position`.

    A snapshot (Trainer.snapshot) comes at the end of the run or a stop, and at the end of an epoch
    once --snapshot-every steps have passed since the last one, unless snapshots have taken more than
    SNAPSHOT_SHARE of the session (`share_left` False): a set of 2,000 images has 31-step epochs, and
    a checkpoint, pictures and a score each time took a fifth of such a run. Every checkpoint follows
    a log line, so a non-finite loss stops the run before it is saved.
    """
    step = position.step
    saving = config.checkpoint_every > 0 and step % config.checkpoint_every == 0
    epoch_end = position.batch_in_epoch == epoch_batches
    end = step >= total_steps or stopping
    snapshot = end or (epoch_end and since_snapshot >= config.snapshot_every and share_left)
    return Due(
        log=step % config.log_every == 0 or snapshot or saving,  # snapshot: the end, a stop, or an epoch end
        epoch_end=epoch_end,
        evaluate=bool(config.eval_every) and step % config.eval_every == 0 and not snapshot,
        end=end,
        snapshot=snapshot,
        checkpoint=saving and not snapshot,
    )


class Trainer:
    """One training run: the networks, the data, the random streams, the position and the log; `fit`
    is the loop, and each of its phases a method."""

    def __init__(self, config: TrainConfig, run: Path, resume: bool, processes: Processes, device: torch.device):
        # --precision auto becomes what this device runs natively, saved so that a resume keeps it
        resolved, self.precision_reason = precision.resolve_precision(config.precision, device)
        config = dataclasses.replace(config, precision=resolved)
        self.config, self.run, self.processes, self.device = config, run, processes, device
        rank, world_size = processes.rank, processes.world_size
        # --- data, model, optimizers; every random stream seeded from config.seed (latents also by rank)
        torch.manual_seed(config.seed)
        self.data = load_dataset(config)
        if len(self.data) // world_size < config.batch_size:
            raise InfoGANError(
                f"--batch-size {config.batch_size} (per process) is larger than the data set: {self.data.name} "
                f"holds {len(self.data)} images over {world_size} process(es): pass a smaller --batch-size, "
                "or --data with more images"
            )
        self.images = place_images(self.data, device)
        # channels-last convolutions: the same math, 15-20% faster per step on this CPU (benchmarks/train_speed.py)
        self.model = build_model(config).to(device, memory_format=torch.channels_last)
        compile_networks(self.model, config.compile)
        self.optimizers = make_optimizers(self.model, config)
        self.data_rng = torch.Generator().manual_seed(config.seed)  # batch order, the same on every process
        self.latent_rng = torch.Generator().manual_seed(config.seed + 1 + (rank << 32))  # the batches' latents
        self.position = Position(0, 0, 0, self.data_rng.get_state())
        if resume:
            self.position = resume_from_latest(
                run, self.model, self.optimizers, config, self.latent_rng, rank, world_size, len(self.data)
            )
        processes.broadcast_state(self.model)  # replicas start identical
        if processes.is_main:
            if not resume:
                clear_run_folder(run)
            config.save(run / "config.json")

        self.steps_per_epoch = len(self.data) // world_size // config.batch_size
        self.total_steps = config.steps or config.epochs * self.steps_per_epoch
        if processes.is_main:
            epochs = (self.total_steps - self.position.step) / self.steps_per_epoch
            log.info(
                "training %d steps (%.1f epochs of %s) on %s in %s (%s), from the preset %s",
                self.total_steps - self.position.step,
                epochs,
                self.data.name,
                device,
                config.precision,
                self.precision_reason,
                config.preset,
            )
        spec = self.model.spec
        self.metrics = TrainingLog(run, config, self.data.name) if processes.is_main else None  # metrics.jsonl
        self.window = LossWindow(spec.code_names(), code_entropies(spec), device, optional_terms(config))
        self.progress = Progress(self.total_steps, self.position.step, processes.is_main)
        self.last: dict[str, float] = {}  # the last window's mean losses
        self.train_seconds = 0.0  # the steps' own time in this session, without what follows them
        self.started, self.first_step = time.perf_counter(), self.position.step
        self.last_snapshot, self.snapshots, self.snapshot_seconds = self.position.step, 0, 0.0

    def fit(self) -> Path:
        """Epochs of batches until the step budget is spent; SIGINT or SIGTERM stops after the current
        step with a checkpoint and raises TrainingInterrupted."""
        config, position, processes = self.config, self.position, self.processes
        self.model.train()
        with StopRequests() as signals:
            stopping = False
            while position.step < self.total_steps and not stopping:
                # --- one epoch: a permutation from the state the epoch started with (exact on resume)
                self.data_rng.set_state(position.epoch_rng)
                order = batches(self.data, config.batch_size, self.data_rng, processes.rank, processes.world_size)
                for indices in order[position.batch_in_epoch :]:
                    start = time.perf_counter()
                    real, latent, augmented = self.batch(indices)  # --- batch
                    losses = train_step(  # --- step: (1) update D, (2) update G
                        self.model, self.optimizers, real, latent, config, processes, position.step, augmented
                    )
                    self.window.add(losses)
                    position.step, position.batch_in_epoch = position.step + 1, position.batch_in_epoch + 1
                    seconds = time.perf_counter() - start
                    self.train_seconds += seconds
                    self.progress.update(seconds)
                    stopping = processes.any(signals.requested is not None)
                    epoch_end = position.batch_in_epoch == len(order)
                    since = position.step - self.last_snapshot
                    # the share is asked (of every process) only when a snapshot is otherwise due
                    share_left = epoch_end and since >= config.snapshot_every and self.snapshot_share_left()
                    now = due(config, position, len(order), self.total_steps, stopping, since, share_left)
                    if now.log:  # --- log
                        self.log_window(len(order))
                    if now.epoch_end:  # --- end of epoch: the next one's permutation, an "epoch" line
                        self.end_epoch()
                    if now.evaluate and self.metrics is not None:  # --- evaluate: the clustering score
                        self.metrics.write_clustering(self.model, position.step, self.epochs_done(len(order)))
                    if now.snapshot:  # --- snapshot: checkpoint, pictures, clustering score
                        self.snapshot(len(order), epoch_written=now.epoch_end)
                    elif now.checkpoint:  # --- checkpoint
                        self.checkpoint()
                    if now.end:
                        break
        self.progress.close()
        if self.metrics is not None:
            self.metrics.close()
        if stopping:
            raise TrainingInterrupted(
                f"stopped by {signals.requested or 'a signal to another process'} after step {position.step} of "
                f"{self.total_steps}; checkpoint saved: resume with "
                f"`infogan train --resume {shlex.quote(str(self.run))}`",
                signals.number or 15,
            )
        return self.finish()

    def batch(self, indices: torch.Tensor) -> tuple[torch.Tensor, Latent, torch.Tensor | None]:
        """Real images (B, C, H, W) in [-1, 1], their latents and, with the IMSAT term, a warped copy; latents
        and warps come from this process's latent generator, in that order."""
        real = to_unit_range(self.images[indices].to(self.device, non_blocking=True))
        latent = sample_latent(self.model.spec, self.config.batch_size, self.latent_rng, self.device)
        augmented = imsat.warped_copy(real, self.config, self.latent_rng) if imsat.active(self.config) else None
        return real, latent, augmented

    def epochs_done(self, epoch_batches: int) -> float:
        return self.position.epoch + self.position.batch_in_epoch / epoch_batches

    def log_window(self, epoch_batches: int) -> None:
        """A "step" line: the window's mean losses over its steps and the processes, L_I = H(c) - NLL per
        code, learning rates and images/s."""
        window, images_per_step = self.window, self.config.batch_size * self.processes.world_size
        self.last = window.summarise(self.processes, self.run)
        elapsed = time.perf_counter() - window.start
        record = {"event": "step", "step": self.position.step, "epoch": self.epochs_done(epoch_batches), **self.last}
        record.update({f"lr_{k}": opt.param_groups[0]["lr"] for k, opt in self.optimizers.items()})
        record["images_per_s"] = (window.steps + window.skipped) * images_per_step / elapsed
        self.write(record)
        self.progress.show(record)
        window.reset()

    def checkpoint(self) -> None:
        """G's batch-norm statistics, a check that the weights are finite and equal on every process, then save."""
        model, processes = self.model, self.processes
        recalibrate_batch_norm(model, self.config.batch_size, self.config.seed)
        processes.broadcast_state(model)
        if not all(bool(t.isfinite().all()) for t in model.state_dict().values() if t.is_floating_point()):
            raise InfoGANError(
                f"the weights became non-finite by step {self.position.step}: "
                f"{nonfinite_advice(self.run, self.config.skip_nonfinite)}"
            )
        fingerprints = processes.check_identical(model)
        latents = processes.gather(self.latent_rng.get_state())  # each process draws its own latents
        if processes.is_main:
            state = checkpoint_state(self.config, model, self.optimizers, self.position, latents, len(self.data))
            saved = save_run_checkpoint(self.run, state, self.config)
            record = {"event": "checkpoint", "step": self.position.step, "file": saved.name}
            self.write({**record, "replica_fingerprints": fingerprints})

    def end_epoch(self) -> None:
        """The position moves to the next epoch, whose permutation starts from the batch-order generator's
        state now (a checkpoint then resumes there exactly); an "epoch" line."""
        position = self.position
        position.epoch, position.batch_in_epoch, position.epoch_rng = position.epoch + 1, 0, self.data_rng.get_state()
        self.write({"event": "epoch", "step": position.step, "epoch": position.epoch, **self.last})

    def snapshot(self, epoch_batches: int, epoch_written: bool) -> None:
        """Checkpoint, images from the fixed latents and the clustering score (and at the run's end or a
        stop within an epoch, its "epoch" line); its time counts against SNAPSHOT_SHARE."""
        start, position = time.perf_counter(), self.position
        self.checkpoint()
        if self.processes.is_main:
            write_epoch_images(self.model, self.run, position.epoch, self.config.seed)
        if not epoch_written:
            self.write({"event": "epoch", "step": position.step, "epoch": position.epoch, **self.last})
        if self.metrics is not None:
            self.metrics.write_clustering(self.model, position.step, self.epochs_done(epoch_batches))
        self.last_snapshot, self.snapshot_seconds = position.step, self.snapshot_seconds + time.perf_counter() - start
        self.snapshots += 1

    def snapshot_share_left(self) -> bool:
        """within_share for this session so far; every process takes the answer of the slowest (a checkpoint
        is collective)."""
        elapsed = time.perf_counter() - self.started
        return not self.processes.any(not within_share(self.snapshot_seconds, self.snapshots, elapsed))

    def finish(self) -> Path:
        """summary.json: how long, how fast, on what. The time is this session's (a resumed run's earlier
        sessions are not in it), and so is the speed: its steps over its time."""
        if self.processes.is_main:
            step, images_per_step = self.position.step, self.config.batch_size * self.processes.world_size
            session = step - self.first_step
            summary = {
                "steps": step,
                "epochs": step / self.steps_per_epoch,
                "images_seen": step * images_per_step,
                "processes": self.processes.world_size,
                "session_steps": session,
                "train_seconds": self.train_seconds,
                "images_per_s": session * images_per_step / self.train_seconds if self.train_seconds else None,
                "snapshot_seconds": self.snapshot_seconds,
                "session_seconds": time.perf_counter() - self.started,
                "data": self.data.name,
                "data_images": len(self.data),
                "device": str(self.device),
                "precision": self.config.precision,
                "torch": torch.__version__,
                "final": self.last,
            }
            write_json(self.run / "summary.json", summary)
            log.info("run written to %s", self.run)
        return self.run

    def write(self, record: dict) -> None:
        if self.metrics is not None:
            self.metrics.write(record)


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
