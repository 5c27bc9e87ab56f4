"""Naming continuous codes by measured image properties: each estimator against hand-made images with known
answers, the Spearman maths against scipy, a fake generator whose codes are wired to known effects, and the
`codes` metric end to end through `infogan evaluate`."""

import json
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from scipy.stats import spearmanr

from infogan.cli import main
from infogan.latent import Latent, LatentSpec
from infogan.metrics.code_effects import code_effects, distinct_clear_names, spearman_along_rows
from infogan.metrics.image_properties import measure


def canvas(size: int = 56) -> tuple[np.ndarray, np.ndarray]:
    """Pixel-centre coordinates (x right, y up) of a size x size image, origin at its centre."""
    rows, columns = np.mgrid[0:size, 0:size].astype(np.float64)
    return columns - (size - 1) / 2, (size - 1) / 2 - rows


def to_image(mask: np.ndarray) -> np.ndarray:
    """A boolean mask as a grey image in [-1, 1]: ink 1, ground -1."""
    return np.where(mask, 1.0, -1.0)[None]


@pytest.mark.parametrize("angle", [-40, -25, -10, 0, 10, 25, 40])
def test_slant_of_a_bar_is_its_angle_from_vertical(angle):
    x, y = canvas()
    theta = math.radians(angle)  # the bar's top leans right by `angle` degrees
    along, across = x * math.sin(theta) + y * math.cos(theta), x * math.cos(theta) - y * math.sin(theta)
    bar = (np.abs(along) <= 20) & (np.abs(across) <= 1.5)
    assert measure(to_image(bar))["slant"][0] == pytest.approx(angle, abs=1.0)


@pytest.mark.parametrize(("width", "height"), [(3, 17), (10, 10), (21, 5), (1, 1)])
def test_width_and_height_of_a_rectangle_are_its_sides(width, height):
    image = np.zeros((28, 28), bool)
    image[4 : 4 + height, 2 : 2 + width] = True
    measured = measure(to_image(image))
    assert measured["width"][0] == pytest.approx(width, abs=1e-9)
    assert measured["height"][0] == pytest.approx(height, abs=1e-9)
    assert measured["ink"][0] == pytest.approx(width * height, abs=1e-9)
    if width != height:  # a square has no principal axis
        assert measured["slant"][0] == pytest.approx(0 if height > width else -90, abs=1e-6)


def test_width_is_measured_after_undoing_the_slant():
    x, y = canvas()
    upright = (np.abs(x) <= 3) & (np.abs(y) <= 15)
    sheared = (np.abs(x - 0.5 * y) <= 3) & (np.abs(y) <= 15)  # the same bar slanted as handwriting is
    widths = measure(np.concatenate([to_image(upright), to_image(sheared)]))["width"]
    assert widths[0] == pytest.approx(6, abs=1e-9) and widths[1] == pytest.approx(6, abs=0.5)


@pytest.mark.parametrize("thickness", [1, 2, 3, 5])
def test_thickness_of_a_bar_is_exact_and_of_a_ring_close(thickness):
    bar = np.zeros((28, 28), bool)
    bar[10 : 10 + thickness, 3:23] = True  # horizontal
    assert measure(to_image(bar))["thickness"][0] == pytest.approx(thickness, abs=1e-9)
    x, y = canvas()
    radius = np.hypot(x, y)
    ring = (radius <= 20) & (radius > 20 - thickness)
    assert measure(to_image(ring))["thickness"][0] == pytest.approx(thickness, rel=0.3)


def test_ink_counts_grey_levels_and_an_empty_image_measures_zero():
    grey = np.full((1, 28, 28), -1.0)
    grey[0, 5, 5] = 0.0  # half ink
    measured = measure(grey)
    assert measured["ink"][0] == pytest.approx(0.5) and measured["thickness"][0] == 0
    empty = measure(np.full((2, 1, 28, 28), -1.0))
    assert all(np.isfinite(values).all() for values in empty.values())
    assert empty["ink"].tolist() == [0, 0] and empty["width"].tolist() == [1, 1]


def test_spearman_along_rows_matches_scipy_and_is_zero_for_constant_rows():
    rng = np.random.default_rng(0)
    values = rng.normal(size=(20, 9))
    values[3, 4] = values[3, 5]  # a tie
    expected = [spearmanr(np.arange(9), row).statistic for row in values]
    np.testing.assert_allclose(spearman_along_rows(values), expected, atol=1e-12)
    assert spearman_along_rows(np.ones((2, 9))).tolist() == [0, 0]


def fake_render(digit: torch.Tensor):
    """A 'generator' that rotates one fixed digit by 35 degrees times cont0 (top to the right for cont0 > 0)
    and adds fresh pixel noise to every image, so cont1, wired to nothing, still sees the images change."""

    def render(latent: Latent) -> torch.Tensor:
        theta = torch.deg2rad(35 * latent.continuous[:, 0])
        cos, sin = torch.cos(theta), torch.sin(theta)
        # affine_grid maps output to input coordinates (x right, y down): this turns the digit clockwise
        matrix = torch.stack([torch.stack([cos, sin, 0 * cos], 1), torch.stack([-sin, cos, 0 * cos], 1)], 1)
        ink = (digit.expand(len(latent), 1, 28, 28) + 1) / 2
        grid = F.affine_grid(matrix, [len(latent), 1, 28, 28], align_corners=False)
        turned = F.grid_sample(ink, grid, align_corners=False) * 2 - 1
        noise = torch.rand(len(latent), 1, 28, 28, generator=torch.Generator().manual_seed(0))  # new per image
        return (turned + 0.3 * noise).clamp(-1, 1)

    return render


def test_a_code_wired_to_rotation_is_named_slant_and_one_wired_to_nothing_is_at_chance(digits):
    images, labels = digits
    one = torch.from_numpy(images[int(np.flatnonzero(labels == 1)[0])]).float().reshape(1, 1, 28, 28) / 127.5 - 1
    spec = LatentSpec(noise=3, categorical=(), continuous=2)
    latents = 60
    effects = code_effects(spec, fake_render(one), measure, seed=0, latents=latents)
    rotated, idle = effects
    assert rotated.name == "slant" and rotated.rho["slant"] > 0.95 and rotated.clear
    assert rotated.change["slant"] == pytest.approx(70, abs=15)  # from -35 to +35 degrees
    assert not idle.clear and 0 < idle.chance < 0.2
    assert all(abs(rho) <= idle.chance + 0.05 for rho in idle.rho.values())
    assert distinct_clear_names(effects) == 1


def test_evaluate_reports_the_codes_and_draws_labelled_traversals(tmp_path, mnist_dir, capsys):
    run = tmp_path / "run"
    main(["train", "--data", str(mnist_dir), "--out", str(run), "--batch-size", "16", "--steps", "4"])
    main(["evaluate", str(run), "--metrics", "codes"])
    assert "cont1: " in capsys.readouterr().out
    report = json.loads((run / "evaluation.json").read_text())
    for code in ("cont0", "cont1"):
        for name in ("slant", "width", "height", "thickness", "ink"):
            assert -1 <= report["values"][f"{code}_rho_{name}"] <= 1
        assert 0 <= report["values"][f"{code}_rho_chance"] < 1
    assert 0 <= report["values"]["codes_named"] <= 2
    assert "cont0: " in report["notes"]["codes"] and (run / "codes.png").is_file()
