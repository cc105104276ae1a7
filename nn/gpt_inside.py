"""Seeing inside the GPT: attention maps, dead ReLUs, saturated softmaxes, gradients per module.

The leaks of backprop show up in a transformer too:

* a ReLU of the MLP block that is off at every position of every document gets
  no gradient: it is dead, as in an MLP;
* an attention row that puts almost all its weight on one position is a
  saturated softmax: its local gradients w_i (delta_ij - w_j) are all near 0,
  so almost nothing reaches that position's query and the keys;
* the gradient per module (embeddings, each projection, the MLP, lm_head)
  shows where learning happens, and where it does not.

matplotlib is imported only to plot.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from engine import Value, no_grad, scope

from .gpt import GPT, GPTHistory, Trace, neg_log_prob

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure


def _framed(model: GPT, doc: str | Sequence[int]) -> list[int]:
    """A document as token ids [BOS, ..., BOS]: a string is encoded with the model's tokenizer."""
    if isinstance(doc, str):
        if model.tokenizer is None:
            raise ValueError("the document is a string but the model has no tokenizer")
        return model.tokenizer.frame(doc)
    return model.check_tokens(doc, least=2)


def trace(model: GPT, doc: str | Sequence[int]) -> Trace:
    """What the model computes inside on one document (its first block_size positions), no graph kept."""
    tokens = _framed(model, doc)
    recorded = model.new_trace()
    with no_grad():
        cache = model.new_cache(recorded)
        for token in tokens[: min(model.block_size, len(tokens) - 1)]:
            model.forward(token, cache)
    return recorded


def attention_maps(model: GPT, doc: str | Sequence[int]) -> list[list[list[list[float]]]]:
    """maps[layer][head]: a square matrix, row t the weights position t gives positions 0..t (nan after t)."""
    recorded = trace(model, doc)
    maps = []
    for layer in recorded.attention:
        heads = []
        for rows in layer:
            size = len(rows)
            heads.append([row + [math.nan] * (size - len(row)) for row in rows])
        maps.append(heads)
    return maps


def plot_attention(model: GPT, doc: str | Sequence[int], path: str | os.PathLike | None = None) -> Figure:
    """One heatmap per head (a row of heads per layer): who attends to whom in `doc`. Saved to `path` if given."""
    import matplotlib.pyplot as plt

    tokens = _framed(model, doc)
    maps = attention_maps(model, tokens)
    size = len(maps[0][0])
    labels = [model.tokenizer.label(t) if model.tokenizer else str(t) for t in tokens[:size]]
    fig, axes = plt.subplots(
        model.n_layer,
        model.n_head,
        figsize=(2.6 * model.n_head + 0.8, 2.6 * model.n_layer + 0.4),
        squeeze=False,
        layout="constrained",
    )
    for i, layer in enumerate(maps):
        for h, matrix in enumerate(layer):
            ax = axes[i][h]
            image = ax.imshow(matrix, vmin=0.0, vmax=1.0, cmap="viridis")
            ax.set_xticks(range(size), labels, fontsize=7)
            ax.set_yticks(range(size), labels, fontsize=7)
            ax.set_title(f"layer {i}, head {h}", fontsize=9)
            if h == 0:
                ax.set_ylabel("position (query)", fontsize=8)
            if i == model.n_layer - 1:
                ax.set_xlabel("attends to (key)", fontsize=8)
    text = doc if isinstance(doc, str) else model.tokenizer.decode(tokens) if model.tokenizer else ""
    fig.suptitle(f"attention weights{f' on {text!r}' if text else ''}", fontsize=10)
    fig.colorbar(image, ax=axes, shrink=0.8, label="weight")
    if path is not None:
        fig.savefig(path, dpi=100)
        plt.close(fig)
    return fig


def plot_gpt_loss(history: GPTHistory, path: str | os.PathLike | None = None, ax: Axes | None = None) -> Axes:
    """Each step's loss (one document: noisy) and its moving average; saved to `path` if given."""
    import matplotlib.pyplot as plt

    fig = None
    if ax is None:
        fig, ax = plt.subplots(figsize=(6, 4))
    losses = history.loss
    ax.plot(losses, color="tab:blue", alpha=0.3, linewidth=0.8, label="loss of the step's document")
    window = max(1, min(50, len(losses) // 10))
    if len(losses) >= window:
        running, averaged = sum(losses[:window]), []
        for k in range(window, len(losses) + 1):
            averaged.append(running / window)
            if k < len(losses):
                running += losses[k] - losses[k - window]
        ax.plot(range(window - 1, len(losses)), averaged, color="tab:blue", label=f"mean of {window} steps")
    ax.set_xlabel("step")
    ax.set_ylabel("loss (nats per token)")
    ax.set_title("training")
    ax.legend()
    if fig is not None:
        fig.tight_layout()
        if path is not None:
            fig.savefig(path, dpi=100)
            plt.close(fig)
    return ax


def position_graph(model: GPT, doc: str | Sequence[int], position: int | None = None) -> Value:
    """The loss at one position of `doc`, as a graph of that position alone, with its gradients computed.

    The earlier positions run first under `no_grad()` in scope ``cache``: their
    keys and values enter the graph as leaves, as the KV cache hands them on.
    `position` defaults to the last one. Draw it with
    ``engine.draw_dot(root, collapse='neuron')``: one box per module
    (embedding, norms, wq/wk/wv, each head, wo, the MLP's fc1, ReLUs and fc2,
    lm_head, the loss). The model's own gradients are left as they were.
    """
    tokens = _framed(model, doc)
    n = min(model.block_size, len(tokens) - 1)
    position = n - 1 if position is None else position
    if isinstance(position, bool) or not isinstance(position, int) or not 0 <= position < n:
        raise ValueError(f"position must be a whole number in 0..{n - 1}, not {position!r}")
    cache = model.new_cache()
    with no_grad(), scope("cache"):
        for pos in range(position):
            model.forward(tokens[pos], cache)
    logits = model.forward(tokens[position], cache)
    with scope("loss"):
        loss = neg_log_prob(logits, tokens[position + 1])
    params = model.parameters()
    kept = [p.grad for p in params]
    loss.backward()
    for p, grad in zip(params, kept):
        p.grad = grad
    return loss


# ---------------------------------------------------------------------- diagnostics


@dataclass
class ModuleGradients:
    """Gradient statistics of one module's parameters (e.g. ``layers.0.attn.wq``)."""

    module: str
    count: int
    norm: float
    mean_abs: float
    weight_norm: float
    update_ratio: float | None  # lr * |grad| / |weights|

    def __str__(self) -> str:
        ratio = "" if self.update_ratio is None else f", update/weight {self.update_ratio:.2e}"
        return f"{self.module}: grad norm {self.norm:.3e}, mean |grad| {self.mean_abs:.3e}{ratio}"


def module_gradients(model: GPT, lr: float | None = None) -> list[ModuleGradients]:
    """Per module, from the parameters' current `.grad`: norm, mean |g|, and (given lr) lr |g| / |w|."""
    groups: dict[str, list[Value]] = {}
    for name, p in model.named_parameters():
        module = name.rsplit(".weight.", 1)[0].rsplit(".bias.", 1)[0]
        groups.setdefault(module, []).append(p)
    stats = []
    for module, params in groups.items():
        norm = math.sqrt(sum(p.grad * p.grad for p in params))
        weight_norm = math.sqrt(sum(p.data * p.data for p in params))
        ratio = None if lr is None else (lr * norm / weight_norm if weight_norm else math.inf)
        mean_abs = sum(abs(p.grad) for p in params) / len(params)
        stats.append(ModuleGradients(module, len(params), norm, mean_abs, weight_norm, ratio))
    return stats


class ModuleGradientMonitor:
    """Records `module_gradients` at every step of `fit_gpt`: pass it as ``callback=``.

    ``monitor.norms[module]`` is that module's gradient norm, one per step.
    """

    def __init__(self, model: GPT, lr: float | None = None):
        self.model, self.lr = model, lr
        self.steps: list[list[ModuleGradients]] = []

    def __call__(self, step: int, loss: Value) -> None:
        self.steps.append(module_gradients(self.model, self.lr))

    @property
    def norms(self) -> dict[str, list[float]]:
        names = [g.module for g in self.steps[0]] if self.steps else []
        return {name: [step[i].norm for step in self.steps] for i, name in enumerate(names)}

    def plot(self, ax: Axes | None = None, window: int = 20) -> Axes:
        """Each module's gradient norm over the steps (a moving mean of `window` steps, log scale)."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(7, 4))
        for name, norms in self.norms.items():
            k = max(1, min(window, len(norms)))
            smooth = [sum(norms[i - k + 1 : i + 1]) / k for i in range(k - 1, len(norms))]
            ax.plot(range(k - 1, len(norms)), smooth, label=name)
        ax.set_yscale("log")
        ax.set_xlabel("step")
        ax.set_ylabel(f"gradient norm (mean of {window} steps)")
        ax.legend(fontsize=7)
        return ax


@dataclass(repr=False)
class GPTReport:
    """What `diagnose_gpt` found. A summary in the REPL, tables in Jupyter."""

    loss: float
    documents: int
    positions: int
    mlp_units: int
    dead: list[tuple[int, int]]  # (layer, unit) of MLP ReLUs off at every position
    active: list[float]  # per layer: the fraction of (unit, position) pairs where the ReLU is on
    attention_saturation: list[list[float]]  # [layer][head]: fraction of rows with >= 1 - threshold on one position
    threshold: float
    gradients: list[ModuleGradients]
    non_finite: list[str]

    def warnings(self) -> list[str]:
        found = []
        if self.non_finite:
            found.append(f"nan or inf gradients in {', '.join(self.non_finite[:3])}")
        for i in range(len(self.active)):
            dead = sum(1 for layer, _ in self.dead if layer == i)
            if dead:
                found.append(f"layer {i}: {dead} of {self.mlp_units} MLP ReLUs dead on these documents")
        for i, heads in enumerate(self.attention_saturation):
            for h, fraction in enumerate(heads):
                if fraction > 0.5:
                    found.append(
                        f"layer {i}, head {h}: {fraction:.0%} of attention rows put more than "
                        f"{1 - self.threshold:.0%} of their weight on one position (saturated softmax)"
                    )
        for g in self.gradients:
            if g.norm == 0:
                found.append(f"{g.module} receives no gradient at all")
        return found

    def __str__(self) -> str:
        lines = [f"loss {self.loss:.4f} over {self.documents} documents ({self.positions} positions)"]
        for i, active in enumerate(self.active):
            dead = sum(1 for layer, _ in self.dead if layer == i)
            heads = ", ".join(f"{s:.0%}" for s in self.attention_saturation[i])
            lines.append(
                f"layer {i}: MLP ReLUs on {active:.0%} of the time, {dead} of {self.mlp_units} dead; "
                f"saturated attention rows per head: {heads}"
            )
        lines.append(f"{'module':<22} {'grad norm':>10} {'mean |grad|':>12} {'update/weight':>14}")
        for g in self.gradients:
            ratio = "" if g.update_ratio is None else f"{g.update_ratio:.2e}"
            lines.append(f"{g.module:<22} {g.norm:>10.3e} {g.mean_abs:>12.3e} {ratio:>14}")
        lines += [f"warning: {w}" for w in self.warnings()] or ["no leaks found"]
        return "\n".join(lines)

    __repr__ = __str__

    def _repr_html_(self) -> str:
        import html

        rows = "".join(
            f"<tr><td>{i}</td><td>{active:.0%}</td><td>{sum(1 for layer, _ in self.dead if layer == i)} of "
            f"{self.mlp_units}</td><td>{', '.join(f'{s:.0%}' for s in self.attention_saturation[i])}</td></tr>"
            for i, active in enumerate(self.active)
        )
        layers = (
            "<table><tr><th>layer</th><th>ReLUs on</th><th>dead ReLUs</th><th>saturated attention rows per head</th>"
            f"</tr>{rows}</table>"
        )
        grads = "".join(
            f"<tr><td>{html.escape(g.module)}</td><td>{g.norm:.3e}</td><td>{g.mean_abs:.3e}</td>"
            f"<td>{'' if g.update_ratio is None else f'{g.update_ratio:.2e}'}</td></tr>"
            for g in self.gradients
        )
        gradients = (
            "<table><tr><th>module</th><th>grad norm</th><th>mean |grad|</th><th>update/weight</th></tr>"
            f"{grads}</table>"
        )
        warnings = "".join(f"<li>{html.escape(w)}</li>" for w in self.warnings()) or "<li>no leaks found</li>"
        head = f"<p>loss {self.loss:.4f} over {self.documents} documents ({self.positions} positions)</p>"
        return head + layers + gradients + f"<ul>{warnings}</ul>"


def diagnose_gpt(
    model: GPT, docs: Sequence[str] | Sequence[Sequence[int]], threshold: float = 0.01, lr: float | None = None
) -> GPTReport:
    """Run `docs` through the model, backward their mean loss, and report what leaks.

    Dead ReLUs: MLP units off (input <= 0) at every position of every document.
    Saturation: per head, the fraction of attention rows over two or more
    positions whose largest weight is at least 1 - `threshold` (a row over one
    position is always 1 and is not counted). Gradients: per module, of the
    mean loss over `docs`. The parameters' `.grad` is left holding that gradient.
    """
    if not docs:
        raise ValueError("diagnose_gpt: docs is empty")
    if not 0 < threshold < 1:
        raise ValueError(f"diagnose_gpt: threshold must lie in (0, 1), not {threshold!r}")
    sequences = [_framed(model, doc) for doc in docs]
    recorded = model.new_trace()
    model.zero_grad()
    total = 0.0
    for tokens in sequences:
        loss = model.loss(tokens, trace=recorded)
        loss.backward(1.0 / len(sequences))  # leaves accumulate: the gradient of the mean loss
        total += loss.data
    units = 4 * model.n_embd
    dead, active = [], []
    for i, positions in enumerate(recorded.mlp):
        on = [sum(1 for row in positions if row[j] > 0) for j in range(units)]
        dead += [(i, j) for j in range(units) if on[j] == 0]
        active.append(sum(on) / (units * len(positions)))
    saturation = []
    for heads in recorded.attention:
        fractions = []
        for rows in heads:
            wide = [row for row in rows if len(row) > 1]
            hits = sum(1 for row in wide if max(row) >= 1 - threshold)
            fractions.append(hits / len(wide) if wide else 0.0)
        saturation.append(fractions)
    return GPTReport(
        loss=total / len(sequences),
        documents=len(sequences),
        positions=len(recorded.mlp[0]),
        mlp_units=units,
        dead=dead,
        active=active,
        attention_saturation=saturation,
        threshold=threshold,
        gradients=module_gradients(model, lr),
        non_finite=[name for name, p in model.named_parameters() if not math.isfinite(p.grad)],
    )
