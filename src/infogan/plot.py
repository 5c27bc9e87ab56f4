"""`infogan plot RUN`: curves of a run's metrics log, as one PNG of three panels.

Losses (D and G), the information bound L_I of each code against its maximum H(c), and the
clustering accuracy/NMI of each categorical code over training, beside the majority-class rate.
"""

from __future__ import annotations

from pathlib import Path

from matplotlib.figure import Figure  # pyplot-free: renders with Agg, no display or global state

from infogan.config import TrainConfig
from infogan.errors import InfoGANError
from infogan.files import atomic_write, read_json_lines
from infogan.losses import code_entropies


def read_metrics(run: Path) -> list[dict]:
    path = run / "metrics.jsonl"
    if not path.is_file():
        raise InfoGANError(f"{path} not found: is {run} a run folder written by `infogan train`?")
    return read_json_lines(path)


def series(records: list[dict], event: str, key: str) -> tuple[list[int], list[float]]:
    """(steps, values) of one field over the records of one event type."""
    pairs = [(r["step"], r[key]) for r in records if r.get("event") == event and key in r]
    return [p[0] for p in pairs], [p[1] for p in pairs]


def plot_run(run: str | Path, out: str | Path | None = None) -> Path:
    """Write the curves PNG (default RUN/curves.png) and return its path."""
    run = Path(run)
    records = read_metrics(run)
    spec = TrainConfig.load(run / "config.json").latent
    figure = Figure(figsize=(15, 4.2))
    losses, information, clustering = figure.subplots(1, 3)

    for key in ("loss_d", "loss_g"):
        losses.plot(*series(records, "step", key), label=key)
    losses.set(title="adversarial losses", xlabel="step")
    losses.legend()

    for name, entropy in zip(spec.code_names(), code_entropies(spec), strict=True):
        (line,) = information.plot(*series(records, "step", f"mi_{name}"), label=f"L_I {name}")
        information.axhline(entropy, color=line.get_color(), linestyle="--", linewidth=0.8)
    information.set(title="L_I per code (dashed: its maximum H(c))", xlabel="step", ylabel="nats")
    information.legend(fontsize=8)

    curves = 0
    for name in spec.code_names()[: len(spec.categorical)]:
        for metric in ("acc", "nmi"):
            steps, values = series(records, "eval", f"{name}_{metric}")
            if steps:
                clustering.plot(steps, values, marker="o", markersize=3, label=f"{name} {metric.upper()}")
                curves += 1
    steps, majority = series(records, "eval", "cat0_majority")  # the labels', the same for every code
    if steps:
        clustering.plot(steps, majority, color="grey", linestyle=":", label="majority class")
    clustering.set(title="clustering (ACC must clear the majority class)", xlabel="step", ylim=(0, 1))
    if curves:
        clustering.legend(fontsize=8)
    else:
        clustering.text(
            0.5,
            0.5,
            "no clustering score in metrics.jsonl\n(unlabelled data or no categorical code)",
            ha="center",
            va="center",
        )

    figure.tight_layout()
    path = Path(out or run / "curves.png")
    kind = path.suffix[1:].lower() or "png"
    if kind not in figure.canvas.get_supported_filetypes():
        raise InfoGANError(f"cannot draw curves as {path.suffix!r} ({path}): name the file .png, .pdf or .svg")
    with atomic_write(path) as handle:
        figure.savefig(handle, format=kind, dpi=90)
    return path
