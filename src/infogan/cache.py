"""Where infogan keeps what it makes once and reuses: downloaded MNIST files, decoded image folders,
the rendered dSprites set and trained domain classifiers, all under one folder."""

from __future__ import annotations

import os
from pathlib import Path

from infogan.files import check_folder

CACHE_ENV = "INFOGAN_CACHE"  # moves every cache (the tests point it at a temporary folder)


def cache_dir(*parts: str) -> Path:
    """$INFOGAN_CACHE (else ~/.cache/infogan) joined with `parts`, read at each call so the variable
    takes effect whenever it is set. InfoGANError naming the variable when it leads to a file: every
    cache is looked up before the work it saves, so that is before any work is done."""
    root = Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "infogan")
    check_folder(root, CACHE_ENV, writable=False)  # a read-only cache still serves what it holds
    return root.joinpath(*parts)
