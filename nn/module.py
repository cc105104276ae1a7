"""Modules: Neuron, Layer, MLP and a scalar RNN, shaped and ordered as in micrograd.

`parameters()` runs layer by layer, neuron by neuron, each neuron's weights and
then its bias, exactly as micrograd's, so weights can be copied across. Every
parameter also has a stable dotted name (`named_parameters()`), e.g.
``layers.0.neurons.3.w.1``, used by `state_dict()` and the JSON files.

Each neuron is one fused `Value.dot` node plus its activation, and tags both
with its name in ``node.scope`` so diagrams and diagnostics can group a graph
by neuron and layer.
"""

from __future__ import annotations

import json
import math
import os
import random
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from engine import Value

ACTIVATIONS: dict[str, Callable[[Value], Value] | None] = {
    "relu": Value.relu,
    "tanh": Value.tanh,
    "sigmoid": Value.sigmoid,
    "leaky_relu": Value.leaky_relu,
    "linear": None,
}
_DISPLAY_NAMES = {"relu": "ReLU", "tanh": "Tanh", "sigmoid": "Sigmoid", "leaky_relu": "LeakyReLU", "linear": "Linear"}
INITS = ("uniform", "xavier", "he")
FILE_FORMAT = "circuitgrad.module"
FILE_VERSION = 1

Input = Sequence[Value | float]


def make_rng(seed: int | None = None, rng: random.Random | None = None):
    """The source of random numbers: `rng`, a new `random.Random(seed)`, or `random` itself.

    With neither, the global `random` module is used, as micrograd does, so
    ``random.seed(1337)`` gives micrograd's weights.
    """
    if rng is not None and seed is not None:
        raise ValueError("give seed= or rng=, not both")
    if rng is not None:
        return rng
    return random.Random(seed) if seed is not None else random


class Module:
    """Something with parameters: a neuron, a layer, a network."""

    def named_parameters(self) -> Iterator[tuple[str, Value]]:
        """(dotted name, parameter) pairs, in `parameters()` order."""
        return iter(())

    def parameters(self) -> list[Value]:
        """Every parameter, in a fixed order (micrograd's)."""
        return [p for _, p in self.named_parameters()]

    def zero_grad(self) -> None:
        """Set every parameter's gradient to 0.0 (leaves accumulate until you do)."""
        for p in self.parameters():
            p.grad = 0.0

    def state_dict(self) -> dict[str, float]:
        """{name: value} of every parameter: plain floats, safe to keep or to dump as JSON."""
        return {name: p.data for name, p in self.named_parameters()}

    def load_state_dict(self, state: dict[str, float]) -> None:
        """Set every parameter from `state`; names must match exactly.

        Raises ValueError naming the missing, unexpected or non-numeric entry,
        and then changes nothing.
        """
        params = dict(self.named_parameters())
        if not isinstance(state, dict):
            raise ValueError(f"a state dict must be a dict of name -> number, not {type(state).__name__}")
        missing = [name for name in params if name not in state]
        unexpected = [name for name in state if name not in params]
        if missing or unexpected:
            parts = []
            if missing:
                parts.append(f"missing {_few(missing)}")
            if unexpected:
                parts.append(f"unexpected {_few(unexpected)}")
            raise ValueError(f"parameters do not match this {type(self).__name__}: " + "; ".join(parts))
        for name, value in state.items():
            if type(value) not in (int, float):  # bool, str, None, lists... are not parameters
                raise ValueError(f"parameter {name!r} must be a number, not {type(value).__name__}")
        for name, p in params.items():
            p.data = float(state[name])

    def config(self) -> dict:
        """The constructor arguments, stored in saved files."""
        return {}

    def save(self, path: str | os.PathLike) -> None:
        """Write the parameters as JSON, atomically: a temporary file, then a rename.

        Floats are written with `repr`, so they read back bit for bit.
        """
        path = Path(path)
        document = {
            "format": FILE_FORMAT,
            "version": FILE_VERSION,
            "module": type(self).__name__,
            "config": self.config(),
            "parameters": self.state_dict(),
        }
        text = json.dumps(document, indent=1)
        fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent or ".")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(temporary, 0o644)  # mkstemp makes it private
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    def load(self, path: str | os.PathLike) -> None:
        """Read parameters written by `save` into this module.

        Validates the format, the module type, the names and the types; on any
        problem raises ValueError naming it and leaves the module unchanged.
        """
        try:
            text = Path(path).read_text(encoding="utf-8")
        except UnicodeDecodeError as error:
            raise ValueError(f"{path}: not a circuitgrad model file (not UTF-8 text)") from error
        try:
            document = json.loads(text)
        except json.JSONDecodeError as error:
            raise ValueError(f"{path}: not a circuitgrad model file (bad or truncated JSON: {error})") from None
        if not isinstance(document, dict) or document.get("format") != FILE_FORMAT:
            raise ValueError(f"{path}: not a circuitgrad model file (no format {FILE_FORMAT!r})")
        if document.get("version") != FILE_VERSION:
            raise ValueError(f"{path}: unsupported version {document.get('version')!r} (this is {FILE_VERSION})")
        if document.get("module") != type(self).__name__:
            raise ValueError(f"{path}: holds a {document.get('module')!r}, not a {type(self).__name__}")
        if "parameters" not in document:
            raise ValueError(f"{path}: has no parameters")
        try:
            self.load_state_dict(document["parameters"])
        except ValueError as error:
            raise ValueError(f"{path}: {error}") from None


def _few(names: list[str]) -> str:
    shown = ", ".join(repr(n) for n in names[:3])
    return shown + (f" and {len(names) - 3} more" if len(names) > 3 else "")


def _initial_weight(rng, init: str, fan_in: int, fan_out: int) -> float:
    if init == "uniform":  # micrograd's
        return rng.uniform(-1, 1)
    if init == "xavier":  # Glorot: keeps the variance of activations and gradients
        limit = math.sqrt(6.0 / (fan_in + fan_out))
        return rng.uniform(-limit, limit)
    return rng.gauss(0.0, math.sqrt(2.0 / fan_in))  # he: for ReLU units


class Neuron(Module):
    """act(w . x + b): one fused dot node plus its activation.

    ``nonlin=False`` (micrograd's flag) makes it linear whatever `activation` says.
    """

    def __init__(
        self,
        nin: int,
        nonlin: bool = True,
        activation: str = "relu",
        init: str = "uniform",
        seed: int | None = None,
        rng: random.Random | None = None,
        name: str = "",
        fan_out: int = 1,
    ):
        if activation not in ACTIVATIONS:
            raise ValueError(f"unknown activation {activation!r}; choose from {', '.join(ACTIVATIONS)}")
        if init not in INITS:
            raise ValueError(f"unknown init {init!r}; choose from {', '.join(INITS)}")
        if not isinstance(nin, int) or nin < 1:
            raise ValueError(f"a neuron needs at least one input, not nin={nin!r}")
        rng = make_rng(seed, rng)
        self.w = [Value(_initial_weight(rng, init, nin, fan_out)) for _ in range(nin)]
        self.b = Value(0.0)
        self.activation = activation if nonlin else "linear"
        self.init = init
        self.name = name
        self._activate = ACTIVATIONS[self.activation]

    def __call__(self, x: Input) -> Value:
        out = Value.dot(self.w, x, bias=self.b)
        out.scope = self.name
        if self._activate is not None:
            out = self._activate(out)
            out.scope = self.name
        return out

    def named_parameters(self) -> Iterator[tuple[str, Value]]:
        for i, w in enumerate(self.w):
            yield f"w.{i}", w
        yield "b", self.b

    def parameters(self) -> list[Value]:
        return [*self.w, self.b]

    def config(self) -> dict:
        return {"nin": len(self.w), "activation": self.activation, "init": self.init}

    def __repr__(self) -> str:
        return f"{_DISPLAY_NAMES[self.activation]}Neuron({len(self.w)})"


class Layer(Module):
    """`nout` neurons on the same inputs. One output gives a Value, several a list."""

    def __init__(self, nin: int, nout: int, name: str = "", **kwargs):
        if not isinstance(nout, int) or nout < 1:
            raise ValueError(f"a layer needs at least one neuron, not nout={nout!r}")
        rng = make_rng(kwargs.pop("seed", None), kwargs.pop("rng", None))
        prefix = f"{name}." if name else ""
        self.neurons = [Neuron(nin, rng=rng, name=f"{prefix}neurons.{j}", fan_out=nout, **kwargs) for j in range(nout)]
        self.name = name

    def __call__(self, x: Input) -> Value | list[Value]:
        out = [n(x) for n in self.neurons]
        return out[0] if len(out) == 1 else out

    def named_parameters(self) -> Iterator[tuple[str, Value]]:
        for j, neuron in enumerate(self.neurons):
            for name, p in neuron.named_parameters():
                yield f"neurons.{j}.{name}", p

    def parameters(self) -> list[Value]:
        return [p for n in self.neurons for p in n.parameters()]

    def config(self) -> dict:
        first = self.neurons[0].config()
        return {"nin": first["nin"], "nout": len(self.neurons), "activation": first["activation"]}

    def __repr__(self) -> str:
        return f"Layer of [{', '.join(str(n) for n in self.neurons)}]"


class MLP(Module):
    """Layers of sizes `nouts` on `nin` inputs; hidden layers use `activation`, the last is linear.

    ``MLP(2, [16, 16, 1])`` is micrograd's demo network.
    """

    def __init__(
        self,
        nin: int,
        nouts: Sequence[int],
        activation: str = "relu",
        init: str = "uniform",
        seed: int | None = None,
        rng: random.Random | None = None,
    ):
        if not nouts:
            raise ValueError("an MLP needs at least one layer: nouts is empty")
        rng = make_rng(seed, rng)
        sizes = [nin, *nouts]
        self.layers = [
            Layer(
                sizes[i],
                sizes[i + 1],
                name=f"layers.{i}",
                nonlin=i != len(nouts) - 1,
                activation=activation,
                init=init,
                rng=rng,
            )
            for i in range(len(nouts))
        ]
        self.nin, self.nouts, self.activation, self.init = nin, list(nouts), activation, init
        self._parameters = [p for layer in self.layers for p in layer.parameters()]

    def __call__(self, x: Input) -> Value | list[Value]:
        for layer in self.layers:
            x = layer(x)
        return x

    def named_parameters(self) -> Iterator[tuple[str, Value]]:
        for i, layer in enumerate(self.layers):
            for name, p in layer.named_parameters():
                yield f"layers.{i}.{name}", p

    def parameters(self) -> list[Value]:
        return list(self._parameters)

    def config(self) -> dict:
        return {"nin": self.nin, "nouts": self.nouts, "activation": self.activation, "init": self.init}

    def __repr__(self) -> str:
        return f"MLP of [{', '.join(str(layer) for layer in self.layers)}]"


class RNN(Module):
    """A vanilla RNN cell unrolled over a sequence: h_t = act(W_x x_t + W_h h_(t-1) + b).

    Each hidden unit is one fused dot node over [x_t..., h_(t-1)...]. Calling it
    on a sequence returns the list of hidden states, one per time step. The
    gradient reaching h_0 is a product of one local gradient per step, so it
    grows or shrinks geometrically with the recurrent weight.
    """

    def __init__(
        self,
        nin: int,
        nhidden: int,
        activation: str = "tanh",
        init: str = "uniform",
        seed: int | None = None,
        rng: random.Random | None = None,
    ):
        rng = make_rng(seed, rng)
        self.cell = Layer(nin + nhidden, nhidden, name="cell", activation=activation, init=init, rng=rng)
        self.nin, self.nhidden, self.activation, self.init = nin, nhidden, activation, init

    def __call__(self, xs: Sequence[Input], h0: Input | None = None) -> list[list[Value]]:
        h: list = list(h0) if h0 is not None else [0.0] * self.nhidden
        states = []
        for x in xs:
            out = self.cell([*x, *h])
            h = [out] if isinstance(out, Value) else out
            states.append(h)
        return states

    def named_parameters(self) -> Iterator[tuple[str, Value]]:
        for name, p in self.cell.named_parameters():
            yield f"cell.{name}", p

    def config(self) -> dict:
        return {"nin": self.nin, "nhidden": self.nhidden, "activation": self.activation, "init": self.init}
