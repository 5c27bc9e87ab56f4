"""A run folder written before the modules moved still loads, resumes and is written the same way.

tests/fixtures/old-run holds a dSprites run (2 steps of 8, --cr-weight 1 --cr-start 1) as infogan wrote it
at commit 359dd4e: its config.json and the layout of its checkpoints/latest.pt, every key in order with
each tensor's dtype and shape (values too for the random-number states and tensors of at most 16 numbers).
The real file is 6 MB of weights; rebuilt from the layout with made-up weights it has the same format,
keys, shapes and random-number states, which is what a loader depends on. Options added since then
are new keys of the config and change nothing else.
"""

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from infogan.checkpoint import load_checkpoint, save_checkpoint
from infogan.cli import main
from infogan.config import RENAMED_OPTIONS
from infogan.data import dsprites
from infogan.run_folder import load_run

FIXTURE = Path(__file__).parent / "fixtures" / "old-run"
LAYOUT = json.loads((FIXTURE / "checkpoint-layout.json").read_text())


def rebuild(node: dict, generator: torch.Generator):
    """The value a layout node describes; tensors without recorded values get small positive numbers
    (zeros for integers), so that Adam's second moments and batch-norm variances stay valid."""
    if "tensor" in node:
        dtype = getattr(torch, node["tensor"])
        if "hex" in node:
            return torch.frombuffer(bytearray.fromhex(node["hex"]), dtype=torch.uint8).reshape(node["shape"])
        if "values" in node:
            return torch.tensor(node["values"], dtype=dtype).reshape(node["shape"])
        if dtype.is_floating_point:
            return (torch.rand(node["shape"], generator=generator) * 0.01).to(dtype)
        return torch.zeros(node["shape"], dtype=dtype)
    if "dict" in node:
        return {key: rebuild(item, generator) for key, item in node["dict"]}
    if "tuple" in node:
        return tuple(rebuild(item, generator) for item in node["tuple"])
    if "list" in node:
        return [rebuild(item, generator) for item in node["list"]]
    return node["value"]


def layout(value) -> dict:
    """The layout node of a value, without values: what must stay the same for old files to load."""
    if isinstance(value, torch.Tensor):
        return {"tensor": str(value.dtype).removeprefix("torch."), "shape": list(value.shape)}
    if isinstance(value, dict):
        return {"dict": [[key, layout(item)] for key, item in value.items()]}
    if isinstance(value, (tuple, list)):
        return {type(value).__name__: [layout(item) for item in value]}
    return {"value": type(value).__name__}


def without_values(node: dict) -> dict:
    return layout(rebuild(node, torch.Generator().manual_seed(0)))


@pytest.fixture(scope="module")
def old_run(module_tmp) -> Path:
    """The fixture as a run folder, over the same 64 sprites it was trained on."""
    folder = module_tmp("old")
    data = folder / "subset.npz"
    dsprites.write_npz(data, np.arange(0, dsprites.NUM_IMAGES, dsprites.NUM_IMAGES // 64))
    run = folder / "run"
    state = rebuild(LAYOUT["state"], torch.Generator().manual_seed(0))
    state["config"] = {**state["config"], "data_dir": str(data), "out": str(run)}
    save_checkpoint(state, run / "checkpoints" / "latest.pt")
    config = json.loads((FIXTURE / "config.json").read_text())
    (run / "config.json").write_text(json.dumps({**config, "data_dir": str(data), "out": str(run)}))
    return run


def test_an_old_checkpoint_loads_for_inference(old_run):
    run = load_run(old_run, "cpu")
    assert run.step == 2 and run.config.cr_weight == 1 and run.model.cr_head is not None
    assert load_checkpoint(old_run / "checkpoints" / "latest.pt")["format"] == LAYOUT["format"]


def test_an_old_run_resumes_and_new_checkpoints_keep_the_layout(old_run):
    main(["train", "--resume", str(old_run), "--steps", "3"])
    state = load_checkpoint(old_run / "checkpoints" / "latest.pt")
    assert state["step"] == 3 and state["format"] == LAYOUT["format"]
    saved = {key: value for key, value in state.items() if key not in ("format", "checksum", "config")}
    old = [[key, node] for key, node in LAYOUT["state"]["dict"] if key != "config"]
    assert layout(saved) == without_values({"dict": old})
    old_options = {key for key, _ in dict(LAYOUT["state"]["dict"])["config"]["dict"]}
    renamed = {RENAMED_OPTIONS.get(key, key) for key in old_options}  # amp became precision, read by from_dict
    assert set(state["config"]) >= renamed  # options added since are new keys beside the old ones
