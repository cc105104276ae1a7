"""The `circuitgrad` command: `circuitgrad train` trains a small network and writes what it learned."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import gpt_cli, losses
from .data import DATASETS, signed
from .module import ACTIVATIONS, INITS, MLP
from .optim import SGD, Adam, LinearDecay
from .train import fit, plot_decision_boundary, plot_loss

BINARY = {"moons", "circles", "xor"}


def _sizes(text: str) -> list[int]:
    try:
        sizes = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"hidden sizes must be whole numbers like 16,16, not {text!r}") from None
    if any(s < 1 for s in sizes):
        raise argparse.ArgumentTypeError(f"hidden sizes must be positive, not {text!r}")
    return sizes


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="circuitgrad",
        description="A scalar autograd engine you can read. `circuitgrad train` trains a small MLP on a toy "
        "data set, shows its progress, and writes a decision-boundary plot, the loss curve and the model.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    train = commands.add_parser(
        "train",
        help="train an MLP on a toy data set (default: micrograd's demo)",
        description="Train an MLP on a 2-D toy data set. The defaults are micrograd's demo: 100 two-moons points, "
        "MLP(2, [16, 16, 1]), hinge loss + 1e-4 L2, 100 steps of SGD with the learning rate decaying from 1.0 to 0.1.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    train.add_argument("--dataset", choices=sorted(DATASETS), default="moons", help="the data set")
    train.add_argument("--samples", type=int, default=100, help="points in all (spiral: per class)")
    train.add_argument("--noise", type=float, default=0.1, help="noise of the data set")
    train.add_argument("--hidden", type=_sizes, default=[16, 16], help="hidden layer sizes, comma-separated")
    train.add_argument("--activation", choices=[a for a in ACTIVATIONS if a != "linear"], default="relu")
    train.add_argument("--init", choices=INITS, default="uniform", help="weight initialisation")
    train.add_argument("--optimizer", choices=["sgd", "adam"], default="sgd")
    train.add_argument("--lr", type=float, default=None, help="learning rate (default: 1.0 for sgd, 0.05 for adam)")
    train.add_argument("--steps", type=int, default=100, help="training steps")
    train.add_argument("--l2", type=float, default=1e-4, help="weight of the L2 penalty")
    train.add_argument("--seed", type=int, default=0, help="seed for the data and the weights")
    train.add_argument("--out", type=Path, default=Path("out"), help="folder for the outputs")
    train.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    train.add_argument(
        "--staged", action="store_true", help="build the graph once and train with its written-out code (faster)"
    )
    gpt_cli.add_parser(commands)
    return parser


def train(args: argparse.Namespace) -> int:
    make = DATASETS[args.dataset]
    kwargs = {"seed": args.seed}
    if args.dataset == "spiral":
        X, y = make(n_per_class=args.samples, noise=args.noise, **kwargs)
    elif args.dataset == "blobs":
        X, y = make(n=args.samples, std=max(args.noise, 1e-9), **kwargs)
    else:
        X, y = make(n=args.samples, noise=args.noise, **kwargs)
    binary = args.dataset in BINARY
    classes = 1 if binary else max(y) + 1
    model = MLP(2, [*args.hidden, classes], activation=args.activation, init=args.init, seed=args.seed)
    if binary:
        y = signed(y)
        loss = losses.hinge
    else:
        loss = losses.cross_entropy
    params = model.parameters()
    if args.optimizer == "sgd":
        optimizer = SGD(params, lr=args.lr or 1.0)
        schedule = LinearDecay(optimizer, optimizer.lr, optimizer.lr * 0.1, args.steps)
    else:
        optimizer, schedule = Adam(params, lr=args.lr or 0.05), None
    print(f"training {model.__class__.__name__}(2, {[*args.hidden, classes]}) on {len(X)} {args.dataset} points")
    history = fit(
        model,
        X,
        y,
        loss,
        optimizer,
        steps=args.steps,
        l2_weight=args.l2,
        schedule=schedule,
        progress=not args.no_progress,
        staged=args.staged,
    )
    print(f"final loss {history.loss[-1]:.4f}, training accuracy {history.accuracy[-1]:.1%}")

    args.out.mkdir(parents=True, exist_ok=True)
    written = [args.out / "model.json", args.out / "loss.png", args.out / "decision_boundary.png"]
    model.save(written[0])
    plot_loss(history, path=written[1])
    plot_decision_boundary(model, X, y, path=written[2])
    diagram = _write_diagram(model, X[0], args.out)
    if diagram is not None:
        written.append(diagram)
    print("wrote " + ", ".join(str(p) for p in written))
    return 0


def _write_diagram(model, x, out: Path) -> Path | None:
    """The model's computation of its first score for one input, one box per neuron (needs Graphviz)."""
    import shutil

    if shutil.which("dot") is None:
        print("Graphviz's dot is not installed: no diagram (install it with: sudo apt-get install graphviz)")
        return None
    from engine import draw_dot

    score = model(x)
    score = score if not isinstance(score, list) else score[0]
    score.backward()  # so the diagram shows d(score)/d(each value)
    model.zero_grad()
    graph = draw_dot(score, collapse="neuron")
    path = out / "graph.svg"
    path.write_bytes(graph.pipe(format="svg"))
    return path


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "train":
        return train(args)
    if args.command == "gpt":
        return gpt_cli.run(args)
    return 2


if __name__ == "__main__":
    sys.exit(main())
