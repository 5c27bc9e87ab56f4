"""Procedural dSprites: the factor grid, the measured geometry, and the original file's layout."""

import numpy as np
import pytest

from infogan.data import dsprites
from infogan.errors import InfoGANError

SQUARE, ELLIPSE, HEART = 0, 1, 2


def grid(shape: int, scale: int, orientation: int, pos_x, pos_y) -> np.ndarray:
    """Factor classes (N, 5) for one shape, scale and orientation at the given positions."""
    pos_x, pos_y = np.broadcast_arrays(np.atleast_1d(pos_x), np.atleast_1d(pos_y))
    fixed = np.broadcast_to([shape, scale, orientation], (len(pos_x), 3))
    return np.column_stack([fixed, pos_x, pos_y])


def centroid(images: np.ndarray) -> np.ndarray:
    """(x, y) of each image's on pixels (N, 2), measured at pixel centres."""
    rows, cols = np.indices(images.shape[1:]) + 0.5
    mass = images.sum(axis=(1, 2))  # (N,)
    x = (images * cols).sum(axis=(1, 2)) / mass
    y = (images * rows).sum(axis=(1, 2)) / mass
    return np.stack([x, y], axis=1)


def test_factor_grid_matches_the_original_file():
    assert dsprites.FACTOR_SIZES == (3, 6, 40, 32, 32)
    assert dsprites.NUM_IMAGES == 737_280
    assert [len(v) for v in dsprites.FACTOR_VALUES] == list(dsprites.FACTOR_SIZES)
    np.testing.assert_array_equal(dsprites.FACTOR_VALUES[0], [1.0, 2.0, 3.0])
    np.testing.assert_allclose(dsprites.FACTOR_VALUES[1], [0.5, 0.6, 0.7, 0.8, 0.9, 1.0])
    assert dsprites.FACTOR_VALUES[2][0] == 0.0
    assert dsprites.FACTOR_VALUES[2][-1] == pytest.approx(2 * np.pi)
    np.testing.assert_allclose(np.diff(dsprites.FACTOR_VALUES[3]), 1 / 31)


def test_index_is_mixed_radix_with_pos_y_fastest():
    classes = np.array(
        [[0, 0, 0, 0, 1], [0, 0, 0, 1, 0], [0, 0, 1, 0, 0], [0, 1, 0, 0, 0], [1, 0, 0, 0, 0], [2, 5, 39, 31, 31]]
    )
    np.testing.assert_array_equal(dsprites.classes_to_index(classes), [1, 32, 1024, 40960, 245760, 737279])
    indices = np.random.default_rng(0).integers(0, dsprites.NUM_IMAGES, 1000)
    np.testing.assert_array_equal(dsprites.classes_to_index(dsprites.index_to_classes(indices)), indices)


def test_bad_classes_and_indices_are_refused():
    with pytest.raises(InfoGANError):
        dsprites.render(np.array([[3, 0, 0, 0, 0]]))
    with pytest.raises(InfoGANError):
        dsprites.render(np.array([0, 0, 0, 0, 0]))
    with pytest.raises(InfoGANError):
        dsprites.index_to_classes(np.array([dsprites.NUM_IMAGES]))
    with pytest.raises(InfoGANError):
        dsprites.render_values(np.array([[1.0, 1.5, 0.0, 0.5, 0.5]]))


def test_images_are_binary_and_deterministic():
    classes = dsprites.sample_factors(64, np.random.default_rng(1))
    images = dsprites.render(classes)
    assert images.shape == (64, 64, 64)
    assert images.dtype == np.uint8
    assert set(np.unique(images)) <= {0, 1}
    assert (images.sum(axis=(1, 2)) > 0).all()
    np.testing.assert_array_equal(images, dsprites.render(classes))


@pytest.mark.parametrize(("shape", "unit_area"), [(SQUARE, 19.2**2), (ELLIPSE, np.pi * 12.8 * 7.2)])
def test_area_grows_with_the_square_of_scale(shape, unit_area):
    # Averaged over all 32 x 32 positions, the sub-pixel offsets average out the pixelisation, so the
    # mean pixel count matches the continuous area to well under 1%.
    pos_x, pos_y = np.meshgrid(np.arange(32), np.arange(32))
    for scale_class, scale in enumerate(dsprites.FACTOR_VALUES[1]):
        images = dsprites.render(grid(shape, scale_class, 0, pos_x.ravel(), pos_y.ravel()))
        assert images.sum(axis=(1, 2)).mean() == pytest.approx(unit_area * scale**2, rel=0.01)


def test_square_looks_the_same_after_a_quarter_turn_and_a_full_turn():
    values = dsprites.classes_to_values(grid(SQUARE, 5, 0, np.arange(32), np.arange(32)[::-1]))
    turned = values.copy()
    turned[:, 2] = np.pi / 2
    straight, quarter = dsprites.render_values(values), dsprites.render_values(turned)
    assert np.abs(straight.astype(int) - quarter).sum(axis=(1, 2)).max() <= 2
    full_turn = dsprites.render(grid(SQUARE, 5, 39, np.arange(32), np.arange(32)[::-1]))
    assert np.abs(straight.astype(int) - full_turn).sum(axis=(1, 2)).max() <= 2


def test_ellipse_lies_along_x_at_orientation_zero_and_turns_counterclockwise():
    values = dsprites.classes_to_values(grid(ELLIPSE, 5, 0, 15, 15))
    flat = dsprites.render_values(values)[0]
    assert np.any(flat, axis=0).sum() > 1.5 * np.any(flat, axis=1).sum()  # width > 1.5 x height
    values[:, 2] = np.pi / 4  # long axis from lower left to upper right on screen (y down)
    tilted = dsprites.render_values(values)[0].astype(float)
    rows, cols = np.indices(tilted.shape)
    rows, cols = rows - rows[tilted > 0].mean(), cols - cols[tilted > 0].mean()
    assert (tilted * rows * cols).sum() < 0  # x and y anti-correlated: up-right / down-left


def test_heart_has_its_lobes_up_and_its_tip_down():
    heart = dsprites.render(grid(HEART, 5, 0, 15, 15))[0]
    rows = np.nonzero(heart.any(axis=1))[0]
    centre_row = 16 + 32 * 15 / 31  # pixel rows above it have centres with y < centre
    widths = heart.sum(axis=1)
    assert widths[rows[0] : int(centre_row)].sum() > widths[int(centre_row) :].sum()  # more mass above
    assert widths[rows[-1]] <= 2  # a pointed tip at the bottom
    assert heart[rows[0]].sum() < widths.max()  # a notch between the lobes on top
    top = heart[rows[0] + 1]
    assert top[int(centre_row)] == 0 and top[: int(centre_row)].any() and top[int(centre_row) + 1 :].any()


def test_position_moves_the_centroid_by_32_over_31_pixels_per_class():
    steps = np.arange(32)
    expected = 16 + 32 * steps / 31
    along_x = centroid(dsprites.render(grid(ELLIPSE, 5, 0, steps, 7)))
    along_y = centroid(dsprites.render(grid(SQUARE, 3, 0, 20, steps)))
    np.testing.assert_allclose(along_x[:, 0], expected, atol=0.5)
    np.testing.assert_allclose(along_y[:, 1], expected, atol=0.5)
    np.testing.assert_allclose(along_x[:, 1], 16 + 32 * 7 / 31, atol=0.5)  # moving in x leaves y alone
    # At the two ends the centre lies on a pixel boundary, so the symmetric shapes centre exactly.
    np.testing.assert_allclose(along_x[[0, -1], 0], [16.0, 48.0])


def test_dataset_serves_images_latents_and_samples():
    data = dsprites.DSprites()
    assert len(data) == 737_280
    indices = np.array([0, 1, 12345, 737_279])
    classes = data.latents_classes(indices)
    np.testing.assert_array_equal(classes[-1], [2, 5, 39, 31, 31])
    np.testing.assert_allclose(data.latents_values(indices)[-1], [3.0, 1.0, 2 * np.pi, 1.0, 1.0])
    np.testing.assert_array_equal(data.images(indices), dsprites.render(classes))
    factors, images = data.sample(10, np.random.default_rng(2))
    assert factors.shape == (10, 5) and images.shape == (10, 64, 64)
    np.testing.assert_array_equal(images, dsprites.render(factors))
    np.testing.assert_array_equal(images, data.observe(factors, np.random.default_rng(3)))
    same_factors, same_images = dsprites.sample_images_and_factors(10, np.random.default_rng(2))
    np.testing.assert_array_equal(same_factors, factors)
    np.testing.assert_array_equal(same_images, images)


def test_dataset_reads_images_from_a_current_cache(tmp_path):
    # A hand-made cache whose every pixel is on shows the images come from the file, not the renderer.
    packed = np.full((dsprites.NUM_IMAGES, 64, 8), 255, dtype=np.uint8)
    np.savez(tmp_path / "dsprites.npz", packed_imgs=packed, version=dsprites._CACHE_VERSION)
    data = dsprites.DSprites()
    assert data.load_cache(tmp_path) == tmp_path / "dsprites.npz"
    assert data.images(np.array([0, 5])).min() == 1


def test_write_npz_follows_the_original_layout(tmp_path):
    indices = np.array([0, 7, 40_000, 737_279])
    path = tmp_path / "dsprites_subset.npz"
    dsprites.write_npz(path, indices)
    with np.load(path) as data:
        keys = {"imgs", "latents_values", "latents_classes", "latents_names", "latents_sizes"}
        assert set(data.files) == keys
        assert data["imgs"].shape == (4, 64, 64) and data["imgs"].dtype == np.uint8
        assert data["latents_classes"].dtype == np.int64 and data["latents_values"].dtype == np.float64
        classes = dsprites.index_to_classes(indices)
        np.testing.assert_array_equal(data["imgs"], dsprites.render(classes))
        np.testing.assert_array_equal(data["latents_classes"][:, 0], 0)
        np.testing.assert_array_equal(data["latents_values"][:, 0], 1.0)
        np.testing.assert_array_equal(data["latents_classes"][:, 1:], classes)
        np.testing.assert_allclose(data["latents_values"][:, 1:], dsprites.classes_to_values(classes))
        assert list(data["latents_names"]) == ["color", "shape", "scale", "orientation", "posX", "posY"]
        np.testing.assert_array_equal(data["latents_sizes"], [1, 3, 6, 40, 32, 32])
