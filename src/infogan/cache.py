"""Where infogan keeps what it makes once and reuses: downloaded MNIST files, decoded image folders,
the rendered dSprites set and trained domain classifiers, all under one folder."""

from __future__ import annotations

import os
from pathlib import Path

CACHE_ENV = "INFOGAN_CACHE"  # moves every cache (the tests point it at a temporary folder)


def cache_dir(*parts: str) -> Path:
    """$INFOGAN_CACHE (else ~/.cache/infogan) joined with `parts`, read at each call so the variable
    takes effect whenever it is set."""
    return Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "infogan", *parts)
