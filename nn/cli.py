"""The `circuitgrad` command: `circuitgrad train` trains a small network and writes what it learned.

Conventions: every option has help text and shows its default; a bad value
exits with status 2 and one line naming the flag, before any work is done
(argparse's way: the argument types below raise `argparse.ArgumentTypeError`);
the output folder is created and checked before training starts; the progress
bar is shown only when stderr is a terminal.

A subcommand is a function that adds its parser (`add_train_command`) and
sets ``run=`` to the function that runs it (given the parsed arguments,
returning the exit status). It may also set ``check=`` to a function that
returns a usage problem found across several flags ('' for none), and
``command_parser=`` to its own parser, so errors show its usage. Add it to
`SUBCOMMANDS`. The argument types below are shared by every subcommand.
"""

from __future__ import annotations

import argparse
import inspect
import math
import os
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from . import losses
from .data import DATASETS, signed
from .module import ACTIVATIONS, INITS, MLP
from .optim import SGD, Adam, LinearDecay
from .train import BoundaryRecorder, fit, plot_decision_boundary, plot_loss

# ------------------------------------------------------------------ argument types


def _number(text: str) -> float:
    try:
        number = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number, not {text!r}") from None
    if not math.isfinite(number):
        raise argparse.ArgumentTypeError(f"must be a finite number, not {text!r}")
    return number


def positive_float(text: str) -> float:
    """A finite number > 0, such as a learning rate."""
    number = _number(text)
    if number <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive number, not {text!r}")
    return number


def non_negative_float(text: str) -> float:
    """A finite number >= 0, such as a noise level or a penalty weight."""
    number = _number(text)
    if number < 0:
        raise argparse.ArgumentTypeError(f"must be a number >= 0, not {text!r}")
    return number


def probability(text: str) -> float:
    """A number in [0, 1]."""
    number = _number(text)
    if not 0 <= number <= 1:
        raise argparse.ArgumentTypeError(f"must be a number in [0, 1], not {text!r}")
    return number


def _whole_number(text: str, least: int) -> int:
    try:
        number = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, not {text!r}") from None
    if number < least:
        raise argparse.ArgumentTypeError(f"must be at least {least}, not {text!r}")
    return number


def positive_int(text: str) -> int:
    """A whole number >= 1, such as a count of steps."""
    return _whole_number(text, 1)


def non_negative_int(text: str) -> int:
    """A whole number >= 0, such as a count of samples to print."""
    return _whole_number(text, 0)


def layer_sizes(text: str) -> list[int]:
    """Comma-separated positive whole numbers, such as 16,16."""
    try:
        sizes = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"hidden sizes must be whole numbers like 16,16, not {text!r}") from None
    if not sizes or any(s < 1 for s in sizes):
        raise argparse.ArgumentTypeError(f"hidden sizes must be positive whole numbers like 16,16, not {text!r}")
    return sizes


def writable_dir(text: str) -> Path:
    """A folder that exists and is writable, or can be made: checked without making anything.

    `make_out_dir` then makes it and tries a write, before any work is done.
    """
    if not text:
        raise argparse.ArgumentTypeError("must name a folder, not ''")
    path = Path(text)
    if path.exists() and not path.is_dir():
        raise argparse.ArgumentTypeError(f"{text!r} is a file, not a folder")
    existing = path.absolute()
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        raise argparse.ArgumentTypeError(f"cannot make {text!r}: {str(existing)!r} is a file, not a folder")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise argparse.ArgumentTypeError(f"cannot write in {str(existing)!r} (permission denied)")
    return path


def make_out_dir(parser: argparse.ArgumentParser, path: Path, flag: str = "--out") -> Path:
    """Make the folder and write a test file in it; on failure exit 2 naming `flag` (parser.error)."""
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as error:
        parser.error(f"argument {flag}: cannot write in {str(path)!r}: {error.strerror or error}")
    return path


def version() -> str:
    """The installed distribution's version, or the package's own where it is not installed."""
    from importlib import metadata

    try:
        return metadata.version("circuitgrad")
    except metadata.PackageNotFoundError:
        from . import __version__

        return __version__


# ------------------------------------------------------------ circuitgrad train

BINARY = {"moons", "circles", "xor"}


def _noise_default(dataset: str) -> float:
    """The library's own default noise for a data set (blobs calls it `std`)."""
    parameters = inspect.signature(DATASETS[dataset]).parameters
    return parameters["std" if dataset == "blobs" else "noise"].default


def _fewest_samples(dataset: str) -> int:
    return {"xor": 4, "blobs": inspect.signature(DATASETS["blobs"]).parameters["centers"].default}.get(dataset, 2)


def add_train_command(commands: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """`circuitgrad train`: its options, each with help and its default."""
    train_parser = commands.add_parser(
        "train",
        help="train an MLP on a toy data set (default: micrograd's demo)",
        description="Train an MLP on a 2-D toy data set. The defaults are micrograd's demo: 100 two-moons points, "
        "MLP(2, [16, 16, 1]), hinge loss + 1e-4 L2, 100 steps of SGD with the learning rate decaying from 1.0 to 0.1.",
    )
    noises = ", ".join(f"{name} {_noise_default(name)}" for name in sorted(DATASETS))
    add = train_parser.add_argument
    add("--dataset", choices=sorted(DATASETS), default="moons", help="the data set (default: %(default)s)")
    add(
        "--samples",
        type=positive_int,
        default=100,
        metavar="N",
        help="points in all; spiral: per class (default: %(default)s)",
    )
    add(
        "--noise",
        type=non_negative_float,
        default=None,
        metavar="STD",
        help="standard deviation of the Gaussian noise, as in nn.data; blobs: the spread of each blob "
        f"(default: the data set's own: {noises})",
    )
    add(
        "--hidden",
        type=layer_sizes,
        default="16,16",
        metavar="SIZES",
        help="hidden layer sizes, comma-separated (default: %(default)s)",
    )
    activations = [a for a in ACTIVATIONS if a != "linear"]
    add("--activation", choices=activations, default="relu", help="of the hidden layers (default: %(default)s)")
    add("--init", choices=INITS, default="uniform", help="weight initialisation (default: %(default)s)")
    add("--optimizer", choices=["sgd", "adam"], default="sgd", help="the optimizer (default: %(default)s)")
    add(
        "--lr",
        type=positive_float,
        default=None,
        help="learning rate (default: 1.0 for sgd, decaying linearly to a tenth of it; 0.05 for adam)",
    )
    add("--steps", type=positive_int, default=100, metavar="N", help="training steps (default: %(default)s)")
    add(
        "--l2",
        type=non_negative_float,
        default=1e-4,
        metavar="WEIGHT",
        help="weight of the L2 penalty (default: %(default)s)",
    )
    add("--seed", type=int, default=0, help="seed for the data and the weights (default: %(default)s)")
    add(
        "--out",
        type=writable_dir,
        default="out",
        metavar="FOLDER",
        help="folder for the outputs, made if needed (default: %(default)s)",
    )
    add(
        "--no-progress",
        action="store_true",
        help="hide the progress bar (it is hidden anyway when stderr is not a terminal)",
    )
    add(
        "--staged",
        nargs="?",
        const="python",
        choices=["python", "c"],
        default=None,
        help="write one sample's forward and backward pass out as code once and train with it (faster); "
        "--staged c compiles that code with the C compiler (fastest). Same numbers either way",
    )
    add(
        "--animate",
        action="store_true",
        help="also write training.gif, the decision boundary as it learns (slower)",
    )
    train_parser.set_defaults(run=train, check=check_train, command_parser=train_parser)
    return train_parser


def check_train(args: argparse.Namespace) -> str:
    """A problem across flags (as argparse would word it), or '' when there is none."""
    fewest = _fewest_samples(args.dataset)
    if args.samples < fewest:
        return f"argument --samples: {args.dataset} needs at least {fewest}, not {args.samples}"
    return ""


def train(args: argparse.Namespace) -> int:
    """Train, then write model.json, loss.png, decision_boundary.png and graph.svg into --out."""
    make_out_dir(args.command_parser, args.out)
    noise = args.noise if args.noise is not None else _noise_default(args.dataset)
    make = DATASETS[args.dataset]
    if args.dataset == "spiral":
        X, y = make(n_per_class=args.samples, noise=noise, seed=args.seed)
    elif args.dataset == "blobs":
        X, y = make(n=args.samples, std=noise, seed=args.seed)
    else:
        X, y = make(n=args.samples, noise=noise, seed=args.seed)
    binary = args.dataset in BINARY
    classes = 1 if binary else max(y) + 1
    model = MLP(2, [*args.hidden, classes], activation=args.activation, init=args.init, seed=args.seed)
    loss: Callable
    if binary:
        y = signed(y)
        loss = losses.hinge
    else:
        loss = losses.cross_entropy
    params = model.parameters()
    optimizer: SGD | Adam
    if args.optimizer == "sgd":
        optimizer = SGD(params, lr=args.lr if args.lr is not None else 1.0)
        schedule = LinearDecay(optimizer, optimizer.lr, optimizer.lr * 0.1, args.steps)
    else:
        optimizer, schedule = Adam(params, lr=args.lr if args.lr is not None else 0.05), None
    every = max(1, args.steps // 20)  # about 20 frames
    recorder = BoundaryRecorder(model, X, y, every=every, dataset=args.dataset) if args.animate else None
    print(f"training MLP(2, {[*args.hidden, classes]}) on {len(X)} {args.dataset} points")
    history = fit(
        model,
        X,
        y,
        loss,
        optimizer,
        steps=args.steps,
        l2_weight=args.l2,
        schedule=schedule,
        progress=not args.no_progress and sys.stderr.isatty(),
        staged=args.staged or False,
        callback=recorder,
    )
    print(f"final loss {history.loss[-1]:.4f}, training accuracy {history.accuracy[-1]:.1%}")

    written = [args.out / "model.json", args.out / "loss.png", args.out / "decision_boundary.png"]
    model.save(written[0])
    plot_loss(history, path=written[1])
    plot_decision_boundary(model, X, y, path=written[2], dataset=args.dataset)
    if recorder is not None:
        written.append(recorder.save(args.out / "training.gif"))
    diagram = _write_diagram(model, X[0], args.out)
    if diagram is not None:
        written.append(diagram)
    print("wrote " + ", ".join(str(p) for p in written))
    return 0


def _write_diagram(model: MLP, x: Sequence[float], out: Path) -> Path | None:
    """graph.svg: the model's first score for one input, a box per layer with one neuron drawn in full.

    Every value and its gradient d(score)/d(value) are shown; the weights carry their
    names; neurons off for this input are greyed. Needs Graphviz's dot and the graphviz package.
    """
    import shutil

    from engine import draw_dot
    from engine.draw import DOT_INSTALL

    if shutil.which("dot") is None:
        print(f"Graphviz's dot is not installed: no diagram (install it with: {DOT_INSTALL})")
        return None
    scores = model(x)
    score = scores if not isinstance(scores, list) else scores[0]
    score.label = "score" if not isinstance(scores, list) else "score of class 0"
    score.backward()  # so the diagram shows d(score)/d(each value)
    model.zero_grad()
    sizes = [len(layer.neurons) for layer in model.layers]
    shown = ", ".join(f"{float(v):.4g}" for v in x)
    title = f"MLP({model.layers[0].nin}, {sizes}) on one input x = ({shown}): {score.label} {score.data:.4g}"
    names = {p: n for n, p in model.named_parameters()}
    try:
        graph = draw_dot(score, style="circuit", collapse="layer", names=names, title=title)
    except ImportError as error:  # the graphviz package: the [draw] extra
        print(f"no diagram: {error}")
        return None
    path = out / "graph.svg"
    path.write_bytes(graph.pipe(format="svg"))
    return path


# ------------------------------------------------------------------- the command


def add_gpt_command(commands: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """`circuitgrad gpt` (nn/gpt_cli.py), imported when the parser is built: it uses the types above."""
    from . import gpt_cli

    return gpt_cli.add_parser(commands)


SUBCOMMANDS: tuple[Callable[[argparse._SubParsersAction], argparse.ArgumentParser], ...] = (
    add_train_command,
    add_gpt_command,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="circuitgrad",
        description="A scalar autograd engine you can read. `circuitgrad train` trains a small MLP on a toy "
        "data set, shows its progress, and writes a decision-boundary plot, the loss curve and the model.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {version()}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add_command in SUBCOMMANDS:
        add_command(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run `circuitgrad` with `argv` (default: the command line); return the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    check = getattr(args, "check", None)
    problem = check(args) if check is not None else ""
    if problem:
        getattr(args, "command_parser", parser).error(problem)
    try:
        status: int = args.run(args)
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader of the output went away (`circuitgrad gpt | head`): stop quietly, as Unix tools do,
        # with stdout pointed at /dev/null so that Python's last flush at exit does not fail again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
        return 1
    return status


if __name__ == "__main__":
    sys.exit(main())
