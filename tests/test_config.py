import pytest

from infogan.config import PRESETS, TrainConfig, preset_config
from infogan.errors import InfoGANError


def test_presets_reproduce_the_reference_setups():
    mnist = preset_config("mnist")
    assert (mnist.noise, mnist.categorical, mnist.continuous) == (62, (10,), 2)
    assert mnist.real_cluster_weight == 1.0 and preset_config("mnist", real_cluster_weight=0).real_cluster_weight == 0
    assert mnist.real_cluster_shear == 20.0 and TrainConfig().real_cluster_shear == 0.0
    assert TrainConfig().real_cluster_gamma == 1.0
    alternative = preset_config("mnist-4cont")
    assert (alternative.noise, alternative.continuous) == (100, 4)
    celeba = preset_config("celeba")  # the paper's CelebA table
    assert (celeba.noise, celeba.categorical, celeba.continuous) == (128, (10,) * 10, 0)
    assert (celeba.image_size, celeba.channels, celeba.network) == (32, 3, "paper-celeba")
    wide = preset_config("celeba-64")  # the DCGAN 64x64 setup of reimplementations
    assert (wide.noise, wide.categorical, wide.image_size, wide.network) == (128, (10,) * 10, 64, "paper")
    assert preset_config("fashion-mnist").dataset == "fashion-mnist"
    assert all(p.reason for p in PRESETS.values())


def test_overrides_and_json_round_trip(tmp_path):
    config = preset_config("mnist", categorical=[10, 10], lr_g=2e-3)
    assert config.categorical == (10, 10) and config.preset == "mnist"
    config.save(tmp_path / "config.json")
    assert TrainConfig.load(tmp_path / "config.json") == config


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"noise": -1}, "--noise"),
        ({"noise_scale": 0.0}, "--noise-scale must be above 0"),
        ({"real_cluster_weight": 1.0, "categorical": ()}, "--real-cluster-weight needs a categorical code"),
        ({"real_cluster_shear": -5.0}, r"--real-cluster-shear must lie in \[0, 90\) degrees"),
        ({"real_cluster_stretch": 1.0}, r"--real-cluster-stretch must lie in \[0, 1\)"),
        ({"real_cluster_erase": 28}, r"--real-cluster-erase must lie in \[0, --image-size\)"),
        ({"real_cluster_gamma": 0.5}, r"--real-cluster-gamma must be 1 \(off\) or more"),
        ({"categorical": (1,)}, "--categorical sizes must be at least 2"),
        ({"categorical": (), "continuous": 0}, "--categorical or --continuous"),
        ({"batch_size": 1}, "--batch-size"),
        ({"lr_g": 0}, "learning rates"),
        ({"dataset": "imagenet"}, "--dataset"),
        ({"image_size": 48}, "--image-size"),
        ({"version": 99}, "newer than this infogan"),
    ],
)
def test_impossible_configs_name_the_flag(overrides, message):
    with pytest.raises(InfoGANError, match=message):
        preset_config("mnist", **overrides)


def test_unknown_preset_and_option():
    with pytest.raises(InfoGANError, match="unknown preset"):
        preset_config("cifar")
    with pytest.raises(InfoGANError, match="unknown option"):
        TrainConfig.from_dict({"nosie": 3})
