"""A GPT built from scalars: the model of Karpathy's microgpt (2026) as circuitgrad modules.

microgpt trains a character-level GPT on a list of names with a scalar autograd
engine like this one. This is the same algorithm, number for number:

* tokens: the sorted characters of the data are ids 0..n-1; BOS, id n (the last),
  marks both the start and the end of a document: ``[BOS, e, m, m, a, BOS]``;
* x = RMSNorm(wte[token] + wpe[position]), then per layer
  x = x + Attention(RMSNorm(x)) and x = x + MLP(RMSNorm(x)), then logits = lm_head(x);
  RMSNorm without a gain, no biases, a ReLU MLP 4x wide, weights from N(0, 0.08**2);
* the model sees one position at a time: attention reads the keys and values of
  the earlier positions from a cache (`KVCache`) that each position appends to,
  in training as in sampling;
* the loss of a document is the mean over its positions of -log p(next token);
  a document longer than `block_size` positions is cut to its first
  `block_size` predictions, as microgpt does;
* Adam with betas (0.85, 0.99), eps 1e-8, lr 0.01 decaying linearly to 0, one
  document per step (`fit_gpt`); samples at temperature 0.5 stop at BOS.

What differs is how the graph is built: every matrix-vector product is one
`Value.dot` node per output and every long sum one `Value.sum` node, so a step
makes a few thousand nodes instead of microgpt's tens of thousands; and every
softmax and the loss go through one `engine.logsumexp` node instead of
subtracting the largest logit as a plain number, so nothing is read from
``.data`` and the graph depends on a document's length alone. That lets
`StagedLoss` write a step out as code once and re-run it (`fit_gpt(staged=True)`).
"""

from __future__ import annotations

import math
import os
import random
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import reduce
from operator import add
from pathlib import Path
from typing import cast

from engine import Staged, Value, gc_paused, logsumexp, no_grad, scope, stage

from . import checks as check
from .layers import Embedding, Linear, RMSNorm, Vector, softmax
from .module import Module, RandomSource, make_rng
from .optim import Adam, LinearDecay


class CharTokenizer:
    """Characters to token ids and back: the sorted characters are 0..n-1, BOS is n.

    ``CharTokenizer.from_documents(docs)`` takes the characters of the data, as
    microgpt does. BOS (beginning of sequence) also ends a document.
    """

    def __init__(self, chars: Iterable[str]):
        chars = sorted(set(chars))
        if not chars:
            raise ValueError("CharTokenizer: chars must hold at least one character")
        for c in chars:
            if not isinstance(c, str) or len(c) != 1:
                raise ValueError(f"CharTokenizer: chars must be single characters, not {c!r}")
        self.chars: list[str] = chars
        self._ids = {c: i for i, c in enumerate(chars)}
        self.bos: int = len(chars)

    @classmethod
    def from_documents(cls, docs: Iterable[str]) -> CharTokenizer:
        return cls("".join(docs))

    @property
    def vocab_size(self) -> int:
        """The characters plus BOS."""
        return len(self.chars) + 1

    def encode(self, text: str) -> list[int]:
        """The ids of text's characters (no BOS)."""
        try:
            return [self._ids[c] for c in text]
        except KeyError as error:
            known = "".join(self.chars)
            raise ValueError(f"text holds {error.args[0]!r}, which is not in the vocabulary {known!r}") from None

    def frame(self, text: str) -> list[int]:
        """[BOS, ids of text..., BOS]: a document as the model trains on it."""
        return [self.bos, *self.encode(text), self.bos]

    def decode(self, ids: Iterable[int]) -> str:
        """The characters of `ids`; BOS is left out."""
        out = []
        for i in ids:
            if i == self.bos:
                continue
            if isinstance(i, bool) or not isinstance(i, int) or not 0 <= i < self.bos:
                raise ValueError(f"decode: token ids must lie in 0..{self.bos}, not {i!r}")
            out.append(self.chars[i])
        return "".join(out)

    def label(self, i: int) -> str:
        """How token `i` is shown: its character, or 'BOS'."""
        return "BOS" if i == self.bos else self.chars[i]

    def __repr__(self) -> str:
        return f"CharTokenizer({''.join(self.chars)!r})"


@dataclass
class Trace:
    """What the model computed inside, as plain numbers, recorded while it runs.

    ``attention[layer][head][position]``: the attention weights of that position
    over positions 0..position. ``mlp[layer][position]``: the MLP's hidden units
    before the ReLU (a unit is off where its entry is <= 0).
    """

    attention: list[list[list[list[float]]]]
    mlp: list[list[list[float]]]

    @classmethod
    def empty(cls, n_layer: int, n_head: int) -> Trace:
        return cls([[[] for _ in range(n_head)] for _ in range(n_layer)], [[] for _ in range(n_layer)])


class KVCache:
    """The keys and values of the positions seen so far, one list per layer.

    Each position appends its key and value vectors; attention at position t
    reads those of positions 0..t. So the past is computed once, not again for
    every new token: sampling a token costs one position. ``len(cache)`` is the
    number of positions in it, the position of the next token.
    """

    def __init__(self, n_layer: int, trace: Trace | None = None):
        self.keys: list[list[list[Value]]] = [[] for _ in range(n_layer)]
        self.values: list[list[list[Value]]] = [[] for _ in range(n_layer)]
        self.trace = trace

    def __len__(self) -> int:
        return len(self.keys[0])


class CausalSelfAttention(Module):
    """Multi-head self-attention over the current and earlier positions.

    For one position: q, k, v = wq x, wk x, wv x; k and v join the cache. Head h
    takes its slice of head_dim entries; its weights are
    softmax(q_h . k_h[t] / sqrt(head_dim)) over the cached positions t, and its
    output the weighted sum of the v_h[t]. The heads' outputs, side by side, go
    through wo.
    """

    def __init__(
        self, n_embd: int, n_head: int, std: float = 0.08, rng: RandomSource | None = None, name: str = "attn"
    ):
        check.whole_number(n_embd, "n_embd", "CausalSelfAttention")
        check.whole_number(n_head, "n_head", "CausalSelfAttention")
        if n_embd % n_head:
            raise ValueError(f"CausalSelfAttention: n_embd ({n_embd}) must be divisible by n_head ({n_head})")
        rng = make_rng(rng=rng)
        self.n_embd, self.n_head, self.head_dim, self.name = n_embd, n_head, n_embd // n_head, name
        self.scale = 1.0 / self.head_dim**0.5
        self.wq = Linear(n_embd, n_embd, std=std, rng=rng, name="wq")
        self.wk = Linear(n_embd, n_embd, std=std, rng=rng, name="wk")
        self.wv = Linear(n_embd, n_embd, std=std, rng=rng, name="wv")
        self.wo = Linear(n_embd, n_embd, std=std, rng=rng, name="wo")

    def __call__(
        self,
        x: list[Value],
        keys: list,
        values: list,
        residual: Vector | None = None,
        trace: list[list[list[float]]] | None = None,
    ) -> list[Value]:
        """One position: attend over `keys`/`values` (this layer's cache) after appending its own."""
        with scope(self.name):
            q = self.wq(x)
            keys.append(self.wk(x))
            values.append(self.wv(x))
            return self.wo(self.attend(q, keys, values, trace), residual=residual)

    def sequence(self, xs: list[list[Value]], residuals: list[list[Value]]) -> list[list[Value]]:
        """Every position of a sequence at once, without a cache: position t attends to 0..t (the causal mask)."""
        with scope(self.name):
            qs = [self.wq(x) for x in xs]
            ks = [self.wk(x) for x in xs]
            vs = [self.wv(x) for x in xs]
            return [
                self.wo(self.attend(q, ks[: t + 1], vs[: t + 1]), residual=r)
                for t, (q, r) in enumerate(zip(qs, residuals))
            ]

    def attend(
        self, q: list[Value], keys: list, values: list, trace: list[list[list[float]]] | None = None
    ) -> list[Value]:
        """The heads' outputs, side by side, for query q over the given keys and values."""
        out: list[Value] = []
        dot, scale, d = Value.dot, self.scale, self.head_dim
        for h in range(self.n_head):
            lo, hi = h * d, (h + 1) * d
            with scope(f"head.{h}"):
                q_h = q[lo:hi]
                weights = softmax([dot(q_h, k[lo:hi]) * scale for k in keys])
                out += [dot(weights, [v[j] for v in values]) for j in range(lo, hi)]
            if trace is not None:
                trace[h].append([w.data for w in weights])
        return out

    def named_parameters(self) -> Iterator[tuple[str, Value]]:
        return _named(self, ("wq", "wk", "wv", "wo"))


class MLPBlock(Module):
    """fc2(relu(fc1(x))): out to 4 x n_embd hidden units and back to n_embd, no biases."""

    def __init__(self, n_embd: int, std: float = 0.08, rng: RandomSource | None = None, name: str = "mlp"):
        rng = make_rng(rng=rng)
        self.name = name
        self.fc1 = Linear(n_embd, 4 * n_embd, std=std, rng=rng, name="fc1")
        self.fc2 = Linear(4 * n_embd, n_embd, std=std, rng=rng, name="fc2")

    def __call__(
        self, x: list[Value], residual: Vector | None = None, trace: list[list[float]] | None = None
    ) -> list[Value]:
        with scope(self.name):
            hidden = self.fc1(x)
            if trace is not None:
                trace.append([h.data for h in hidden])
            with scope("relu"):
                hidden = [h.relu() for h in hidden]
            return self.fc2(hidden, residual=residual)

    def named_parameters(self) -> Iterator[tuple[str, Value]]:
        return _named(self, ("fc1", "fc2"))


class Block(Module):
    """One transformer layer: x + attn(norm_1(x)), then x + mlp(norm_2(x)).

    The residual is added inside the output dots of attn and mlp (their bias
    slot), so it costs no node of its own.
    """

    def __init__(self, n_embd: int, n_head: int, std: float = 0.08, rng: RandomSource | None = None, index: int = 0):
        rng = make_rng(rng=rng)
        self.index, self.name = index, f"layers.{index}"
        self.norm_1 = RMSNorm(n_embd, name="norm_1")
        self.attn = CausalSelfAttention(n_embd, n_head, std=std, rng=rng)
        self.norm_2 = RMSNorm(n_embd, name="norm_2")
        self.mlp = MLPBlock(n_embd, std=std, rng=rng)

    def __call__(self, x: list[Value], cache: KVCache) -> list[Value]:
        i, trace = self.index, cache.trace
        with scope(self.name):
            x = self.attn(
                self.norm_1(x),
                cache.keys[i],
                cache.values[i],
                residual=x,
                trace=None if trace is None else trace.attention[i],
            )
            return self.mlp(self.norm_2(x), residual=x, trace=None if trace is None else trace.mlp[i])

    def sequence(self, xs: list[list[Value]]) -> list[list[Value]]:
        with scope(self.name):
            xs = self.attn.sequence([self.norm_1(x) for x in xs], residuals=xs)
            return [self.mlp(self.norm_2(x), residual=x) for x in xs]

    def named_parameters(self) -> Iterator[tuple[str, Value]]:
        return _named(self, ("attn", "mlp"))


def _named(module: Module, children: Sequence[str]) -> Iterator[tuple[str, Value]]:
    for child in children:
        for name, p in getattr(module, child).named_parameters():
            yield f"{child}.{name}", p


@dataclass
class Sample:
    """One sampled document: its token ids (without the BOS around it), its text, and the logits at each step."""

    tokens: list[int]
    text: str
    logits: list[list[float]] = field(repr=False)


class GPT(Module):
    """microgpt's GPT: embeddings, `n_layer` blocks of attention and MLP, and lm_head.

    ``GPT(vocab_size)`` has microgpt's sizes (n_embd 16, 4 heads, 1 layer, block
    16: 4,192 parameters for 27 tokens). The weights are drawn from N(0, 0.08**2)
    in microgpt's order (wte, wpe, lm_head, then per layer wq, wk, wv, wo, fc1,
    fc2, each row by row): with ``seed=`` from `random.Random(seed)`, without it
    from the `random` module, so the same random state gives microgpt's weights.
    BOS is the last token id, ``vocab_size - 1``. Give ``tokenizer=`` to get
    text from `generate`.

    * ``model.loss(tokens)``: the training loss of one document (see `loss`);
    * ``model.forward(token, cache)``: the logits after one more token, using the cache;
    * ``model(tokens)``: the logits at every position, all positions at once;
    * ``model.generate(n)``: n samples; ``model.matrices()``: microgpt's layout.
    """

    def __init__(
        self,
        vocab_size: int,
        n_embd: int = 16,
        n_head: int = 4,
        n_layer: int = 1,
        block_size: int = 16,
        seed: int | None = None,
        rng: RandomSource | None = None,
        tokenizer: CharTokenizer | None = None,
        std: float = 0.08,
    ):
        check.whole_number(vocab_size, "vocab_size", "GPT", least=2)
        check.whole_number(n_embd, "n_embd", "GPT")
        check.whole_number(n_head, "n_head", "GPT")
        check.whole_number(n_layer, "n_layer", "GPT")
        check.whole_number(block_size, "block_size", "GPT")
        if n_embd % n_head:
            raise ValueError(f"GPT: n_embd ({n_embd}) must be divisible by n_head ({n_head})")
        if tokenizer is not None and tokenizer.vocab_size != vocab_size:
            raise ValueError(f"GPT: the tokenizer has {tokenizer.vocab_size} tokens but vocab_size is {vocab_size}")
        check.finite_number(std, "std", "GPT")
        rng = make_rng(seed, rng)
        self.vocab_size, self.n_embd, self.n_head, self.n_layer = vocab_size, n_embd, n_head, n_layer
        self.block_size, self.bos, self.tokenizer = block_size, vocab_size - 1, tokenizer
        # microgpt's order of draws: wte, wpe, lm_head, then the layers
        self.wte = Embedding(vocab_size, n_embd, std=std, rng=rng, name="wte")
        self.wpe = Embedding(block_size, n_embd, std=std, rng=rng, name="wpe")
        self.lm_head = Linear(n_embd, vocab_size, std=std, rng=rng, name="lm_head")
        self.layers = [Block(n_embd, n_head, std=std, rng=rng, index=i) for i in range(n_layer)]
        self.norm = RMSNorm(n_embd, name="norm")

    # ------------------------------------------------------------------ forward

    def new_cache(self, trace: Trace | None = None) -> KVCache:
        """An empty key/value cache for one document."""
        return KVCache(self.n_layer, trace)

    def new_trace(self) -> Trace:
        """An empty `Trace` to pass to `new_cache` or `loss`."""
        return Trace.empty(self.n_layer, self.n_head)

    def forward(self, token: int, cache: KVCache) -> list[Value]:
        """The logits of the token after `token`, which sits at position ``len(cache)``.

        Appends this position's keys and values to `cache`. microgpt's
        ``gpt(token_id, pos_id, keys, values)``.
        """
        if len(cache) >= self.block_size:
            raise ValueError(f"GPT: the cache is full: block_size is {self.block_size} positions")
        self._check_token(token, "token")
        return self._position(self.wte(token), cache)

    def _position(self, token_vector: list[Value], cache: KVCache) -> list[Value]:
        """`forward` from the token's embedding vector (a row of wte, or the inputs of staged code)."""
        x = self._embed(token_vector, len(cache))
        for block in self.layers:
            x = block(x, cache)
        return self.lm_head(x)

    def __call__(self, tokens: Sequence[int]) -> list[list[Value]]:
        """The logits at every position of `tokens` (at most block_size of them), computed without a cache.

        Layer by layer over the whole sequence, position t attending to 0..t:
        the same numbers as feeding the tokens one by one through `forward`.
        """
        tokens = self.check_tokens(tokens, least=1)
        if len(tokens) > self.block_size:
            raise ValueError(f"GPT: tokens has {len(tokens)} positions, more than block_size {self.block_size}")
        xs = [self._embed(self.wte(token), pos) for pos, token in enumerate(tokens)]
        for block in self.layers:
            xs = block.sequence(xs)
        return [self.lm_head(x) for x in xs]

    def _embed(self, token_vector: list[Value], pos: int) -> list[Value]:
        with scope("embedding"):
            x = [t + p for t, p in zip(token_vector, self.wpe(pos))]
        return self.norm(x)  # not redundant: the residual stream starts normalised

    def loss(self, tokens: Sequence[int], trace: Trace | None = None) -> Value:
        """Mean over positions of -log p(next token): microgpt's loss for one document.

        `tokens` is a document as the model trains on it, ``[BOS, ..., BOS]``.
        Position t predicts ``tokens[t + 1]``, so a document of n + 1 tokens has n
        positions; beyond `block_size` positions it is truncated, as microgpt
        does (the later tokens are not seen). -log p is written
        ``logsumexp(logits) - logits[target]``: one stable node, no number read
        from ``.data``, so the graph depends on the document's length alone.
        """
        tokens = self.check_tokens(tokens, least=2)
        n = min(self.block_size, len(tokens) - 1)
        cache = KVCache(self.n_layer, trace)
        losses = []
        for pos in range(n):
            logits = self.forward(tokens[pos], cache)
            with scope("loss"):
                losses.append(neg_log_prob(logits, tokens[pos + 1]))
        with scope("loss"):
            return Value.sum(losses) * (1.0 / n)

    # ------------------------------------------------------------------ sampling

    def sample(self, temperature: float = 0.5, rng: RandomSource | None = None) -> Sample:
        """One document, token by token from BOS until BOS (or block_size tokens).

        Each step: logits for the next token (one position through the cache),
        p = softmax(logits / temperature), a token drawn with
        ``rng.choices(range(vocab_size), weights=p)`` as microgpt does. Lower
        temperatures sharpen p. No graph is kept.
        """
        if isinstance(temperature, bool) or not isinstance(temperature, (int, float)) or not temperature > 0:
            raise ValueError(f"temperature must be a number > 0, not {temperature!r}")
        if not math.isfinite(temperature):
            raise ValueError(f"temperature must be finite, not {temperature!r}")
        rng = rng if rng is not None else random
        choose, ids = rng.choices, range(self.vocab_size)
        tokens: list[int] = []
        all_logits: list[list[float]] = []
        with no_grad():
            cache = KVCache(self.n_layer)
            token = self.bos
            for _ in range(self.block_size):
                logits = self.forward(token, cache)
                all_logits.append([z.data for z in logits])
                probs = softmax([z / temperature for z in logits])
                token = choose(ids, weights=[p.data for p in probs])[0]
                if token == self.bos:
                    break
                tokens.append(token)
        text = self.tokenizer.decode(tokens) if self.tokenizer is not None else ""
        return Sample(tokens, text, all_logits)

    def generate(self, n: int, temperature: float = 0.5, seed: int | None = None) -> list[str] | list[list[int]]:
        """n samples at `temperature`: strings with a tokenizer, else lists of token ids.

        With ``seed=`` the draws come from `random.Random(seed)`, else from the
        `random` module (as in microgpt).
        """
        check.whole_number(n, "n", "generate", least=0)
        if isinstance(temperature, bool) or not isinstance(temperature, (int, float)) or not temperature > 0:
            raise ValueError(f"temperature must be a number > 0, not {temperature!r}")
        rng = random.Random(seed) if seed is not None else random
        samples = [self.sample(temperature, rng) for _ in range(n)]
        if self.tokenizer is None:
            return [s.tokens for s in samples]
        return [s.text for s in samples]

    # ------------------------------------------------------------------ parameters

    def matrices(self) -> dict[str, list[list[Value]]]:
        """The parameters in microgpt's layout: its state_dict keys, each a list of rows.

        The rows hold the model's own parameter Values (in new lists), so
        setting ``.data`` through them changes the model: weights copy across in
        both directions. Shapes: wte vocab x n_embd, wpe block_size x n_embd,
        lm_head vocab x n_embd, attn_w* n_embd x n_embd, mlp_fc1 4n_embd x n_embd,
        mlp_fc2 n_embd x 4n_embd.
        """
        out = {"wte": self.wte.weight, "wpe": self.wpe.weight, "lm_head": self.lm_head.weight}
        for i, block in enumerate(self.layers):
            attn, mlp = block.attn, block.mlp
            out[f"layer{i}.attn_wq"] = attn.wq.weight
            out[f"layer{i}.attn_wk"] = attn.wk.weight
            out[f"layer{i}.attn_wv"] = attn.wv.weight
            out[f"layer{i}.attn_wo"] = attn.wo.weight
            out[f"layer{i}.mlp_fc1"] = mlp.fc1.weight
            out[f"layer{i}.mlp_fc2"] = mlp.fc2.weight
        return {key: [list(row) for row in rows] for key, rows in out.items()}

    def named_parameters(self) -> Iterator[tuple[str, Value]]:
        """In microgpt's order: wte, wpe, lm_head, then each layer's attention and MLP."""
        yield from _named(self, ("wte", "wpe", "lm_head"))
        for i, block in enumerate(self.layers):
            for name, p in block.named_parameters():
                yield f"layers.{i}.{name}", p

    def config(self) -> dict:
        config: dict[str, int | str] = {
            "vocab_size": self.vocab_size,
            "n_embd": self.n_embd,
            "n_head": self.n_head,
            "n_layer": self.n_layer,
            "block_size": self.block_size,
        }
        if self.tokenizer is not None:
            config["chars"] = "".join(self.tokenizer.chars)
        return config

    @classmethod
    def from_file(cls, path: str | os.PathLike) -> GPT:
        """A GPT read from a file written by `save` (its sizes and characters are in the file)."""
        import json

        try:
            document = json.loads(Path(path).read_text(encoding="utf-8"))
            config = dict(document["config"])
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise ValueError(f"{path}: not a circuitgrad GPT file ({error})") from None
        chars = config.pop("chars", None)
        tokenizer = CharTokenizer(chars) if chars else None
        try:
            model = cls(**config, seed=0, tokenizer=tokenizer)
        except TypeError as error:
            raise ValueError(f"{path}: not a circuitgrad GPT file ({error})") from None
        model.load(path)
        return model

    def __repr__(self) -> str:
        return (
            f"GPT(vocab_size={self.vocab_size}, n_embd={self.n_embd}, n_head={self.n_head}, "
            f"n_layer={self.n_layer}, block_size={self.block_size})"
        )

    # ------------------------------------------------------------------ checks

    def _check_token(self, token: object, argument: str) -> None:
        if isinstance(token, bool) or not isinstance(token, int) or not 0 <= token < self.vocab_size:
            raise ValueError(f"GPT: {argument} must be a token id in 0..{self.vocab_size - 1}, not {token!r}")

    def check_tokens(self, tokens: object, least: int) -> list[int]:
        """`tokens` as a list: at least `least` ids, each in the vocabulary; else a ValueError naming the bad one."""
        if isinstance(tokens, (str, bytes)) or not isinstance(tokens, Sequence):
            raise ValueError(f"GPT: tokens must be a list of token ids, not {type(tokens).__name__}")
        tokens = list(tokens)
        if len(tokens) < least:
            raise ValueError(f"GPT: tokens must hold at least {least} token ids, not {len(tokens)}")
        for k, token in enumerate(tokens):
            self._check_token(token, f"tokens[{k}]")
        return tokens


# What the ways to run a position cost, in runs of a position of staged code (tests/bench/gpt_step.py measures
# them): writing out and compiling the code of a position, STAGING_COST; a position past the end of a document
# in longer code (masked), MASKED_COST; a position built as a graph and backpropagated, GRAPH_COST.
STAGING_COST = 220.0
MASKED_COST = 0.35
GRAPH_COST = 6.0


class StagedLoss:
    """``model.loss(tokens)`` and its backward pass, run by code that `engine.stage` wrote out.

    Calling it on a document adds d(loss)/d(parameter) to every parameter's ``.grad``,
    exactly as ``model.loss(tokens).backward()`` would, and returns the same loss, bit
    for bit; but it builds no graph. The code is written once per number of positions
    m, as a function whose inputs are the data, so it serves every document:

    * the token embeddings, wte[token] for each position, come in as numbers; the
      code hands back their gradients (``input_grads=True``), which are added to the
      rows of wte last position first, the order of `backward()`, so a letter that
      repeats gets the same sum;
    * the targets come in as one-hot rows: ``Value.dot(one_hot, logits)`` is exactly
      the target's logit (zeros and the logit itself added up), with the graph's
      gradient. (Target ids as static arguments would be one trace per sequence of
      targets, that is, per document.)
    * each position's loss is weighted by an input: 1/n for the n positions of the
      document, 0 past its end. Attention is causal, so the positions past the end
      change nothing before them, and their gradient is exactly 0, so the code skips
      their backward pass as `backward()` skips a node whose gradient is 0; only
      their forward pass is spent. So code for m positions serves every document
      of at most m positions. The loss is the mean of the n positions' losses,
      added up as `Value.sum` adds them.

    By default a document of n positions runs through code for exactly n, staged on
    its first use (`prepare` stages ahead). Staging is not cheap: writing out and
    compiling a position's code takes about as long as running it 200 times, so a
    run does better with fewer codes, each shared by several lengths: `plan` picks
    them. ``staged.staged[m]`` is the `engine.Staged` for m positions (its ``source``
    is the code).
    """

    def __init__(self, model: GPT):
        if not isinstance(model, GPT):
            raise TypeError(f"StagedLoss: model must be a GPT, not {type(model).__name__}")
        self.model = model
        self.staged: dict[int, Staged] = {}  # m -> the code for m positions
        self.route: dict[int, int] = {}  # n -> m: the code a document of n positions runs through (0: a graph)

    def __call__(self, tokens: Sequence[int]) -> float:
        model = self.model
        tokens = model.check_tokens(tokens, least=2)
        n = min(model.block_size, len(tokens) - 1)
        m = self.route.get(n, n)
        if not m:  # planned as a graph: the same numbers
            loss = model.loss(tokens)
            loss.backward()
            return loss.data
        run = self.staged.get(m) or self.prepare(m)
        d, vocab, wte = model.n_embd, model.vocab_size, model.wte.weight
        rows = [w.data for token in tokens[:n] for w in wte[token]]
        rows += [0.0] * ((m - n) * d)
        targets = [0.0] * (m * vocab)
        for pos in range(n):
            targets[pos * vocab + tokens[pos + 1]] = 1.0
        weights = [1.0 / n] * n + [0.0] * (m - n)
        _, losses, (row_grads, _, _) = run(rows, targets, weights)  # type: ignore[operator]  # stage(fn) is callable
        # wte's gradient: per token, its positions' gradients added last position first (as backward() does),
        # then added to the parameter once
        totals: dict[int, list[float]] = {}
        for pos in range(n - 1, -1, -1):
            grads = row_grads[pos * d : (pos + 1) * d]
            total = totals.get(tokens[pos])
            totals[tokens[pos]] = grads if total is None else [a + b for a, b in zip(total, grads)]
        for token, total in totals.items():
            for p, g in zip(wte[token], total):
                p.grad += g
        return reduce(add, losses[:n], -0.0) * (1.0 / n)  # Value.sum(losses) * (1.0 / n), as GPT.loss

    def prepare(self, m: int) -> Staged:
        """Stage the code for m positions now (the first document that needs it would); returns it."""
        self._check_length(m, "StagedLoss.prepare: m")
        d, vocab = self.model.n_embd, self.model.vocab_size
        example = ([0.0] * (m * d), [1.0, *[0.0] * (vocab - 1)] * m, [1.0 / m] * m)
        self.staged[m] = stage(self.function(m), *example, has_aux=True, input_grads=True)
        return self.staged[m]

    def function(self, m: int) -> Callable[[list[Value], list[Value], list[Value]], tuple[Value, list[Value]]]:
        """The function staged for m positions: ``loss(rows, targets, weights)``, flat lists of Values.

        ``rows``: the m token embeddings, one after the other; ``targets``: m one-hot
        rows; ``weights``: one per position. It builds the graph of `GPT.loss` with these
        in place of the rows of wte and the target ids, and returns the weighted sum of
        the positions' losses, with the losses themselves as aux values.
        """
        self._check_length(m, "StagedLoss.function: m")
        model = self.model
        d, vocab = model.n_embd, model.vocab_size

        def loss(rows: list[Value], targets: list[Value], weights: list[Value]) -> tuple[Value, list[Value]]:
            cache = KVCache(model.n_layer)
            losses = []
            for pos in range(m):
                logits = model._position(rows[pos * d : (pos + 1) * d], cache)
                with scope("loss"):
                    losses.append(neg_log_prob(logits, targets[pos * vocab : (pos + 1) * vocab]))
            with scope("loss"):
                return Value.dot(weights, losses), losses

        return loss

    def plan(self, lengths: Iterable[int]) -> list[int]:
        """Choose how each document runs, given the lengths (in positions) of the documents to come.

        A document of n positions runs through code for m >= n positions (masked past
        its end), or as a graph when its length is too rare to pay for staging. The
        choice costs least in all, counted in runs of a position of staged code:
        STAGING_COST per position of code not yet staged, MASKED_COST per masked
        position, GRAPH_COST per position built as a graph; it is found by trying
        every split of the sorted lengths into runs of lengths that share a code (a
        small dynamic program). The 1,000 names of microgpt's run share one code (its
        one name of 12 positions runs as a graph); a long run gets more codes, a run of
        a few steps none. Either way the numbers are the same, bit for bit. Returns the
        code lengths chosen; each is staged on its first use.
        """
        counts: dict[int, int] = {}
        for n in lengths:
            self._check_length(n, "StagedLoss.plan: each length")
            counts[n] = counts.get(n, 0) + 1
        self.route.clear()
        sizes = sorted(counts)
        # best[j]: the least cost of sizes[:j]; how[j]: (i, m) if code m serves sizes[i:j], (j - 1, 0) if the graph
        best = [0.0] + [math.inf] * len(sizes)
        how = [(0, 0)] * (len(sizes) + 1)
        for j, longest in enumerate(sizes, 1):
            best[j], how[j] = best[j - 1] + GRAPH_COST * counts[longest] * longest, (j - 1, 0)
            codes = {longest: 0.0 if longest in self.staged else STAGING_COST * longest}
            codes.update((m, 0.0) for m in self.staged if m > longest)  # code staged already costs nothing more
            for m, staging in codes.items():
                masked = 0.0
                for i in range(j - 1, -1, -1):
                    masked += MASKED_COST * counts[sizes[i]] * (m - sizes[i])
                    if best[i] + staging + masked < best[j]:
                        best[j], how[j] = best[i] + staging + masked, (i, m)
        chosen, j = set(), len(sizes)
        while j:
            i, m = how[j]
            for n in sizes[i:j]:
                self.route[n] = m
            if m:
                chosen.add(m)
            j = i
        return sorted(chosen)

    def _check_length(self, m: object, what: str) -> None:
        block = self.model.block_size
        if isinstance(m, bool) or not isinstance(m, int) or not 1 <= m <= block:
            raise ValueError(f"{what} must be a whole number of positions in 1..{block} (block_size), not {m!r}")

    def __repr__(self) -> str:
        return f"StagedLoss({self.model!r}, staged for {sorted(self.staged)} positions)"


def neg_log_prob(logits: list[Value], target: int | list[Value]) -> Value:
    """-log softmax(logits)[target] = logsumexp(logits) - logits[target]: the cross-entropy of one position.

    `target` is a token id, or (in staged code) a one-hot row of Values, whose dot
    with the logits is exactly the target's logit.
    """
    picked = logits[target] if isinstance(target, int) else Value.dot(target, logits)
    return logsumexp(logits) - picked


# ---------------------------------------------------------------------- training


@dataclass
class GPTHistory:
    """What `fit_gpt` saw: the loss of each step's document, and the learning rate used."""

    loss: list[float] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)


def fit_gpt(
    model: GPT,
    docs: Sequence[str] | Sequence[Sequence[int]],
    steps: int = 1000,
    lr: float = 0.01,
    betas: tuple[float, float] = (0.85, 0.99),
    eps: float = 1e-8,
    progress: bool | None = None,
    callback: Callable[[int, Value], None] | None = None,
    staged: bool | StagedLoss = False,
) -> GPTHistory:
    """Train as microgpt does: step k takes document ``docs[k % len(docs)]``.

    Each step: the document's loss (`GPT.loss`), backward, then Adam (betas
    0.85 and 0.99, eps 1e-8) with the learning rate falling in a straight line
    from `lr` to 0 over `steps` (`nn.LinearDecay`). Documents are strings (the
    model needs a tokenizer) or framed token lists; all are checked before the
    first step. `progress`: a tqdm bar with the loss; None shows it only when
    stdout is a terminal. `callback(k, loss)` runs after backward, before the
    update.

    ``staged=True`` runs the steps with `StagedLoss`: code written out by
    `engine.stage` instead of a new graph each step, with the same losses and
    gradients, bit for bit. Before the first step it plans, from the lengths of
    the run's documents, which code to stage (`StagedLoss.plan`: for microgpt's
    1,000 names, one code shared by all lengths but the rarest); each is staged
    on its first use. `callback` then gets the loss as a leaf. Pass a
    `StagedLoss` of this model instead of True to use code it has staged already.
    Python's cyclic garbage collector is paused during training
    (`engine.gc_paused`: the graphs hold no reference cycles).
    """
    check.whole_number(steps, "steps", "fit_gpt")
    if isinstance(staged, StagedLoss):
        if staged.model is not model:
            raise ValueError("fit_gpt: staged is a StagedLoss of another model")
    elif not isinstance(staged, bool):
        raise TypeError(f"fit_gpt: staged must be True, False or a StagedLoss, not {staged!r}")
    if not docs:
        raise ValueError("fit_gpt: docs is empty")
    if all(isinstance(d, str) for d in docs):
        if model.tokenizer is None:
            raise ValueError("fit_gpt: documents are strings but the model has no tokenizer")
        sequences = [model.tokenizer.frame(cast(str, d)) for d in docs]  # every one is a str
    else:
        sequences = [model.check_tokens(d, least=2) for d in docs]
    optimizer = Adam(model.parameters(), lr=lr, betas=betas, eps=eps)
    schedule = LinearDecay(optimizer, lr, 0.0, steps)
    history = GPTHistory()
    if progress is None:
        progress = sys.stdout.isatty()
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=steps, desc="training", unit="step")
    run = None
    if staged is not False:
        run = staged if isinstance(staged, StagedLoss) else StagedLoss(model)
        run.plan(min(model.block_size, len(sequences[k % len(sequences)]) - 1) for k in range(steps))
    try:
        with gc_paused():
            for k in range(steps):
                tokens = sequences[k % len(sequences)]
                optimizer.zero_grad()
                if run is None:
                    loss = model.loss(tokens)
                    loss.backward()
                else:
                    loss = Value(run(tokens))
                if callback is not None:
                    callback(k, loss)
                history.lr.append(schedule.step())
                optimizer.step()
                history.loss.append(loss.data)
                if bar is not None:
                    bar.set_postfix(loss=f"{loss.data:.4f}", refresh=False)
                    bar.update()
    finally:
        if bar is not None:
            bar.close()
    return history
