"""Choose one run out of several without labels: `infogan select`.

Every run encodes the same real images; runs are ranked by ModelCentrality (metrics/agreement.py),
their mean agreement with the others. Categorical codes are compared through their partitions of
the images; without a categorical code, continuous codes are compared as InfoGAN-CR's paper does,
by the FactorVAE score of run A's Q on images that run B generated, B's codes being the factors.
Where the images have labels, each run's ACC and NMI are shown beside its centrality, with the
rank correlation between the two, so a user sees whether the choice worked on their data.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

from infogan.data import load_dataset
from infogan.errors import InfoGANError
from infogan.files import write_text
from infogan.generate import encode, generate
from infogan.latent import sample_latent
from infogan.metrics.agreement import SIMILARITIES, centrality, consensus_partition, similarity_matrix
from infogan.metrics.clustering import clustering_scores
from infogan.metrics.disentanglement import compute_factor_vae
from infogan.run_folder import Run, load_run

CRITERIA = ("centrality", "consensus")
SELECT_FILE = "select.json"


@dataclass
class Selection:
    """The ranking of runs (best first), the run to use, and how the choice compares with the labels."""

    runs: list[str]
    criterion: str
    similarity: str
    codes: str
    data: str
    matrix: list[list[float]]
    rows: list[dict[str, float | str]]  # best first: run, centrality, consensus_nmi, and acc/nmi/ari with labels
    selected: str
    spearman_acc: float | None = None  # rank correlation of the criterion with ACC over the runs
    consensus: dict[str, float] = field(default_factory=dict)  # the consensus partition's ACC/NMI/ARI

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2) + "\n"


def find_runs(folders: list[str | Path]) -> list[Path]:
    """Run folders named directly, or held one level down (a sweep's seed-K folders), in order."""
    runs = []
    for folder in map(Path, folders):
        if not folder.is_dir():
            raise InfoGANError(f"{folder} is not a folder: pass run folders or a sweep's folder")
        found = (
            [folder]
            if (folder / "config.json").is_file()
            else sorted((p for p in folder.iterdir() if (p / "config.json").is_file()), key=_natural)
        )
        if not found:
            raise InfoGANError(f"{folder} holds no runs (no config.json in it or its subfolders)")
        runs += found
    seen: dict[Path, Path] = {}
    for run in runs:  # the same folder twice, or through a link: a run agrees with itself perfectly
        if run.resolve() in seen:
            raise InfoGANError(f"{run} and {seen[run.resolve()]} are the same run: pass each run once")
        seen[run.resolve()] = run
    if len(runs) < 2:
        raise InfoGANError(f"select compares runs: found only {runs[0]}, pass at least two")
    for run in runs:
        if not (run / "checkpoints" / "latest.pt").is_file():
            raise InfoGANError(f"{run} has no checkpoints/latest.pt: let it finish (or resume it), or leave it out")
    return runs


def _natural(path: Path) -> tuple:
    """seed-2 before seed-10."""
    stem, _, number = path.name.rpartition("-")
    return (stem, int(number), "") if number.isdigit() else (path.name, -1, path.name)


def check_comparable(runs: list[Run]) -> None:
    """Runs are compared code by code, on one data set: same latent codes, same kind of images."""
    first = runs[0].config
    for run in runs[1:]:
        config = run.config
        for name, ours, theirs in (
            ("latent codes", (first.categorical, first.continuous), (config.categorical, config.continuous)),
            (
                "data set",
                (first.dataset, first.image_size, first.channels),
                (config.dataset, config.image_size, config.channels),
            ),
        ):
            if ours != theirs:
                raise InfoGANError(
                    f"{run.directory} has {name} {theirs}, not {ours} as {runs[0].directory}: select compares runs "
                    "of one setup"
                )


def select_runs(
    folders: list[str | Path],
    data_dir: str | None = None,
    split: str = "test",
    similarity: str = "nmi",
    criterion: str = "centrality",
    codes: str = "auto",
    votes: int = 300,
    seed: int = 0,
    device: str = "auto",
) -> Selection:
    """Rank the runs in `folders` without labels and name the one to use (see the module docstring).

    codes: "categorical" (partitions of real images), "continuous" (FactorVAE of one run's Q on the other's
    samples, `votes` votes per pair), or "auto" (categorical when the runs have a categorical code).
    """
    if similarity not in SIMILARITIES:
        raise InfoGANError(f"--similarity {similarity!r}: choose from {', '.join(SIMILARITIES)}")
    if criterion not in CRITERIA:
        raise InfoGANError(f"--criterion {criterion!r}: choose from {', '.join(CRITERIA)}")
    paths = find_runs(folders)
    runs = [load_run(path, device) for path in paths]
    check_comparable(runs)
    spec = runs[0].model.spec
    if codes == "auto":
        codes = "categorical" if spec.categorical else "continuous"
    if codes == "categorical" and not spec.categorical:
        raise InfoGANError("the runs have no categorical code: use --codes continuous")
    if codes == "continuous" and spec.continuous < 2:
        raise InfoGANError("comparing continuous codes needs at least two of them (FactorVAE's score)")
    if criterion == "consensus" and codes != "categorical":
        raise InfoGANError("--criterion consensus pools partitions: it needs --codes categorical")

    scores: dict[str, np.ndarray] = {}
    labels, consensus, data_name = None, None, "images generated by each run"
    if codes == "categorical":
        data = load_dataset(runs[0].config, split, data_dir)
        labels, data_name = data.labels, f"{data.name}, {len(data)} images"
        partitions = np.stack([encode(run.model, data.images)[0][0].argmax(1).numpy() for run in runs])  # (R, N)
        matrix = similarity_matrix(partitions, similarity)
        scores["centrality"] = centrality(matrix)
        consensus = consensus_partition(partitions, spec.categorical[0], seed)
        scores["consensus_nmi"] = np.array([SIMILARITIES["nmi"](p, consensus) for p in partitions])
    else:
        matrix = factor_vae_matrix(runs, votes, seed)
        scores["centrality"] = centrality(matrix)
    ranked_by = scores["centrality" if criterion == "centrality" else "consensus_nmi"]

    rows = []
    for i, path in enumerate(paths):
        row: dict[str, float | str] = {"run": str(path), **{name: float(values[i]) for name, values in scores.items()}}
        if labels is not None:
            row.update(clustering_scores(labels.numpy(), partitions[i]))
        rows.append(row)
    order = np.argsort(-ranked_by, kind="stable")
    selection = Selection(
        runs=[str(p) for p in paths],
        criterion=criterion,
        similarity=similarity if codes == "categorical" else "factor_vae",
        codes=codes,
        data=data_name,
        matrix=matrix.round(6).tolist(),
        rows=[rows[i] for i in order],
        selected=str(paths[order[0]]),
    )
    if labels is not None:
        selection.spearman_acc = spearman([float(r["acc"]) for r in rows], list(ranked_by))
        selection.consensus = clustering_scores(labels.numpy(), consensus)
    return selection


def spearman(a: list[float], b: list[float]) -> float | None:
    """Spearman's rank correlation; None where it is undefined (fewer than three runs, or ties everywhere)."""
    from scipy.stats import spearmanr

    if len(a) < 3 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return None
    return float(spearmanr(a, b).statistic)


class GeneratedFactors:
    """A run's generator as a ground truth (metrics.disentanglement.GroundTruth): its continuous codes,
    each quantised to `levels` values across [-1, 1], are the factors; noise and categories are drawn."""

    def __init__(self, run: Run, levels: int = 10):
        self.run, self.levels = run, levels
        self.factor_sizes = (levels,) * run.model.spec.continuous

    def sample(self, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        factors = rng.integers(0, self.levels, size=(n, len(self.factor_sizes)))
        return factors, self.observe(factors, rng)

    def observe(self, factors: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """uint8 images (n, C, H, W), as real images reach Q."""
        latent = sample_latent(
            self.run.model.spec, len(factors), torch.Generator().manual_seed(int(rng.integers(2**62)))
        )
        latent.continuous = torch.from_numpy(-1 + (2 * factors + 1) / self.levels).float()
        images = generate(self.run.model, latent)  # (n, C, H, W) in [-1, 1]
        return images.add(1).mul(127.5).round().clamp(0, 255).to(torch.uint8).numpy()


def factor_vae_matrix(runs: list[Run], votes: int, seed: int) -> np.ndarray:
    """(R, R): entry [a, b] the FactorVAE score of run a's continuous codes, with run b's codes as the factors;
    the diagonal is each run scored on its own codes. Symmetrised, as agreement is a property of a pair."""
    matrix = np.zeros((len(runs), len(runs)))
    for b, truth in enumerate(runs):
        for a, reader in enumerate(runs):
            represent = lambda images, reader=reader: encode(reader.model, torch.from_numpy(images))[1].numpy()  # noqa: E731
            score = compute_factor_vae(
                GeneratedFactors(truth),
                represent,
                seed + b,
                num_train=votes,
                num_eval=votes // 2,
                num_variance_estimate=max(1000, 4 * votes),
            )
            matrix[a, b] = score["factor_vae_eval_accuracy"]
    return (matrix + matrix.T) / 2


def format_selection(selection: Selection) -> str:
    """The ranking as an aligned table, then the selected run and, with labels, how the choice did."""
    columns = [key for key in selection.rows[0] if key != "run"]
    width = max(len(str(row["run"])) for row in selection.rows)
    lines = [f"{'run':<{width}}  " + "  ".join(f"{c:>13}" for c in columns)]
    for row in selection.rows:
        mark = "  <- selected" if row["run"] == selection.selected else ""
        lines.append(f"{row['run']:<{width}}  " + "  ".join(f"{float(row[c]):>13.3f}" for c in columns) + mark)
    lines.append(
        f"ranked by {selection.criterion} ({selection.codes} codes, {selection.similarity}) on {selection.data}"
    )
    if "acc" in selection.rows[0]:
        accs = [float(row["acc"]) for row in selection.rows]
        rho = "undefined" if selection.spearman_acc is None else f"{selection.spearman_acc:.2f}"
        lines.append(
            f"selected ACC {accs[0]:.3f}; over the {len(accs)} runs median {np.median(accs):.3f}, min {min(accs):.3f}, "
            f"max {max(accs):.3f}; Spearman({selection.criterion}, ACC) = {rho}"
        )
        lines.append(f"consensus partition of all runs: ACC {selection.consensus['acc']:.3f}")
    lines.append(f"selected: {selection.selected}")
    return "\n".join(lines)


def write_selection(selection: Selection, out: Path) -> Path:
    """select.json, replaced atomically, so an earlier one is never left half written."""
    out.parent.mkdir(parents=True, exist_ok=True)
    return write_text(out, selection.to_json())
