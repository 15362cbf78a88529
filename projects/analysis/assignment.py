"""Which variant a visitor sees: a position from a hash of (seed, visitor), cut into the
variants' shares. Nothing is stored: the same visitor gets the same variant on every request."""

import hashlib


def bucket(visitor: str, seed: str) -> float:
    """A visitor's position in [0, 1) for an experiment: the first 8 bytes of SHA-256 of
    (seed, visitor) as a fraction of 2^64. Uniform, independent between experiments (each has
    its own seed) and the same on every request, so no assignment is stored."""
    digest = hashlib.sha256(f"{seed}:{visitor}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def assign(visitor: str, *, seed: str, coverage: float, weights: list[int]) -> int | None:
    """The index of the visitor's variant, or None when they fall outside the covered share.

    The covered share [0, coverage) is cut into ranges proportional to the weights (as
    GrowthBook's bucket ranges, https://docs.growthbook.io/lib/build-your-own#getbucketranges)."""
    position = bucket(visitor, seed)
    if position >= coverage:
        return None
    total = sum(weights)
    edge = 0.0
    for index, weight in enumerate(weights):
        edge += coverage * weight / total
        if position < edge:
            return index
    return len(weights) - 1  # the last edge may round below `coverage`
