"""What the notebooks measure per latent: its information content under the prior, the entropy
of its values, and the gap between them (the KL a misfit prior wastes)."""

import numpy as np

from mnist_compression.model.entropy_models import NoisyLogistic
from mnist_compression.study.evaluation import bits_per_latent, empirical_entropy_bits


def test_the_empirical_entropy_counts_each_latents_values():
    latents = np.array([[0, 5, 1], [0, 5, 2], [1, 5, 3], [1, 5, 4]])
    assert np.allclose(empirical_entropy_bits(latents), [1.0, 0.0, 2.0])


def test_a_prior_spends_at_least_the_entropy_and_its_misfit_is_the_kl():
    rng = np.random.default_rng(0)
    latents = np.stack([rng.integers(-1, 2, 4000), np.zeros(4000, np.int64)], axis=1)
    prior = NoisyLogistic(loc=np.zeros(2, np.float32), scale=np.array([2.0, 0.05], np.float32))
    spent = bits_per_latent(prior, latents)
    ideal = empirical_entropy_bits(latents)
    # By hand: the empirical pmf is about uniform on {-1, 0, 1}, so the KL is the cross-entropy
    # -mean log2 p(v) under the prior minus log2 3; the collapsed latent costs almost nothing.
    shares = np.array([np.mean(latents[:, 0] == v) for v in (-1, 0, 1)])
    mass = np.array([float(prior.prob(np.array([[v, 0.0]], np.float32))[0, 0]) for v in (-1, 0, 1)])
    assert np.isclose(spent[0], -(shares * np.log2(mass)).sum(), rtol=1e-5)
    assert np.isclose(ideal[0], -(shares * np.log2(shares)).sum())
    assert spent[0] - ideal[0] > 0.05 and ideal[1] == 0 and 0 <= spent[1] < 1e-3
