"""`circuitgrad gpt`: train microgpt's GPT on names (or any file of lines), sample, and show its inside."""

from __future__ import annotations

import argparse
import random
import shutil
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from .cli import make_out_dir, non_negative_int, positive_float, positive_int, writable_dir
from .data import documents, names
from .gpt import GPT, CharTokenizer, fit_gpt
from .gpt_inside import plot_attention, plot_gpt_loss, position_graph


def _documents(text: str) -> list[str]:
    try:
        return documents(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def add_parser(commands: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register `gpt` on the subcommands of the `circuitgrad` parser."""
    parser = commands.add_parser(
        "gpt",
        help="train microgpt's GPT on first names and sample new ones",
        description="Train microgpt's character-level GPT (Karpathy, 2026) built from scalar Values: one "
        "document per step, Adam (lr 0.01 decaying to 0, betas 0.85/0.99). Prints samples and writes into --out "
        "the model (model.json), the loss curve (loss.png), the attention maps of a sample (attention.png) and, "
        "where Graphviz is installed, the graph of one position collapsed by module (graph.svg).",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--steps", type=positive_int, default=1000, help="training steps (one document each)")
    parser.add_argument(
        "--data",
        type=_documents,
        default=None,
        metavar="FILE",
        help="a UTF-8 text file, one document per line (default: the 5,163 first names shipped with nn)",
    )
    parser.add_argument("--n-embd", type=positive_int, default=16, help="embedding width")
    parser.add_argument("--n-head", type=positive_int, default=4, help="attention heads (must divide --n-embd)")
    parser.add_argument("--n-layer", type=positive_int, default=1, help="transformer layers")
    parser.add_argument("--block-size", type=positive_int, default=16, help="positions the model sees")
    parser.add_argument("--temperature", type=positive_float, default=0.5, help="sampling temperature")
    parser.add_argument("--samples", type=non_negative_int, default=20, help="samples to print")
    parser.add_argument("--seed", type=non_negative_int, default=42, help="seed: the shuffle, the weights, the samples")
    parser.add_argument(
        "--out", type=writable_dir, default="out", metavar="FOLDER", help="folder for the outputs, made if needed"
    )
    how = parser.add_mutually_exclusive_group()
    how.add_argument(
        "--staged",
        action="store_true",
        default=True,
        help="run the steps with code written out once (engine.stage): the same numbers as --graph, bit for bit, "
        "several times faster",
    )
    how.add_argument(
        "--graph",
        dest="staged",
        action="store_false",
        default=argparse.SUPPRESS,
        help="build each step's graph and call backward() on it, instead of --staged",
    )
    parser.set_defaults(run=run, check=check_gpt, command_parser=parser)
    return parser


def check_gpt(args: argparse.Namespace) -> str:
    """A problem across flags (as argparse words it), or '' when there is none."""
    if args.n_embd % args.n_head:
        return f"argument --n-head: must divide --n-embd ({args.n_embd}), not {args.n_head}"
    return ""


def run(args: argparse.Namespace) -> int:
    """Train, sample and write the outputs; the arguments come from the parser made by `add_parser`."""
    make_out_dir(args.command_parser, args.out)
    docs = list(args.data) if args.data is not None else names()
    source = "the first names shipped with nn" if args.data is None else "the documents of --data"
    random.Random(args.seed).shuffle(docs)  # microgpt shuffles its documents too
    tokenizer = CharTokenizer.from_documents(docs)
    model = GPT(
        tokenizer.vocab_size,
        n_embd=args.n_embd,
        n_head=args.n_head,
        n_layer=args.n_layer,
        block_size=args.block_size,
        seed=args.seed,
        tokenizer=tokenizer,
    )
    longer = sum(1 for d in docs if len(d) + 1 > args.block_size)
    print(
        f"training {model!r} ({len(model.parameters()):,} parameters) on {len(docs):,} documents from {source}, "
        f"{tokenizer.vocab_size} tokens"
    )
    if longer:
        print(f"note: {longer} documents are longer than --block-size allows and are cut (as microgpt does)")
    start = time.perf_counter()
    history = fit_gpt(model, docs, steps=args.steps, progress=None, staged=args.staged)
    seconds = time.perf_counter() - start
    tail = history.loss[-min(50, len(history.loss)) :]
    how = " (staged)" if args.staged else " (graph)"
    print(
        f"{args.steps} steps{how} in {seconds:.1f} s ({1e3 * seconds / args.steps:.1f} ms a step); "
        f"mean loss of the last {len(tail)} steps {sum(tail) / len(tail):.4f}"
    )
    samples = model.generate(args.samples, temperature=args.temperature, seed=args.seed)
    for k, text in enumerate(samples, 1):
        print(f"sample {k:2d}: {text}")

    written = [args.out / "model.json", args.out / "loss.png", args.out / "attention.png"]
    model.save(written[0])
    plot_gpt_loss(history, path=written[1])
    shown = next((s for s in samples if s), docs[0])
    plot_attention(model, shown, path=written[2])
    diagram = _write_diagram(model, shown, args.out)
    if diagram is not None:
        written.append(diagram)
    print(f"attention maps and diagram of {shown!r}")
    print("wrote " + ", ".join(str(p) for p in written))
    return 0


def _write_diagram(model: GPT, doc: str | Sequence[int], out: Path) -> Path | None:
    """graph.svg: the loss at the last position of `doc`, a box per module scope (needs Graphviz's dot)."""
    from engine import draw_dot
    from engine.draw import DOT_INSTALL

    if shutil.which("dot") is None:
        print(f"Graphviz's dot is not installed: no diagram (install it with: {DOT_INSTALL})")
        return None
    loss = position_graph(model, doc)
    loss.label = "loss"
    title = f"the loss at the last position of {doc!r}: {loss.data:.4g}; a box per module"
    names = {p: n for n, p in model.named_parameters()}
    try:
        graph = draw_dot(loss, style="circuit", collapse="scope", rankdir="TB", names=names, title=title)
    except ImportError as error:  # the graphviz package: the [draw] extra
        print(f"no diagram: {error}")
        return None
    path = out / "graph.svg"
    path.write_bytes(graph.pipe(format="svg"))
    return path


if __name__ == "__main__":  # python -m nn.gpt_cli ...: the same as circuitgrad gpt ...
    from .cli import main

    sys.exit(main(["gpt", *sys.argv[1:]]))
