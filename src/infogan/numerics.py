"""Bitwise-reproducible CPU arithmetic across processes: Intel MKL's strict numerical reproducibility mode.

By default MKL chooses among code paths at run time, and in a fresh process the first vector-math
calls (the tanh of G's output layer) sometimes round differently from later ones: a run resumed in a
new process then drifted from the uninterrupted run (3 of 15 fresh processes here; none of 10 in
this mode). MKL reads MKL_CBWR at its first call, so the package sets it on import, before any
computation; a user's own MKL_CBWR wins. Cost: none measurable (benchmarks/train_speed.py).
"""

from __future__ import annotations

import os

MKL_MODE = "AUTO,STRICT"  # the fastest code path this CPU supports, with results independent of threads and timing


def reproducible_cpu_math() -> None:
    """Ask MKL for strict conditional numerical reproducibility unless the user chose a mode."""
    os.environ.setdefault("MKL_CBWR", MKL_MODE)
