import math

import pytest
import torch

from infogan.imsat import consistency_loss, real_clustering_loss
from infogan.latent import Latent, LatentSpec
from infogan.losses import (
    HALF_LOG_2PI,
    categorical_nll,
    code_entropies,
    discriminator_loss,
    gaussian_nll,
    generator_loss,
    information_loss,
)


def make_latent(categorical, continuous):
    categorical = torch.tensor(categorical)
    return Latent(torch.zeros(len(categorical), 1), categorical, torch.tensor(continuous))


def test_adversarial_losses_at_an_undecided_discriminator():
    zero = torch.zeros(4)
    assert discriminator_loss(zero, zero).item() == pytest.approx(2 * math.log(2))  # -log 1/2 twice
    assert generator_loss(zero).item() == pytest.approx(math.log(2))


def test_adversarial_losses_hand_computed():
    real, fake = torch.tensor([2.0]), torch.tensor([-1.0])
    # -log sigmoid(2) - log(1 - sigmoid(-1))
    expected = -math.log(1 / (1 + math.exp(-2))) - math.log(1 - 1 / (1 + math.exp(1)))
    assert discriminator_loss(real, fake).item() == pytest.approx(expected)
    assert generator_loss(fake).item() == pytest.approx(-math.log(1 / (1 + math.exp(1))))


def test_categorical_nll_uses_raw_logits():
    latent = make_latent([[0], [1]], [[0.0], [0.0]])
    uniform = [torch.zeros(2, 4)]
    assert categorical_nll(uniform, latent).item() == pytest.approx(math.log(4))
    logits = [torch.tensor([[2.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]])]
    first = -math.log(math.exp(2) / (math.exp(2) + 3))
    assert categorical_nll(logits, latent).item() == pytest.approx((first + math.log(4)) / 2)


def test_gaussian_nll_fixed_and_learned_std():
    latent = make_latent([[0]], [[0.5, -1.0]])
    means = torch.tensor([[0.5, 0.0]])
    fixed = gaussian_nll(means, None, latent)
    assert fixed.tolist() == pytest.approx([HALF_LOG_2PI, 0.5 + HALF_LOG_2PI])
    log_std = torch.tensor([[math.log(0.5), math.log(0.5)]])
    learned = gaussian_nll(means, log_std, latent)
    # log sigma + (c - mu)^2 / (2 sigma^2) + log(2 pi)/2 with sigma = 0.5
    assert learned.tolist() == pytest.approx([math.log(0.5) + HALF_LOG_2PI, math.log(0.5) + 2.0 + HALF_LOG_2PI])


def test_learned_std_is_clamped():
    latent = make_latent([[0]], [[0.0]])
    tiny = gaussian_nll(torch.zeros(1, 1), torch.full((1, 1), -50.0), latent)
    assert tiny.item() == pytest.approx(math.log(0.05) + HALF_LOG_2PI)


def test_information_loss_weights_and_bound():
    spec = LatentSpec(noise=1, categorical=(4,), continuous=1)
    latent = make_latent([[2], [3]], [[0.0], [0.0]])
    q = ([torch.zeros(2, 4)], torch.zeros(2, 1), None)
    loss, nll = information_loss(q, latent, cat_weight=1.0, cont_weight=0.1)
    assert loss.item() == pytest.approx(math.log(4) + 0.1 * HALF_LOG_2PI)
    assert nll.tolist() == pytest.approx([math.log(4), HALF_LOG_2PI])
    assert code_entropies(spec) == pytest.approx([math.log(4), math.log(2)])


def test_a_perfect_q_reaches_the_entropy_of_a_categorical_code():
    latent = make_latent([[0], [1], [2]], [[0.0]] * 3)
    perfect = [torch.eye(3) * 100]
    assert categorical_nll(perfect, latent).item() == pytest.approx(0.0, abs=1e-6)  # L_I = H(c) - 0


def test_real_clustering_loss_hand_computed():
    k = 4
    confident_balanced = [torch.eye(k) * 100]  # each image sure of its own category, all used equally
    assert real_clustering_loss(confident_balanced).item() == pytest.approx(-math.log(k), abs=1e-6)
    undecided = [torch.zeros(6, k)]  # H(mean p) = H(p) = ln k: no information
    assert real_clustering_loss(undecided).item() == pytest.approx(0.0, abs=1e-6)
    collapsed = [torch.tensor([[100.0, 0, 0, 0]] * 6)]  # confident, but one category for every image
    assert real_clustering_loss(collapsed).item() == pytest.approx(0.0, abs=1e-6)
    # two images, p = (1/2, 1/2) and (1, 0): E H(p) = ln 2 / 2, mean p = (3/4, 1/4)
    logits = [torch.tensor([[0.0, 0.0], [100.0, 0.0]])]
    marginal = -(0.75 * math.log(0.75) + 0.25 * math.log(0.25))
    assert real_clustering_loss(logits).item() == pytest.approx(math.log(2) / 2 - marginal, abs=1e-6)
    two_codes = [*confident_balanced, torch.zeros(4, 3)]  # summed over codes
    assert real_clustering_loss(two_codes).item() == pytest.approx(-math.log(k), abs=1e-6)


def test_consistency_loss_is_the_kl_to_the_unaugmented_prediction():
    logits = [torch.tensor([[2.0, 0.0, -1.0]])]
    assert consistency_loss(logits, [logits[0].clone()]).item() == pytest.approx(0.0, abs=1e-7)
    augmented = [torch.tensor([[0.0, 0.0, 0.0]], requires_grad=True)]
    p = torch.softmax(logits[0], 1)[0]
    expected = sum(pi * (math.log(pi) - math.log(1 / 3)) for pi in p.tolist())  # KL(p || uniform)
    loss = consistency_loss(logits, augmented)
    assert loss.item() == pytest.approx(expected, rel=1e-5)
    loss.backward()
    assert augmented[0].grad.abs().sum() > 0  # the augmented side learns; the target side is detached
