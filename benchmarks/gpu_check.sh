#!/usr/bin/env bash
# The CUDA path, measured in one run of under 8 minutes: bash benchmarks/gpu_check.sh OUTDIR [--dry-run] [--site DIR]
#
# Writes OUTDIR/gpu_check.json (every figure, every stage's rc and time) and OUTDIR/gpu_check.log; the stages
# are described in benchmarks/gpu_check.py. Nothing is installed: the GPU machine has the CUDA build of torch
# and no network, so the project runs from src/ on PYTHONPATH with the machine's python3 (this checkout's
# .venv when it has one; PYTHON=... to choose). Without a CUDA device, or with --dry-run, every stage runs
# on the CPU for a few steps.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ -z "${PYTHON:-}" ]]; then
    if [[ -x .venv/bin/python ]]; then PYTHON=.venv/bin/python; else PYTHON=python3; fi
fi
exec "$PYTHON" benchmarks/gpu_check.py "$@"
