"""Small seeded toy data sets, made with the standard library only.

Each returns ``(X, y)``: a list of input tuples and a list of integer class
labels 0, 1, ...; a hinge loss wants labels -1 / +1: use ``[2 * c - 1 for c in y]``.
"""

from __future__ import annotations

import math
import random


def moons(n: int = 100, noise: float = 0.1, seed: int = 0) -> tuple[list[tuple[float, float]], list[int]]:
    """Two interleaving half circles (as scikit-learn's make_moons), n points in all.

    Class 0 is the upper moon, centred on (0, 0); class 1 the lower one, centred
    on (1, 0.5). `noise` is the standard deviation of Gaussian noise on both
    coordinates.
    """
    if n < 2:
        raise ValueError(f"moons: n must be at least 2, not {n}")
    rng = random.Random(seed)
    n_upper = n // 2
    n_lower = n - n_upper
    points: list[tuple[float, float]] = []
    for i in range(n_upper):
        angle = math.pi * i / (n_upper - 1) if n_upper > 1 else 0.0
        points.append((math.cos(angle), math.sin(angle)))
    for i in range(n_lower):
        angle = math.pi * i / (n_lower - 1) if n_lower > 1 else 0.0
        points.append((1.0 - math.cos(angle), 0.5 - math.sin(angle)))
    labels = [0] * n_upper + [1] * n_lower
    order = list(range(n))
    rng.shuffle(order)
    X = [(points[i][0] + rng.gauss(0.0, noise), points[i][1] + rng.gauss(0.0, noise)) for i in order]
    y = [labels[i] for i in order]
    return X, y
