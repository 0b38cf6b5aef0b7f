"""Byte-for-byte agreement with tensorflow-compression, on every stack.

tests/fixtures/coding_golden.npz holds what tensorflow-compression 2.14.1 on TF 2.14 built and
wrote (tools/make_coding_fixture.py): tables for priors from scale 1e-3 to nearly the widest
codable, trained models' priors, non-zero locations and other precisions; strings for latents
inside and far outside the tables; and strings on which its decoder would hang. Whatever
TensorFlow this stack has, our tables and strings must equal those bytes.
"""

import numpy as np
import pytest
from helpers import FIXTURES

from mnist_compression.codec.entropy_coder import DecodeError
from mnist_compression.coding.range_coder import CodingTables, decode, encode
from mnist_compression.coding.tables import build_tables, quantization_offsets
from mnist_compression.model.entropy_models import (
    ContinuousBatchedEntropyModel,
    NoisyLogistic,
)

FIXTURE = FIXTURES / "coding_golden.npz"


def _load():
    with np.load(FIXTURE) as archive:
        contents = {name: archive[name] for name in archive.files}
    sets = sorted({name.split("/")[0] for name in contents if "/" in name})
    return {s: {k.split("/")[1]: v for k, v in contents.items() if k.startswith(s + "/")}
            for s in sets}


SETS = _load()


def _unpack(data, lengths):
    ends = np.cumsum(lengths)
    return [data[end - n:end].tobytes() for end, n in zip(ends, lengths)]


def _model(fixture, **options):
    tail_mass, precision = fixture["options"]
    prior = NoisyLogistic(loc=fixture["loc"], scale=fixture["scale"])
    return ContinuousBatchedEntropyModel(prior, coding_rank=1, compression=True,
                                         tail_mass=float(tail_mass),
                                         range_coder_precision=int(precision), **options)


def test_the_fixture_covers_what_it_promises():
    assert {"scale_3.47", "scale_6.23", "locations", "trained_lambda_300", "trained_lambda_500",
            "trained_lambda_2000"} <= set(SETS)
    scales = np.concatenate([f["scale"] for f in SETS.values()])
    assert scales.min() <= np.float32(1e-3) and scales.max() >= 300
    # "Nearly the widest codable": a table of more than 90% of the 2**12 bins precision 12 allows.
    widest = CodingTables.from_flat(SETS["scales_1e-3_to_widest"]["cdf"],
                                    SETS["scales_1e-3_to_widest"]["cdf_offset"])
    assert widest.precision == 12 and widest.lengths.max() > 0.9 * 2**12
    # Non-zero locations, some of them off the integer grid.
    assert any(quantization_offsets(f["loc"]) is not None for f in SETS.values())
    assert np.abs(SETS["locations"]["loc"]).max() > 5
    # Other tail masses and precisions than the defaults (2**-8, 12).
    options = {tuple(f["options"]) for f in SETS.values()}
    assert {(2**-8, 12), (1e-3, 16), (2**-4, 14)} <= options
    for name, fixture in SETS.items():
        tables = CodingTables.from_flat(fixture["cdf"], fixture["cdf_offset"])
        assert tables.precision == fixture["options"][1], name
        # Latents inside the tables, and others beyond them (escape codes), some far beyond.
        offset = quantization_offsets(fixture["loc"])
        symbols = np.round(fixture["decoded"] - (0 if offset is None else offset))
        inside = (symbols >= tables.offsets) & (symbols < tables.offsets + tables.lengths)
        assert 0.3 < inside.mean() < 1, name
        assert np.abs(symbols).max() > 2**28, name
        assert len(fixture["strings"]) == fixture["string_lengths"].sum()
        assert len(fixture["string_lengths"]) == len(fixture["latents"]) == len(fixture["decoded"])
        assert len(fixture["hanging_lengths"]) > 0, name
        assert len(fixture["hanging"]) == fixture["hanging_lengths"].sum(), name


@pytest.mark.parametrize("name", sorted(SETS))
def test_tables_equal_tensorflow_compressions(name):
    fixture = SETS[name]
    tail_mass, precision = fixture["options"]
    tables = build_tables(fixture["loc"], fixture["scale"], float(tail_mass), int(precision),
                          quantization_offsets(fixture["loc"]))
    np.testing.assert_array_equal(tables.to_flat(), fixture["cdf"])
    np.testing.assert_array_equal(tables.offsets, fixture["cdf_offset"])


@pytest.mark.parametrize("name", sorted(SETS))
def test_strings_equal_tensorflow_compressions(name):
    fixture = SETS[name]
    expected = _unpack(fixture["strings"], fixture["string_lengths"])
    model = _model(fixture)
    assert model.compress(fixture["latents"]).numpy().tolist() == expected
    tables = CodingTables.from_flat(fixture["cdf"], fixture["cdf_offset"])
    symbols = np.round(fixture["decoded"] - (0 if model.quantization_offset is None
                                             else np.asarray(model.quantization_offset)))
    assert encode(symbols.astype(np.int64), tables) == expected


@pytest.mark.parametrize("name", sorted(SETS))
def test_tensorflow_compressions_strings_decode_to_its_values(name):
    fixture = SETS[name]
    strings = _unpack(fixture["strings"], fixture["string_lengths"])
    np.testing.assert_array_equal(_model(fixture).decompress(strings), fixture["decoded"])


@pytest.mark.timeout(60)
@pytest.mark.parametrize("name", sorted(SETS))
def test_strings_that_hang_tensorflow_compression_return_on_every_stack(name):
    fixture = SETS[name]
    hanging = _unpack(fixture["hanging"], fixture["hanging_lengths"])
    tables = CodingTables.from_flat(fixture["cdf"], fixture["cdf_offset"])
    assert decode(hanging, tables, return_overruns=True)[2].all()
    with pytest.raises(DecodeError, match=f"Sanity check failed for {len(hanging)} of"):
        _model(fixture).decompress(hanging)
    decoded = _model(fixture, decode_sanity_check=False).decompress(hanging)
    assert decoded.shape == (len(hanging), len(fixture["scale"]))
