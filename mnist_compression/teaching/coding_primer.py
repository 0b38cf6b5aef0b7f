"""Entropy coding on a toy alphabet, in exact fractions: code lengths and interval narrowing.

Introduced in notebook 02 (code length = -log2 p) and notebook 04 (how a range coder turns
probabilities into bits). The real coder (`coding.range_coder`) does the same with 32-bit
integers and writes bytes as soon as their value is settled.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction


def code_lengths(probabilities: dict) -> dict:
    """-log2 p for each symbol: the bits an ideal code spends on it."""
    return {symbol: -math.log2(p) for symbol, p in probabilities.items()}


def entropy(probabilities: dict) -> float:
    """The average of the code lengths, weighted by the probabilities, in bits per symbol."""
    return sum(p * -math.log2(p) for p in probabilities.values() if p > 0)


@dataclass(frozen=True)
class Step:
    """The interval after one more symbol: [low, low + width)."""

    symbol: str
    low: Fraction
    width: Fraction


def narrow(message, probabilities: dict) -> list[Step]:
    """The intervals an arithmetic coder passes through: each symbol keeps the share of the
    current interval that its probability gives it (symbols in the order of `probabilities`)."""
    probabilities = {s: Fraction(p).limit_denominator(1 << 20) for s, p in probabilities.items()}
    if sum(probabilities.values()) != 1:
        raise ValueError("The probabilities must add up to 1.")
    starts, total = {}, Fraction(0)
    for symbol, p in probabilities.items():
        starts[symbol], total = total, total + p
    low, width, steps = Fraction(0), Fraction(1), []
    for symbol in message:
        if symbol not in probabilities:
            raise ValueError(f"Symbol {symbol!r} has no probability.")
        low, width = low + width * starts[symbol], width * probabilities[symbol]
        steps.append(Step(symbol, low, width))
    return steps


def shortest_bits(low: Fraction, width: Fraction) -> str:
    """The shortest bit string b such that the binary fraction 0.b1 (b followed by a 1) lies
    inside [low, low + width): enough for a decoder to find the interval."""
    bits = ""
    value, step = Fraction(0), Fraction(1, 2)
    while not low <= value + step < low + width:
        if value + step < low:
            value += step
            bits += "1"
        else:
            bits += "0"
        step /= 2
    return bits + "1"


__all__ = ["Step", "code_lengths", "entropy", "narrow", "shortest_bits"]
