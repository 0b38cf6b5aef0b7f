"""The coding half of a scale hyperprior, in numpy: side latents and latents in one string.

Introduced in notebook 09. A digit's symbols are [z | y]: its K side latents, then its C
latents. One range-coded string holds them in that order. z is coded with one table per side
latent, built from its factorized prior; y[c] with the table of the grid scale
(`scale_grid`) that the hyper-synthesis transform, run in exact integer arithmetic on the
decoded z, picks for it. The decoder reads z first, runs the same transform, and then knows
which tables to read y with. One string rather than two saves a second string's end (one to
two bytes) and a length field.

All K + 64 tables are built at once by `coding.tables.build_tables`. Symbol [n, i] is coded
with table i for a side latent and K + index for a latent, so tensorflow-compression's
`ContinuousIndexedEntropyModel` writes the same bytes with the same tables and indexes (the
reference tests check it).
"""

from __future__ import annotations

import numpy as np

from ..coding import tf_float32
from ..coding.range_coder import DEFAULT_PRECISION, RangeDecoder, encode
from ..coding.tables import DEFAULT_TAIL_MASS, build_tables
from .entropy_coder import (
    DecodeError,
    check_escapes,
    check_precision,
    check_strings,
    escape_error,
    noisy_logistic_log2_mass,
)
from .exact_transforms import ACTIVATION_BITS, FixedPointTransform
from .scale_grid import round_indexes, scale_grid


class HyperpriorCoder:
    """Tables and coder for [z | y] symbols: `encode_symbols`, `decode_symbols`,
    `information_bits`, as `EntropyCoder` has them for a factorized prior.

    `side_log_scales` (float32 [K]) are the log-scales of the side latents' factorized prior;
    `hyper_synthesis` turns integer side latents into fixed-point scale indexes for the
    `latent_dims` latents.
    """

    quantization_offset = None  # every prior is centred on zero: symbols are rounded values

    def __init__(self, side_log_scales, hyper_synthesis: FixedPointTransform, latent_dims: int,
                 tail_mass: float = DEFAULT_TAIL_MASS,
                 range_coder_precision: int = DEFAULT_PRECISION, decode_sanity_check: bool = True):
        check_precision(range_coder_precision)
        self.side_scales = tf_float32.exp(np.asarray(side_log_scales, np.float32))
        self.side_dims = len(self.side_scales)
        self.latent_dims = int(latent_dims)
        self.hyper_synthesis = hyper_synthesis
        self.decode_sanity_check = bool(decode_sanity_check)
        self.grid = scale_grid()
        scales = np.concatenate([self.side_scales, self.grid])
        self.tables = build_tables(np.zeros_like(scales), scales, tail_mass, range_coder_precision)

    @property
    def channels(self) -> int:
        """Symbols per digit: the side latents, then the latents."""
        return self.side_dims + self.latent_dims

    def scale_indexes(self, side_symbols) -> np.ndarray:
        """Each latent's grid index (int64 [N, C]) from the integer side latents [N, K]."""
        return round_indexes(self.hyper_synthesis(side_symbols), ACTIVATION_BITS)

    def table_indexes(self, side_symbols) -> np.ndarray:
        """The table of every symbol of [z | y] (int64 [N, K + C]): table i for side latent i,
        K + grid index for a latent."""
        rows = len(side_symbols)
        side = np.broadcast_to(np.arange(self.side_dims, dtype=np.int64), (rows, self.side_dims))
        return np.concatenate([side, self.side_dims + self.scale_indexes(side_symbols)], axis=1)

    def _checked(self, symbols) -> np.ndarray:
        symbols = np.asarray(symbols)
        if symbols.dtype.kind not in "iu" or symbols.ndim != 2 or (
                symbols.shape[1] != self.channels):
            raise ValueError(f"Expected integer symbols shaped [N, {self.channels}] "
                             f"({self.side_dims} side latents, then {self.latent_dims} "
                             f"latents), got dtype {symbols.dtype} and shape "
                             f"{list(symbols.shape)}.")
        if symbols.size and np.abs(symbols.astype(np.float64)).max() >= 2.0**62:
            raise escape_error(np.abs(symbols.astype(np.float64)).max())
        return symbols.astype(np.int64)

    def encode_symbols(self, symbols) -> list[bytes]:
        """One byte string per row of [z | y] symbols; an empty batch gives []. Raises
        ValueError for symbols more than 2**30 beyond their table."""
        symbols = self._checked(symbols)
        if not len(symbols):
            return []
        table = self.table_indexes(symbols[:, :self.side_dims])
        check_escapes(symbols, self.tables, table)
        return encode(symbols, self.tables, table)

    def decode_symbols(self, strings) -> np.ndarray:
        """[z | y] symbols (int64 [N, K + C]) from strings made by `encode_symbols` with the
        same model: z first, then y with the tables z picks. With ``decode_sanity_check``,
        strings that end where no encoder would have left them raise a `DecodeError` (no
        integrity check: see `EntropyCoder.decode_symbols`)."""
        strings = check_strings(strings)
        if not strings:
            return np.zeros((0, self.channels), np.int64)
        decoder = RangeDecoder(strings, self.tables, self.channels)
        rows = len(strings)
        side = decoder.decode(np.broadcast_to(np.arange(self.side_dims, dtype=np.int64),
                                              (rows, self.side_dims)))
        latents = decoder.decode(self.side_dims + self.scale_indexes(side))
        sane = decoder.sane()
        if self.decode_sanity_check and not sane.all():
            failed = np.flatnonzero(~sane)
            raise DecodeError(
                f"Sanity check failed for {len(failed)} of {rows} strings (first: index "
                f"{failed[0]}): they were not made with these coding tables, or are damaged.",
                failed)
        return np.concatenate([side, latents], axis=1)

    def information_bits(self, symbols, split: bool = False):
        """Each row's information content, -log2 P(z) - log2 P(y | z), in bits (float64 [N]):
        the length its string approaches. With `split`, the two terms apart."""
        symbols = self._checked(symbols)
        side, latents = symbols[:, :self.side_dims], symbols[:, self.side_dims:]
        side_bits = -noisy_logistic_log2_mass(side, 0.0, self.side_scales).sum(axis=-1)
        scales = self.grid[self.scale_indexes(side)]
        latent_bits = -noisy_logistic_log2_mass(latents, 0.0, scales).sum(axis=-1)
        return (side_bits, latent_bits) if split else side_bits + latent_bits


__all__ = ["HyperpriorCoder"]
