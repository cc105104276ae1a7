"""Small seeded toy data sets, made with the standard library only.

Each returns ``(X, y)``: a list of input tuples and a list of integer class
labels 0, 1, ...; a hinge loss wants labels -1 / +1: use `signed(y)`.

For sequence models: `names()` is a list of real first names shipped with the
package, and `documents(path)` reads any text file with one document per line.
"""

from __future__ import annotations

import math
import os
import random
from importlib import resources


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
    return _shuffled(points, labels, noise, rng)


def circles(
    n: int = 100, noise: float = 0.05, factor: float = 0.5, seed: int = 0
) -> tuple[list[tuple[float, float]], list[int]]:
    """Two concentric circles (as scikit-learn's make_circles): class 0 outside, class 1 inside.

    `factor` is the inner radius relative to the outer one (which is 1).
    """
    if n < 2:
        raise ValueError(f"circles: n must be at least 2, not {n}")
    if not 0 < factor < 1:
        raise ValueError(f"circles: factor must lie in (0, 1), not {factor}")
    rng = random.Random(seed)
    n_outer = n // 2
    n_inner = n - n_outer
    points = [(math.cos(2 * math.pi * i / n_outer), math.sin(2 * math.pi * i / n_outer)) for i in range(n_outer)]
    points += [
        (factor * math.cos(2 * math.pi * i / n_inner), factor * math.sin(2 * math.pi * i / n_inner))
        for i in range(n_inner)
    ]
    labels = [0] * n_outer + [1] * n_inner
    return _shuffled(points, labels, noise, rng)


def spiral(
    n_per_class: int = 100, n_classes: int = 3, noise: float = 0.2, seed: int = 0
) -> tuple[list[tuple[float, float]], list[int]]:
    """Interleaved spiral arms, one per class (the CS231n example): not linearly separable.

    Arm k: radius r from 0 to 1, angle 4k + 4r plus Gaussian noise of std `noise`.
    """
    if n_per_class < 2 or n_classes < 2:
        raise ValueError("spiral: needs at least 2 points per class and 2 classes")
    rng = random.Random(seed)
    X, y = [], []
    for k in range(n_classes):
        for i in range(n_per_class):
            r = i / (n_per_class - 1)
            t = 4.0 * k + 4.0 * r + rng.gauss(0.0, noise)
            X.append((r * math.sin(t), r * math.cos(t)))
            y.append(k)
    return X, y


def xor(n: int = 100, noise: float = 0.1, seed: int = 0) -> tuple[list[tuple[float, float]], list[int]]:
    """Points around the four corners (+-1, +-1); class 1 where exactly one coordinate is positive."""
    if n < 4:
        raise ValueError(f"xor: n must be at least 4, not {n}")
    rng = random.Random(seed)
    corners = [(-1.0, -1.0), (-1.0, 1.0), (1.0, -1.0), (1.0, 1.0)]
    points = [corners[i % 4] for i in range(n)]
    labels = [int((cx > 0) != (cy > 0)) for cx, cy in points]
    return _shuffled(points, labels, noise, rng)


def blobs(
    n: int = 100, centers: int = 3, std: float = 0.5, seed: int = 0
) -> tuple[list[tuple[float, float]], list[int]]:
    """Gaussian blobs around `centers` points evenly spaced on a circle of radius 2; label = blob."""
    if n < centers or centers < 1:
        raise ValueError(f"blobs: need at least one point per centre (n={n}, centers={centers})")
    rng = random.Random(seed)
    middles = [
        (2 * math.cos(2 * math.pi * k / centers), 2 * math.sin(2 * math.pi * k / centers)) for k in range(centers)
    ]
    points = [middles[i % centers] for i in range(n)]
    labels = [i % centers for i in range(n)]
    return _shuffled(points, labels, std, rng)


def _shuffled(points, labels, noise, rng):
    order = list(range(len(points)))
    rng.shuffle(order)
    X = [(points[i][0] + rng.gauss(0.0, noise), points[i][1] + rng.gauss(0.0, noise)) for i in order]
    return X, [labels[i] for i in order]


def signed(labels: list[int]) -> list[int]:
    """0 / 1 labels as -1 / +1, as a hinge loss wants them."""
    return [2 * c - 1 for c in labels]


DATASETS = {"moons": moons, "circles": circles, "spiral": spiral, "xor": xor, "blobs": blobs}


def names() -> list[str]:
    """5,163 real first names, lowercase a-z, one per document, in alphabetical order.

    They are the first names of the US Census Bureau's 1990 name-frequency lists
    (female and male; public domain), as shipped by the PyPI package `names`
    0.3.0 (files dist.female.first and dist.male.first), lowercased and
    deduplicated. The file is ``nn/names.txt``: no download is needed.
    """
    text = resources.files(__package__).joinpath("names.txt").read_text(encoding="utf-8")
    return text.split()


def documents(path: str | os.PathLike) -> list[str]:
    """The non-blank lines of a UTF-8 text file, stripped: one document per line.

    Raises ValueError naming the file when it cannot be read, is not UTF-8
    text, holds no document, or uses only one distinct character (a model
    could learn nothing from it).
    """
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except UnicodeDecodeError:
        raise ValueError(f"{path}: not UTF-8 text") from None
    except OSError as error:
        raise ValueError(f"{path}: cannot be read ({error.strerror or error})") from None
    docs = [line.strip() for line in text.splitlines() if line.strip()]
    if not docs:
        raise ValueError(f"{path}: holds no documents (every line is empty)")
    if len(set("".join(docs))) < 2:
        raise ValueError(f"{path}: uses a single distinct character; a model needs at least two")
    return docs
