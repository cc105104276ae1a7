"""Modules: Neuron, Layer, MLP and a scalar RNN, shaped and ordered as in micrograd.

`parameters()` runs layer by layer, neuron by neuron, each neuron's weights and
then its bias, exactly as micrograd's, so weights can be copied across. It is
computed from the current sub-modules at every call, so replacing weights by
hand (``neuron.w = [Value(0.5), Value(-1.0)]``) is seen by the next optimizer,
as in micrograd. Every parameter also has a stable dotted name
(`named_parameters()`), e.g. ``layers.0.neurons.3.w.1``, used by `state_dict()`
and the JSON files.

Each neuron is one fused `Value.dot` node plus its activation, and tags both
with its name in ``node.scope`` so diagrams and diagnostics can group a graph
by neuron and layer.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import random
import secrets
import signal
import stat
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

from engine import Op, Value, ops

from . import checks as check

#: A neuron's activation by name: an op of the engine's table (None: a linear unit). The diagnostics
#: ask the op what its local gradient is, never its name.
ACTIVATIONS: dict[str, Op | None] = {
    "relu": ops.relu,
    "tanh": ops.tanh,
    "sigmoid": ops.sigmoid,
    "leaky_relu": ops.leaky_relu,
    "linear": None,
}
_DISPLAY_NAMES = {"relu": "ReLU", "tanh": "Tanh", "sigmoid": "Sigmoid", "leaky_relu": "LeakyReLU", "linear": "Linear"}
INITS = ("uniform", "xavier", "he")
FILE_FORMAT = "circuitgrad.module"
FILE_VERSION = 1
_FILE_KEYS = ("format", "version", "module", "config", "parameters")

Input = Sequence[Value | float]

#: Where random numbers come from: a `random.Random`, or the `random` module itself (its global stream, as micrograd's).
RandomSource = random.Random | ModuleType


def make_rng(seed: int | None = None, rng: RandomSource | None = None, where: str = "make_rng") -> RandomSource:
    """The source of random numbers: `rng`, a new `random.Random(seed)`, or `random` itself.

    With neither, the global `random` module is used, as micrograd does, so
    ``random.seed(1337)`` gives micrograd's weights.
    """
    seed = check.seed(seed, where)
    rng = check.rng(rng, where)
    if rng is not None and seed is not None:
        raise ValueError(f"{where}: give seed= or rng=, not both")
    if rng is not None:
        return rng
    return random.Random(seed) if seed is not None else random


class Module:
    """Something with parameters: a neuron, a layer, a network.

    Printing a module shows its structure with parameter counts, as PyTorch does.
    """

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """The forward pass; every module defines its own."""
        raise NotImplementedError(f"{type(self).__name__} does not define its forward pass (__call__)")

    def named_parameters(self) -> Iterator[tuple[str, Value]]:
        """(dotted name, parameter) pairs, in `parameters()` order, read from the current sub-modules."""
        return iter(())

    def parameters(self) -> list[Value]:
        """Every parameter, in a fixed order (micrograd's), read from the current sub-modules."""
        return [p for _, p in self.named_parameters()]

    def zero_grad(self) -> None:
        """Set every parameter's gradient to 0.0 (leaves accumulate until you do)."""
        for p in self.parameters():
            p.grad = 0.0

    def state_dict(self) -> dict[str, float]:
        """{name: value} of every parameter: plain floats, safe to keep or to dump as JSON."""
        return {name: p.data for name, p in self.named_parameters()}

    def load_state_dict(self, state: dict[str, float]) -> None:
        """Set every parameter from `state`; names must match exactly, values be finite numbers.

        Everything is checked first: on a missing, unexpected or bad entry this
        raises ValueError naming it, and no parameter has changed.
        """
        params = dict(self.named_parameters())
        try:
            numbers = self._checked_state(state)
        except ValueError as error:
            raise ValueError(f"{type(self).__name__}.load_state_dict: {error}") from None
        for name, p in params.items():
            p.data = numbers[name]

    def _checked_state(self, state: object) -> dict[str, float]:
        """`state` as {name: float} for exactly this module's parameters, or a ValueError naming the problem."""
        if not isinstance(state, dict):
            raise ValueError(f"a state dict must be a dict of name -> number, not {check.shown(state)}")
        params = dict(self.named_parameters())
        missing = [name for name in params if name not in state]
        unexpected = [name for name in state if name not in params]
        if missing or unexpected:
            parts = []
            if missing:
                parts.append(f"missing {_few(missing)}")
            if unexpected:
                parts.append(f"unexpected {_few(unexpected)}")
            raise ValueError(f"parameters do not match this {type(self).__name__}: " + "; ".join(parts))
        numbers: dict[str, float] = {}
        for name, value in state.items():
            if not check.is_number(value):  # bool, str, None, lists... are not parameters
                raise ValueError(f"parameter {name!r} must be a number, not {type(value).__name__}")
            try:
                number = float(value)
            except OverflowError:
                number = math.inf
            if not math.isfinite(number):
                raise ValueError(f"parameter {name!r} must be a finite number, not {check.shown(value)}")
            numbers[name] = number
        return numbers

    def config(self) -> dict:
        """The constructor arguments, stored in saved files."""
        return {}

    def save(self, path: str | os.PathLike) -> None:
        """Write the parameters as JSON, atomically: a temporary file beside the target, then a rename.

        Floats are written with `repr`, so they read back bit for bit. An existing
        file keeps its permissions (a new one gets the usual ones, from the umask);
        a symbolic link stays a link and its target is replaced. If the write fails,
        or the process is stopped by SIGTERM, SIGINT or SIGHUP (in the main thread),
        the temporary file is removed and the old file is left as it was. Only a
        kill that cannot be caught (``kill -9``, a power cut) can leave the hidden
        temporary file (``.model.json.<random>.tmp``) next to the target; the
        target itself is never half-written. A parameter that is nan or inf is
        refused (ValueError) before anything is written.
        """
        where = f"{type(self).__name__}.save"
        target = check.path(path, "path", where)
        state = self.state_dict()
        bad = [name for name, value in state.items() if not math.isfinite(value)]
        if bad:
            raise ValueError(f"{where}: parameter {bad[0]!r} is {state[bad[0]]!r}; a model file holds finite numbers")
        document = {
            "format": FILE_FORMAT,
            "version": FILE_VERSION,
            "module": type(self).__name__,
            "config": self.config(),
            "parameters": state,
        }
        _write_atomically(target, json.dumps(document, indent=1).encode("utf-8"), where)

    def load(self, path: str | os.PathLike) -> None:
        """Read parameters written by `save` into this module.

        The whole file is checked before any parameter is set: strict JSON (no
        NaN or Infinity, no duplicate keys, no number beyond a float, no absurd
        nesting), the format and version, the module type, its `config` (layer
        sizes and activation must be this module's; the init does not matter),
        the names and the values. On any problem it raises ValueError naming the
        file and the problem, and the module is unchanged.
        """
        source = check.path(path, "path", f"{type(self).__name__}.load")
        try:
            text = source.read_text(encoding="utf-8")
        except UnicodeDecodeError as error:
            raise ValueError(f"{source}: not a circuitgrad model file (not UTF-8 text)") from error
        try:
            document = _strict_json(text)
        except _BadNumber as error:
            raise ValueError(f"{source}: not a circuitgrad model file ({error})") from None
        except json.JSONDecodeError as error:
            raise ValueError(f"{source}: not a circuitgrad model file (bad or truncated JSON: {error})") from None
        except RecursionError:
            raise ValueError(f"{source}: not a circuitgrad model file (nested too deeply)") from None
        if not isinstance(document, dict) or document.get("format") != FILE_FORMAT:
            raise ValueError(f"{source}: not a circuitgrad model file (no format {FILE_FORMAT!r})")
        version = document.get("version")
        if type(version) is not int or version != FILE_VERSION:
            raise ValueError(f"{source}: unsupported version {check.shown(version)} (this is {FILE_VERSION})")
        if document.get("module") != type(self).__name__:
            raise ValueError(f"{source}: holds a {document.get('module')!r}, not a {type(self).__name__}")
        if "parameters" not in document:
            raise ValueError(f"{source}: has no parameters")
        unexpected = [key for key in document if key not in _FILE_KEYS]
        if unexpected:
            raise ValueError(
                f"{source}: unexpected entry {_few(unexpected)} (a model file has {', '.join(_FILE_KEYS)})"
            )
        if "config" not in document:
            raise ValueError(f"{source}: has no config")
        problem = self._config_mismatch(document["config"])
        if problem:
            raise ValueError(f"{source}: {problem}")
        try:
            numbers = self._checked_state(document["parameters"])
        except ValueError as error:
            raise ValueError(f"{source}: {error}") from None
        for name, p in self.named_parameters():
            p.data = numbers[name]

    def _config_mismatch(self, config: object) -> str:
        """What differs between a file's config and this module's ('' if nothing); the init is not compared."""
        if not isinstance(config, dict):
            return f"config must be a dict, not {check.shown(config)}"
        ours = self.config()
        if "init" in config and config["init"] not in INITS:
            return f"config init is {check.shown(config['init'])}, not one of {', '.join(INITS)}"
        problems = []
        for key in sorted(set(ours) | set(config)):
            if key == "init":
                continue
            if key not in config:
                problems.append(f"has no {key}")
            elif key not in ours:
                problems.append(f"has an unknown entry {key!r}")
            elif config[key] != ours[key] or type(config[key]) is bool:
                problems.append(f"the file's {key} is {check.shown(config[key])}, this model's is {ours[key]!r}")
        if problems:
            return f"config does not match this {type(self).__name__}: " + "; ".join(problems)
        return ""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({_count(self)})"


class _BadNumber(ValueError):
    """A number in a model file that no float can hold, or a NaN / Infinity constant."""


def _parse_int(text: str) -> int:
    digits = len(text.lstrip("-"))
    if digits > 309:  # the largest float has 309 digits; int() would also meet Python's digit limit
        raise _BadNumber(f"an integer of {digits} digits is beyond any float")
    number = int(text)
    try:
        float(number)
    except OverflowError:
        raise _BadNumber(f"the integer {text[:12]}... is beyond any float") from None
    return number


def _parse_float(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise _BadNumber(f"the number {text[:40]} is beyond any float")
    return number


def _parse_constant(name: str) -> float:
    raise _BadNumber(f"{name} is not a number a model file may hold")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    document = dict(pairs)
    if len(document) != len(pairs):
        seen: set[str] = set()
        twice = next(key for key, _ in pairs if key in seen or seen.add(key))  # type: ignore[func-returns-value]
        raise _BadNumber(f"the key {twice!r} appears twice")
    return document


def _strict_json(text: str) -> Any:
    """JSON as the standard says it: no NaN / Infinity, no duplicate keys, and every number fits a float."""
    return json.loads(
        text,
        parse_int=_parse_int,
        parse_float=_parse_float,
        parse_constant=_parse_constant,
        object_pairs_hook=_no_duplicates,
    )


class _Signalled(BaseException):
    """Raised in the main thread by the temporary handlers of `_signals_raise`, so a save can clean up."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


@contextlib.contextmanager
def _signals_raise() -> Iterator[None]:
    """Inside: SIGTERM, SIGINT and SIGHUP, where they would kill the process at once, raise instead.

    On the way out the old handlers come back and a caught signal is delivered
    again, so the process still ends as that signal says, after the cleanup.
    Handlers can only be set in the main thread; elsewhere this does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    names = ("SIGTERM", "SIGINT", "SIGHUP")
    fatal = [getattr(signal, n) for n in names if hasattr(signal, n)]
    fatal = [signum for signum in fatal if signal.getsignal(signum) == signal.SIG_DFL]

    def handler(signum: int, frame: object) -> None:
        raise _Signalled(signum)

    old = {signum: signal.signal(signum, handler) for signum in fatal}
    try:
        yield
    except _Signalled as caught:
        for signum, previous in old.items():
            signal.signal(signum, previous)
        old = {}
        signal.raise_signal(caught.signum)  # the default action: the process ends here
        raise
    finally:
        for signum, previous in old.items():
            signal.signal(signum, previous)


def _write_atomically(path: Path, data: bytes, where: str) -> None:
    """Replace the file at `path` (through symbolic links) by `data`: never half-written."""
    target = Path(os.path.realpath(path))  # a link stays a link; the file it points to is replaced
    folder = target.parent
    if not folder.is_dir():
        raise FileNotFoundError(f"{where}: the folder {str(folder)!r} does not exist")
    if target.is_dir():
        raise IsADirectoryError(f"{where}: {str(path)!r} is a folder, not a file")
    try:
        mode: int | None = stat.S_IMODE(os.stat(target).st_mode)  # an existing file keeps its permissions
    except FileNotFoundError:
        mode = None  # a new file: os.open applies the umask to 0o666, as open() does
    temporary = folder / f".{target.name}.{secrets.token_hex(8)}.tmp"
    with _signals_raise():
        try:
            fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            raise  # not ours (64 random bits make this all but impossible): leave it
        except BaseException:
            _remove(temporary)  # a signal that came just after the file was made
            raise
        try:
            try:
                if mode is not None:
                    os.chmod(temporary, mode)
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view) :]
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(temporary, target)
        except BaseException:
            _remove(temporary)
            raise
    with contextlib.suppress(OSError):  # make the rename itself durable, where the system allows
        handle = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(handle)
        finally:
            os.close(handle)


def _remove(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


def _few(names: list[str]) -> str:
    shown = ", ".join(repr(n) for n in names[:3])
    return shown + (f" and {len(names) - 3} more" if len(names) > 3 else "")


def _count(module: Module) -> str:
    n = len(module.parameters())
    return f"{n:,} parameter" + ("" if n == 1 else "s")


def _indent(text: str) -> str:
    return text.replace("\n", "\n  ")


def _check_input(x: Any, nin: int, where: str) -> None:
    """One input of `nin` numbers (or Values), or a clear error: the forward pass's only check, kept cheap."""
    try:
        n = len(x) if check.is_list_like(x) else None
    except TypeError:  # a 0-d NumPy array
        n = None
    if n is None:
        raise TypeError(f"{where}: x must be a list of {check.plural(nin, 'number')}, not {check.shown(x)}")
    if n != nin:
        raise ValueError(f"{where}: x has {check.plural(n, 'number')}, but this {where} takes {nin}")


def _initial_weight(rng: Any, init: str, fan_in: int, fan_out: int) -> float:
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
        rng: RandomSource | None = None,
        name: str = "",
        fan_out: int = 1,
    ):
        nin = check.count(nin, "nin", "Neuron")
        check.flag(nonlin, "nonlin", "Neuron")
        check.choice(activation, "activation", "Neuron", list(ACTIVATIONS))
        check.choice(init, "init", "Neuron", INITS)
        if not isinstance(name, str):
            raise TypeError(f"Neuron: name must be a str, not {check.shown(name)}")
        fan_out = check.count(fan_out, "fan_out", "Neuron")
        rng = make_rng(seed, rng, "Neuron")
        self.w = [Value(_initial_weight(rng, init, nin, fan_out)) for _ in range(nin)]
        self.b = Value(0.0)
        self.activation = activation if nonlin else "linear"
        self.init = init
        self.name = name

    def __call__(self, x: Input) -> Value:
        out = Value.dot(self.w, x, bias=self.b)
        out.scope = self.name
        if self.activation_op is not None:
            out = self.activation_op.apply(out)
            out.scope = self.name
        return out

    @property
    def activation_op(self) -> Op | None:
        """The activation's op (engine.ops.relu, ...), or None for a linear unit."""
        return ACTIVATIONS[self.activation]

    def named_parameters(self) -> Iterator[tuple[str, Value]]:
        for i, w in enumerate(self.w):
            yield f"w.{i}", w
        yield "b", self.b

    def parameters(self) -> list[Value]:
        return [*self.w, self.b]

    def config(self) -> dict:
        return {"nin": len(self.w), "activation": self.activation, "init": self.init}

    def __repr__(self) -> str:
        return f"{_DISPLAY_NAMES.get(self.activation, self.activation)}Neuron({len(self.w)})"


class Layer(Module):
    """`nout` neurons on the same inputs. One output gives a Value, several a list."""

    def __init__(
        self,
        nin: int,
        nout: int,
        name: str = "",
        nonlin: bool = True,
        activation: str = "relu",
        init: str = "uniform",
        seed: int | None = None,
        rng: RandomSource | None = None,
    ):
        nin = check.count(nin, "nin", "Layer")
        nout = check.count(nout, "nout", "Layer")
        check.flag(nonlin, "nonlin", "Layer")
        check.choice(activation, "activation", "Layer", list(ACTIVATIONS))
        check.choice(init, "init", "Layer", INITS)
        if not isinstance(name, str):
            raise TypeError(f"Layer: name must be a str, not {check.shown(name)}")
        rng = make_rng(seed, rng, "Layer")
        prefix = f"{name}." if name else ""
        self.neurons = [
            Neuron(nin, nonlin, activation, init, rng=rng, name=f"{prefix}neurons.{j}", fan_out=nout)
            for j in range(nout)
        ]
        self.name = name

    def __call__(self, x: Input) -> Value | list[Value]:
        _check_input(x, self.nin, "Layer")
        out = [n(x) for n in self.neurons]
        return out[0] if len(out) == 1 else out

    def named_parameters(self) -> Iterator[tuple[str, Value]]:
        for j, neuron in enumerate(self.neurons):
            for name, p in neuron.named_parameters():
                yield f"neurons.{j}.{name}", p

    def parameters(self) -> list[Value]:
        return [p for n in self.neurons for p in n.parameters()]

    @property
    def nin(self) -> int:
        """The number of inputs, read from the first neuron."""
        return len(self.neurons[0].w)

    def config(self) -> dict:
        first = self.neurons[0].config()
        return {"nin": first["nin"], "nout": len(self.neurons), "activation": first["activation"]}

    def __repr__(self) -> str:
        """``Layer(2 -> 16, ReLU, 48 parameters)``; neurons that differ are listed, runs of equal ones as one line."""
        shown = [repr(n) for n in self.neurons]
        if len(set(shown)) == 1 and all(type(n) is Neuron for n in self.neurons):
            kind = _DISPLAY_NAMES.get(self.neurons[0].activation, self.neurons[0].activation)
            return f"Layer({self.nin} -> {len(self.neurons)}, {kind}, {_count(self)})"
        lines = [f"Layer({self.nin} -> {len(self.neurons)}, {_count(self)})"]
        start = 0
        for j in range(1, len(shown) + 1):
            if j == len(shown) or shown[j] != shown[start]:  # the end of a run of equal neurons
                run = j - start
                index = f"({start})" if run == 1 else f"({start}-{j - 1})"
                lines.append(f"  {index}: {'' if run == 1 else f'{run} x '}{_indent(shown[start])}")
                start = j
        return "\n".join(lines)


class MLP(Module):
    """Layers of sizes `nouts` on `nin` inputs; hidden layers use `activation`, the last is linear.

    ``MLP(2, [16, 16, 1])`` is micrograd's demo network. ``print(model)`` shows
    its layers and parameter counts.
    """

    def __init__(
        self,
        nin: int,
        nouts: Sequence[int],
        activation: str = "relu",
        init: str = "uniform",
        seed: int | None = None,
        rng: RandomSource | None = None,
    ):
        nin = check.count(nin, "nin", "MLP")
        sizes = "a non-empty list of layer sizes (positive whole numbers)"
        layer_sizes = check.sequence(nouts, "nouts", "MLP", what=sizes)
        for i, size in enumerate(layer_sizes):
            layer_sizes[i] = check.count(size, f"nouts[{i}]", "MLP")
        check.choice(activation, "activation", "MLP", list(ACTIVATIONS))
        check.choice(init, "init", "MLP", INITS)
        rng = make_rng(seed, rng, "MLP")
        dims = [nin, *layer_sizes]
        self.layers = [
            Layer(
                dims[i],
                dims[i + 1],
                name=f"layers.{i}",
                nonlin=i != len(layer_sizes) - 1,
                activation=activation,
                init=init,
                rng=rng,
            )
            for i in range(len(layer_sizes))
        ]
        self.activation, self.init = activation, init

    @property
    def nin(self) -> int:
        """The number of inputs, read from the first layer."""
        return self.layers[0].nin

    @property
    def nouts(self) -> list[int]:
        """The layer sizes, read from the layers."""
        return [len(layer.neurons) for layer in self.layers]

    def __call__(self, x: Input) -> Value | list[Value]:
        _check_input(x, self.nin, "MLP")
        out: Any = x
        for layer in self.layers:
            if isinstance(out, Value):  # a hidden layer of one neuron feeds on one Value
                out = [out]
            out = layer(out)
        return out

    def named_parameters(self) -> Iterator[tuple[str, Value]]:
        for i, layer in enumerate(self.layers):
            for name, p in layer.named_parameters():
                yield f"layers.{i}.{name}", p

    def config(self) -> dict:
        return {"nin": self.nin, "nouts": self.nouts, "activation": self.activation, "init": self.init}

    def __repr__(self) -> str:
        """``MLP(2 -> [16, 16, 1], relu, 337 parameters)``, then one indented line per layer."""
        lines = [f"MLP({self.nin} -> {self.nouts}, {self.activation}, {_count(self)})"]
        lines += [f"  ({i}): {_indent(repr(layer))}" for i, layer in enumerate(self.layers)]
        return "\n".join(lines)


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
        rng: RandomSource | None = None,
    ):
        nin = check.count(nin, "nin", "RNN")
        nhidden = check.count(nhidden, "nhidden", "RNN")
        check.choice(activation, "activation", "RNN", list(ACTIVATIONS))
        check.choice(init, "init", "RNN", INITS)
        rng = make_rng(seed, rng, "RNN")
        self.cell = Layer(nin + nhidden, nhidden, name="cell", activation=activation, init=init, rng=rng)
        self.nin, self.nhidden, self.activation, self.init = nin, nhidden, activation, init

    def __call__(self, xs: Sequence[Input], h0: Input | None = None) -> list[list[Value]]:
        """The hidden states for the inputs `xs` (each `nin` numbers), from `h0` (`nhidden` numbers; zeros if None)."""
        steps = check.sequence(xs, "xs", "RNN", what="a list of inputs (one list of numbers per step)", empty=True)
        for t, x in enumerate(steps):
            row = check.sequence(x, f"xs[{t}]", "RNN", what=f"a list of {check.plural(self.nin, 'number')}", empty=True)
            if len(row) != self.nin:
                raise ValueError(f"RNN: xs[{t}] must hold {check.plural(self.nin, 'number')}, not {len(row)}")
        if h0 is None:
            h: list = [0.0] * self.nhidden
        else:
            what = f"a list of {check.plural(self.nhidden, 'number')} or None"
            h = check.sequence(h0, "h0", "RNN", what=what, empty=True)
            if len(h) != self.nhidden:
                raise ValueError(f"RNN: h0 must hold {check.plural(self.nhidden, 'number')}, not {len(h)}")
        states = []
        for x in steps:
            out = self.cell([*x, *h])
            h = [out] if isinstance(out, Value) else out
            states.append(h)
        return states

    def named_parameters(self) -> Iterator[tuple[str, Value]]:
        for name, p in self.cell.named_parameters():
            yield f"cell.{name}", p

    def config(self) -> dict:
        return {"nin": self.nin, "nhidden": self.nhidden, "activation": self.activation, "init": self.init}

    def __repr__(self) -> str:
        """``RNN(2 -> 3, tanh, 18 parameters)``, then its cell."""
        head = f"RNN({self.nin} -> {self.nhidden}, {self.activation}, {_count(self)})"
        return f"{head}\n  (cell): {_indent(repr(self.cell))}"
