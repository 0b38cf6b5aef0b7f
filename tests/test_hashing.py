"""The data fingerprint: the model cache's and the published models' key to a data set."""

import numpy as np
import pytest

from mnist_compression.hashing import data_fingerprint


def _digits(count=3):
    return (np.arange(count * 28 * 28) % 251).astype(np.uint8).reshape(count, 28, 28, 1)


def test_the_fingerprint_is_fixed_on_every_stack():
    """Published manifests name models by keys made on one stack and read on the other."""
    assert data_fingerprint(_digits(), np.arange(4)) == "f4964bc2d97e7f70"


@pytest.mark.parametrize("order", [[2, 0, 1], [1, 2, 0], [2, 1, 0]])
def test_the_same_examples_in_another_order_have_the_same_fingerprint(order):
    """tfds and the IDX files hold the same MNIST digits in different orders."""
    digits, labels = _digits(), np.arange(4)
    assert data_fingerprint(digits[order], labels[::-1]) == data_fingerprint(digits, labels)


def test_other_data_have_other_fingerprints():
    digits, labels = _digits(), np.arange(4)
    reference = data_fingerprint(digits, labels)
    changed = digits.copy()
    changed[1, 5, 5, 0] ^= 1
    others = [data_fingerprint(changed, labels), data_fingerprint(digits[:2], labels),
              data_fingerprint(digits, labels[:3]), data_fingerprint(labels, digits),
              data_fingerprint(digits, labels.astype(np.int32)), data_fingerprint(digits),
              data_fingerprint(digits.reshape(3, 28, 28), labels),
              data_fingerprint(digits[[0, 0, 2]], labels)]
    assert len({reference, *others}) == 1 + len(others)


def test_examples_are_rows_so_their_pixels_are_not_sorted():
    digits = _digits(2)
    swapped = digits.copy()
    swapped[0, 0, :2] = digits[0, 0, 1::-1]
    assert data_fingerprint(swapped) != data_fingerprint(digits)
    assert data_fingerprint(digits[:0]) == data_fingerprint(np.zeros((0, 28, 28, 1), np.uint8))
