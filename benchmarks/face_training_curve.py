"""Sample quality and D overfitting over a run's training: every step checkpoint, in step order.

For each checkpoint (RUN/checkpoints/step-NNNNNNNN.pt) it measures
- sample quality: FD, precision and recall of N generated images against N held-out real ones in the
  domain classifier's feature space (faces: the attribute classifier's), as the metric `sample_quality`
  does, beside its real-vs-real floor (N training images against the same held-out ones), once per run;
- D overfitting: D's mean probability of "real" (sigmoid of its logit, eval mode) on N training images,
  on the N held-out ones and on N generated ones, and its accuracy at telling held-out real from
  generated (threshold 0.5). On a small set D can learn the training images themselves: it then rates
  them above held-out ones, the gap Karras et al. 2020 (ADA) watch.

Checkpoints already measured in --json (with the same --samples) are skipped and the file is written
after each checkpoint, so the command resumes and is cheap to rerun while a run trains.

    python benchmarks/face_training_curve.py /work/faces/paper-s0 --data ../shared/data/celeba-10k \\
        --classifiers /work/faces/classifiers --json paper-s0-curve.json
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch

from infogan import load_run
from infogan.checkpoint import saved_steps
from infogan.data import labelled_splits, to_unit_range
from infogan.files import write_json
from infogan.generate import generate, in_eval_chunks
from infogan.latent import sample_latent
from infogan.metrics.domain_classifier import Classifier, load_classifier
from infogan.metrics.sample_quality import quality, real_samples, weak_features
from infogan.networks import InfoGAN
from infogan.run_folder import Run

COLUMNS = {  # figure: (heading, format)
    "step": ("step", "{:,}"),
    "images_seen": ("images seen", "{:,}"),
    "fd": ("FD", "{:.2f}"),
    "precision": ("precision", "{:.3f}"),
    "recall": ("recall", "{:.3f}"),
    "d_train": ("D(train real)", "{:.3f}"),
    "d_held_out": ("D(held-out real)", "{:.3f}"),
    "d_fake": ("D(fake)", "{:.3f}"),
    "d_accuracy": ("D acc held-out vs fake", "{:.3f}"),
}


@dataclass
class Reference:
    """The real images every checkpoint of a run is measured on, and the feature space that compares them."""

    classifier: Classifier
    held_out: torch.Tensor  # uint8 (N, C, H, W): the reference of FD, precision, recall
    train: torch.Tensor  # uint8 (N, C, H, W): the real-vs-real floor's samples
    note: str


def load_reference(run: Run, data_dir: str | None, classifiers: str | None, samples: int, seed: int) -> Reference:
    classifier = load_classifier(run.config, data_dir, classifiers)
    splits = labelled_splits(run.config, data_dir, need_labels=classifier.attributes is None)
    held_out, train = real_samples(splits, samples, seed)
    note = f"{len(held_out)} samples against {len(held_out)} test images ({splits.note})"
    return Reference(classifier, held_out, train, note)


def real_probability(model: InfoGAN, images: torch.Tensor) -> torch.Tensor:
    """D's probability that each image is real, sigmoid(d_head(trunk(x))) in eval mode: (N,) on the CPU."""

    def read(chunk: torch.Tensor) -> torch.Tensor:
        logits, _ = model.discriminate(to_unit_range(chunk) if chunk.dtype == torch.uint8 else chunk)
        return logits.float().sigmoid().cpu()

    return torch.cat(in_eval_chunks(model, read, images))


def measure(run: Run, reference: Reference, seed: int) -> dict[str, float]:
    """One checkpoint's figures: sample quality against the held-out images, and D on each set."""
    count = len(reference.held_out)
    fake = generate(run.model, sample_latent(run.model.spec, count, torch.Generator().manual_seed(seed)))
    d_train, d_held_out, d_fake = (real_probability(run.model, x) for x in (reference.train, reference.held_out, fake))
    # as many fakes as held-out images: the accuracy is the mean of the two sides' hit rates
    accuracy = ((d_held_out >= 0.5).double().mean() + (d_fake < 0.5).double().mean()) / 2
    return {
        **quality(reference.classifier, reference.held_out, fake),
        "d_train": d_train.mean().item(),
        "d_held_out": d_held_out.mean().item(),
        "d_fake": d_fake.mean().item(),
        "d_accuracy": accuracy.item(),
    }


def images_per_step(run_dir: Path, batch_size: int) -> int:
    """A step takes batch_size images on each process; summary.json says how many processes (a run that
    has not finished a session has none yet: one)."""
    summary = run_dir / "summary.json"
    return batch_size * (json.loads(summary.read_text())["processes"] if summary.is_file() else 1)


def step_of(checkpoint: Path) -> int:
    return int(checkpoint.stem.removeprefix("step-"))


def measure_run(run_dir: Path, entry: dict, args: argparse.Namespace, save: Callable[[], None]) -> None:
    """Add the figures of the run's checkpoints not yet in `entry` (and its floor), saving after each."""
    done = {row["step"] for row in entry["checkpoints"]}
    reference = None
    for checkpoint in saved_steps(run_dir / "checkpoints"):
        if step_of(checkpoint) in done:
            continue
        run = load_run(run_dir, args.device, checkpoint.name)
        if reference is None:
            reference = load_reference(run, args.data, args.classifiers, args.samples, args.seed)
            entry["note"] = reference.note
            entry["classifier"] = f"{reference.classifier.score_name} {reference.classifier.test_score:.3f}"
            entry["floor"] = quality(reference.classifier, reference.held_out, reference.train)
        row = {"step": run.step, "images_seen": run.step * images_per_step(run_dir, run.config.batch_size)}
        entry["checkpoints"].append({**row, **measure(run, reference, args.seed)})
        entry["checkpoints"].sort(key=lambda r: r["step"])
        entry["caveat"] = weak_features(reference.classifier, entry["checkpoints"][-1], entry["floor"])
        save()
        print(f"{run_dir} step {run.step:,}: done", flush=True)


def table(rows: list[dict]) -> str:
    """The rows as right-aligned columns under their headings."""
    cells = [[heading for heading, _ in COLUMNS.values()]]
    cells += [[form.format(row[key]) for key, (_, form) in COLUMNS.items()] for row in rows]
    widths = [max(len(line[i]) for line in cells) for i in range(len(COLUMNS))]
    return "\n".join("  ".join(cell.rjust(width) for cell, width in zip(line, widths, strict=True)) for line in cells)


def report(run_dir: Path, entry: dict) -> str:
    if not entry["checkpoints"]:
        return f"{run_dir}: no step checkpoints yet"
    floor = entry["floor"]
    return (
        f"{run_dir}: {entry['note']}; classifier: {entry['classifier']}\n"
        f"real-vs-real floor: FD {floor['fd']:.2f}, precision {floor['precision']:.3f}, "
        f"recall {floor['recall']:.3f}\n{table(entry['checkpoints'])}"
        + (f"\nCAUTION, last step: {entry['caveat']}" if entry["caveat"] else "")
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="+", type=Path, metavar="RUN")
    parser.add_argument("--data", help="the data folder (default: the run's)")
    parser.add_argument("--classifiers", help="the classifier cache (default: infogan's)")
    parser.add_argument("--samples", type=int, default=2000, help="images in each set (default: 2000)")
    parser.add_argument("--seed", type=int, default=0, help="draws the real images and the latents")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--json", type=Path, help="keeps the figures; checkpoints already in it are skipped")
    args = parser.parse_args(argv)

    results = json.loads(args.json.read_text()) if args.json and args.json.is_file() else {}

    def save() -> None:
        if args.json:
            write_json(args.json, results)

    for run_dir in args.runs:
        key = str(run_dir.resolve())
        if results.get(key, {}).get("samples") != args.samples:  # figures of another sample size: start over
            results[key] = {"samples": args.samples, "checkpoints": []}
        measure_run(run_dir, results[key], args, save)
        print(report(run_dir, results[key]), flush=True)
    save()


if __name__ == "__main__":
    main()
