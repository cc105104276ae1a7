"""Building blocks for sequence models: Embedding, Linear, RMSNorm and softmax.

Each is made of the engine's fused nodes: a matrix-vector product is one
`Value.dot` node per output, a sum of many terms is one `Value.sum` node.
Weights are drawn from a Gaussian with standard deviation `std` (0.08, as in
microgpt) and stored as rows, ``weight[out][in]``, as `torch.nn.Linear` and
microgpt store them. A module with a `name` tags the nodes it makes with
`engine.scope(name)`, nested inside the scopes of the modules that call it, so
diagrams and diagnostics can group a graph by module.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, nullcontext

from engine import Value, logsumexp, scope

from . import checks as check
from .module import Module, RandomSource, make_rng

Vector = Sequence[Value | float]


def _scope(name: str) -> AbstractContextManager[str | None]:
    return scope(name) if name else nullcontext()


def gaussian_matrix(rows: int, cols: int, std: float, rng: RandomSource) -> list[list[Value]]:
    """rows x cols leaves drawn from N(0, std**2), row by row (microgpt's order)."""
    gauss = rng.gauss
    return [[Value(gauss(0.0, std)) for _ in range(cols)] for _ in range(rows)]


def _named_rows(matrix: list[list[Value]], prefix: str) -> Iterator[tuple[str, Value]]:
    for i, row in enumerate(matrix):
        for j, p in enumerate(row):
            yield f"{prefix}.{i}.{j}", p


class Embedding(Module):
    """A table of `num` learned vectors of length `dim`: ``emb(i)`` is row i.

    As `torch.nn.Embedding`: a lookup, not a product. The row's Values are the
    parameters themselves, so the gradient of whatever uses them lands on them.
    """

    def __init__(
        self,
        num: int,
        dim: int,
        std: float = 0.08,
        seed: int | None = None,
        rng: RandomSource | None = None,
        name: str = "",
    ):
        check.whole_number(num, "num", "Embedding")
        check.whole_number(dim, "dim", "Embedding")
        check.finite_number(std, "std", "Embedding")
        self.num, self.dim, self.name = num, dim, name
        self.weight = gaussian_matrix(num, dim, std, make_rng(seed, rng))

    def __call__(self, index: int) -> list[Value]:
        if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < self.num:
            what = f"Embedding {self.name!r}" if self.name else "Embedding"
            raise ValueError(f"{what}: index must be a whole number in 0..{self.num - 1}, not {index!r}")
        return list(self.weight[index])

    def named_parameters(self) -> Iterator[tuple[str, Value]]:
        return _named_rows(self.weight, "weight")

    def config(self) -> dict:
        return {"num": self.num, "dim": self.dim}

    def __repr__(self) -> str:
        return f"Embedding({self.num}, {self.dim})"


class Linear(Module):
    """y = W x (+ b): `nout` outputs, each one `Value.dot` node of a weight row and x.

    ``bias=False`` by default, as in microgpt (torch's default is True). Biases
    start at 0. ``linear(x, residual=r)`` adds r[i] to output i inside the same
    node (the dot's bias slot): a residual connection that costs no extra node.
    """

    def __init__(
        self,
        nin: int,
        nout: int,
        bias: bool = False,
        std: float = 0.08,
        seed: int | None = None,
        rng: RandomSource | None = None,
        name: str = "",
    ):
        check.whole_number(nin, "nin", "Linear")
        check.whole_number(nout, "nout", "Linear")
        check.finite_number(std, "std", "Linear")
        self.nin, self.nout, self.name = nin, nout, name
        self.weight = gaussian_matrix(nout, nin, std, make_rng(seed, rng))
        self.bias = [Value(0.0) for _ in range(nout)] if bias else None

    def __call__(self, x: Vector, residual: Vector | None = None) -> list[Value]:
        if len(x) != self.nin:
            raise ValueError(f"{self!r}: x must have {self.nin} entries, not {len(x)}")
        if residual is not None and len(residual) != self.nout:
            raise ValueError(f"{self!r}: residual must have {self.nout} entries, not {len(residual)}")
        x = x if type(x) is list else list(x)
        dot = Value.dot
        with _scope(self.name):
            if self.bias is None:
                if residual is None:
                    return [dot(row, x) for row in self.weight]
                return [dot(row, x, bias=r) for row, r in zip(self.weight, residual)]
            out = [dot(row, x, bias=b) for row, b in zip(self.weight, self.bias)]
            if residual is not None:
                out = [o + r for o, r in zip(out, residual)]
            return out

    def named_parameters(self) -> Iterator[tuple[str, Value]]:
        yield from _named_rows(self.weight, "weight")
        if self.bias is not None:
            for i, b in enumerate(self.bias):
                yield f"bias.{i}", b

    def config(self) -> dict:
        return {"nin": self.nin, "nout": self.nout, "bias": self.bias is not None}

    def __repr__(self) -> str:
        return f"Linear({self.nin}, {self.nout}, bias={self.bias is not None})"


class RMSNorm(Module):
    """x / sqrt(mean(x**2) + eps): rescale a vector to unit root-mean-square.

    Without a learned gain, as in microgpt (`torch.nn.RMSNorm(dim,
    elementwise_affine=False)`). Nodes: one dot for sum(x**2), one node for
    sum/dim + eps, one power, then one product per entry.
    """

    def __init__(self, dim: int, eps: float = 1e-5, name: str = ""):
        check.whole_number(dim, "dim", "RMSNorm")
        self.dim, self.eps, self.name = dim, check.finite_number(eps, "eps", "RMSNorm"), name

    def __call__(self, x: Sequence[Value]) -> list[Value]:
        if len(x) != self.dim:
            raise ValueError(f"{self!r}: x must have {self.dim} entries, not {len(x)}")
        x = x if type(x) is list else list(x)
        with _scope(self.name):
            mean_square = Value.dot([Value.dot(x, x)], [1.0 / self.dim], bias=self.eps)  # mean(x**2) + eps
            scale = mean_square**-0.5
            return [xi * scale for xi in x]

    def config(self) -> dict:
        return {"dim": self.dim, "eps": self.eps}

    def __repr__(self) -> str:
        return f"RMSNorm({self.dim}, eps={self.eps:g})"


def softmax(logits: Sequence[Value]) -> list[Value]:
    """exp(z_i - logsumexp(z)): the probabilities the logits stand for.

    `engine.logsumexp` is one stable node, log(sum_j exp(z_j)) with the largest
    logit taken out inside it, so no exp overflows and no number is read from
    ``.data``: the graph is the same whatever the logits, and staged code
    (`engine.stage`) stays right for every input. Its local gradients are the
    softmax itself. Nodes: one logsumexp, then one shift and one exp per logit.
    """
    if not logits:
        raise ValueError("softmax: logits must not be empty")
    total = logsumexp(logits)
    return [(z - total).exp() for z in logits]
