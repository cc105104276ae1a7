"""Small seeded toy data sets, made with the standard library only.

Each returns ``(X, y)``: a list of input tuples and a list of integer class
labels 0, 1, ...; a hinge loss wants labels -1 / +1: use `signed(y)`. Sizes are
whole numbers, `noise` (or `std`) a finite number >= 0, `seed` a whole number or
None; anything else raises a clear error naming the argument.

For sequence models: `names()` is a list of real first names shipped with the
package, and `documents(path)` reads any text file with one document per line.
"""

from __future__ import annotations

import math
import os
import random
from collections.abc import Callable
from importlib import resources

from . import checks as check


def moons(n: int = 100, noise: float = 0.1, seed: int = 0) -> tuple[list[tuple[float, float]], list[int]]:
    """Two interleaving half circles (as scikit-learn's make_moons), n points in all.

    Class 0 is the upper moon, centred on (0, 0); class 1 the lower one, centred
    on (1, 0.5). `noise` is the standard deviation of Gaussian noise on both
    coordinates.
    """
    n = check.count(n, "n", "moons", minimum=2)
    noise = check.non_negative(noise, "noise", "moons")
    rng = random.Random(check.seed(seed, "moons"))
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
    n = check.count(n, "n", "circles", minimum=2)
    noise = check.non_negative(noise, "noise", "circles")
    factor = check.real(factor, "factor", "circles", low=0.0, high=1.0, low_open=True, high_open=True)
    rng = random.Random(check.seed(seed, "circles"))
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
    n_per_class = check.count(n_per_class, "n_per_class", "spiral", minimum=2)
    n_classes = check.count(n_classes, "n_classes", "spiral", minimum=2)
    noise = check.non_negative(noise, "noise", "spiral")
    rng = random.Random(check.seed(seed, "spiral"))
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
    n = check.count(n, "n", "xor", minimum=4)
    noise = check.non_negative(noise, "noise", "xor")
    rng = random.Random(check.seed(seed, "xor"))
    corners = [(-1.0, -1.0), (-1.0, 1.0), (1.0, -1.0), (1.0, 1.0)]
    points = [corners[i % 4] for i in range(n)]
    labels = [int((cx > 0) != (cy > 0)) for cx, cy in points]
    return _shuffled(points, labels, noise, rng)


def blobs(
    n: int = 100, centers: int = 3, std: float = 0.5, seed: int = 0
) -> tuple[list[tuple[float, float]], list[int]]:
    """Gaussian blobs around `centers` points evenly spaced on a circle of radius 2; label = blob.

    `std` is the standard deviation of the Gaussian noise on both coordinates
    around each centre (what `noise` is for the other data sets); `n` >= `centers`.
    """
    centers = check.count(centers, "centers", "blobs")
    n = check.count(n, "n", "blobs", minimum=centers)
    std = check.non_negative(std, "std", "blobs")
    rng = random.Random(check.seed(seed, "blobs"))
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
    items = check.sequence(labels, "labels", "signed", what="a list of 0 / 1 labels", empty=True)
    for i, c in enumerate(items):
        if not check.is_number(c) or c not in (0, 1):
            raise ValueError(f"signed: labels must be 0 or 1, not {check.shown(c)} (labels[{i}])")
    return [2 * int(c) - 1 for c in items]


Points = tuple[list[tuple[float, float]], list[int]]
DATASETS: dict[str, Callable[..., Points]] = {
    "moons": moons,
    "circles": circles,
    "spiral": spiral,
    "xor": xor,
    "blobs": blobs,
}


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
