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
makes a few thousand nodes instead of microgpt's tens of thousands.
"""

from __future__ import annotations

import math
import random
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from engine import StageError, Value, no_grad, scope, stage

from .layers import Embedding, Linear, RMSNorm, _count, _positive_number, softmax
from .module import Module, make_rng
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

    def __init__(self, n_embd: int, n_head: int, std: float = 0.08, rng=None, name: str = "attn"):
        _count(n_embd, "n_embd", "CausalSelfAttention")
        _count(n_head, "n_head", "CausalSelfAttention")
        if n_embd % n_head:
            raise ValueError(f"CausalSelfAttention: n_embd ({n_embd}) must be divisible by n_head ({n_head})")
        rng = make_rng(rng=rng)
        self.n_embd, self.n_head, self.head_dim, self.name = n_embd, n_head, n_embd // n_head, name
        self.scale = 1.0 / self.head_dim**0.5
        self.wq = Linear(n_embd, n_embd, std=std, rng=rng, name="wq")
        self.wk = Linear(n_embd, n_embd, std=std, rng=rng, name="wk")
        self.wv = Linear(n_embd, n_embd, std=std, rng=rng, name="wv")
        self.wo = Linear(n_embd, n_embd, std=std, rng=rng, name="wo")

    def __call__(self, x: list[Value], keys: list, values: list, residual=None, trace=None) -> list[Value]:
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

    def attend(self, q: list[Value], keys: list, values: list, trace=None) -> list[Value]:
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

    def __init__(self, n_embd: int, std: float = 0.08, rng=None, name: str = "mlp"):
        rng = make_rng(rng=rng)
        self.name = name
        self.fc1 = Linear(n_embd, 4 * n_embd, std=std, rng=rng, name="fc1")
        self.fc2 = Linear(4 * n_embd, n_embd, std=std, rng=rng, name="fc2")

    def __call__(self, x: list[Value], residual=None, trace=None) -> list[Value]:
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

    def __init__(self, n_embd: int, n_head: int, std: float = 0.08, rng=None, index: int = 0):
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
        rng: random.Random | None = None,
        tokenizer: CharTokenizer | None = None,
        std: float = 0.08,
    ):
        _count(vocab_size, "vocab_size", "GPT", least=2)
        _count(n_embd, "n_embd", "GPT")
        _count(n_head, "n_head", "GPT")
        _count(n_layer, "n_layer", "GPT")
        _count(block_size, "block_size", "GPT")
        if n_embd % n_head:
            raise ValueError(f"GPT: n_embd ({n_embd}) must be divisible by n_head ({n_head})")
        if tokenizer is not None and tokenizer.vocab_size != vocab_size:
            raise ValueError(f"GPT: the tokenizer has {tokenizer.vocab_size} tokens but vocab_size is {vocab_size}")
        _positive_number(std, "std", "GPT")
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
        """`forward` from the token's embedding vector (a row of wte, or stand-ins for one)."""
        x = self._embed(token_vector, len(cache))
        for block in self.layers:
            x = block(x, cache)
        return self.lm_head(x)

    def __call__(self, tokens: Sequence[int]) -> list[list[Value]]:
        """The logits at every position of `tokens` (at most block_size of them), computed without a cache.

        Layer by layer over the whole sequence, position t attending to 0..t:
        the same numbers as feeding the tokens one by one through `forward`.
        """
        tokens = self._check_tokens(tokens, least=1)
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
        does (the later tokens are not seen). p is the softmax of the logits with
        the largest logit subtracted as a plain number.
        """
        tokens = self._check_tokens(tokens, least=2)
        n = min(self.block_size, len(tokens) - 1)
        cache = KVCache(self.n_layer, trace)
        losses = []
        for pos in range(n):
            logits = self.forward(tokens[pos], cache)
            with scope("loss"):
                losses.append(_neg_log_prob(logits, tokens[pos + 1]))
        with scope("loss"):
            return Value.sum(losses) * (1.0 / n)

    # ------------------------------------------------------------------ sampling

    def sample(self, temperature: float = 0.5, rng: random.Random | None = None) -> Sample:
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
        _count(n, "n", "generate", least=0)
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
        config = {
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
    def from_file(cls, path) -> GPT:
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

    def _check_tokens(self, tokens: Sequence[int], least: int) -> list[int]:
        if isinstance(tokens, (str, bytes)) or not isinstance(tokens, Sequence):
            raise ValueError(f"GPT: tokens must be a list of token ids, not {type(tokens).__name__}")
        tokens = list(tokens)
        if len(tokens) < least:
            raise ValueError(f"GPT: tokens must hold at least {least} token ids, not {len(tokens)}")
        for k, token in enumerate(tokens):
            self._check_token(token, f"tokens[{k}]")
        return tokens


class StagedLoss:
    """``model.loss(tokens)`` and its backward pass, run by code that `engine.stage` wrote out.

    Calling it on a document adds d(loss)/d(parameter) to every parameter's
    ``.grad``, as ``model.loss(tokens).backward()`` would, and returns the loss;
    but it builds no graph: for each number of positions n it builds one graph
    once, stages it, and from then on re-runs that code. The graph must not
    depend on the tokens, so in it the token embeddings are stand-in leaves
    (the rows of wte are copied in before a call, and their gradients added
    to wte after) and the target is picked by a dot with a one-hot vector of
    stand-ins. The numbers are the graph's: the same up to rounding (the largest
    logit that softmax subtracts is frozen at the value it had when the code
    was written; the result does not depend on it). Staging a length takes
    about a second; a run of many steps gets it back many times over.
    """

    def __init__(self, model: GPT):
        self.model = model
        self.staged: dict[int, tuple] = {}  # n -> (Staged, token stand-ins, target stand-ins)

    def __call__(self, tokens: Sequence[int]) -> float:
        model = self.model
        tokens = model._check_tokens(tokens, least=2)
        n = min(model.block_size, len(tokens) - 1)
        if n not in self.staged:
            self.staged[n] = self._build(n, tokens)
        try:
            return self._run(n, tokens)
        except (OverflowError, ZeroDivisionError, ValueError, StageError):
            # the frozen shift no longer suits these logits: stage this length again from the current numbers
            self.staged[n] = self._build(n, tokens)
            return self._run(n, tokens)

    def prepare(self, n: int) -> None:
        """Stage the graph of documents with n positions now (the first call with one would)."""
        _count(n, "n", "StagedLoss.prepare")
        if n > self.model.block_size:
            raise ValueError(f"StagedLoss.prepare: n must be at most block_size {self.model.block_size}, not {n}")
        self.staged[n] = self._build(n, [self.model.bos] * (n + 1))

    def _run(self, n: int, tokens: list[int]) -> float:
        run, inputs, targets = self.staged[n]
        rows = [self.model.wte.weight[token] for token in tokens[:n]]
        for stand_ins, row in zip(inputs, rows):
            for e, w in zip(stand_ins, row):
                e.data = w.data
        for pos, one_hot in enumerate(targets):
            for k, e in enumerate(one_hot):
                e.data = 1.0 if k == tokens[pos + 1] else 0.0
        try:
            loss = run()
        finally:
            for stand_ins, row in zip(inputs, rows):
                for e, w in zip(stand_ins, row):
                    w.grad += e.grad
                    e.grad = 0.0
            for one_hot in targets:
                for e in one_hot:
                    e.grad = 0.0
        return loss

    def _build(self, n: int, tokens: list[int]):
        model = self.model
        inputs = [[Value(w.data) for w in model.wte.weight[token]] for token in tokens[:n]]
        targets = [[Value(float(k == token)) for k in range(model.vocab_size)] for token in tokens[1 : n + 1]]
        cache = KVCache(model.n_layer)
        losses = []
        for pos in range(n):
            logits = model._position(inputs[pos], cache)
            with scope("loss"):
                m = max(z.data for z in logits)
                exps = [(z - m).exp() for z in logits]
                losses.append(-(Value.dot(targets[pos], exps) / Value.sum(exps)).log())
        with scope("loss"):
            loss = Value.sum(losses) * (1.0 / n)
        return stage(loss), inputs, targets


def _neg_log_prob(logits: list[Value], target: int) -> Value:
    """-log softmax(logits)[target], as microgpt: exps with the max subtracted, then one division."""
    m = max(z.data for z in logits)
    exps = [(z - m).exp() for z in logits]
    return -(exps[target] / Value.sum(exps)).log()


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
    staged: bool = False,
) -> GPTHistory:
    """Train as microgpt does: step k takes document ``docs[k % len(docs)]``.

    Each step: the document's loss (`GPT.loss`), backward, then Adam (betas
    0.85 and 0.99, eps 1e-8) with the learning rate falling in a straight line
    from `lr` to 0 over `steps` (`nn.LinearDecay`). Documents are strings (the
    model needs a tokenizer) or framed token lists; all are checked before the
    first step. `progress`: a tqdm bar with the loss; None shows it only when
    stdout is a terminal. `callback(k, loss)` runs after backward, before the
    update.

    ``staged=True`` runs each step with `StagedLoss`: code written out by
    `engine.stage`, once per document length, instead of a new graph. The same
    numbers up to rounding, several times faster once each length is staged;
    `callback` then gets the loss as a leaf.
    """
    _count(steps, "steps", "fit_gpt")
    if not docs:
        raise ValueError("fit_gpt: docs is empty")
    if all(isinstance(d, str) for d in docs):
        if model.tokenizer is None:
            raise ValueError("fit_gpt: documents are strings but the model has no tokenizer")
        sequences = [model.tokenizer.frame(d) for d in docs]
    else:
        sequences = [model._check_tokens(d, least=2) for d in docs]
    optimizer = Adam(model.parameters(), lr=lr, betas=betas, eps=eps)
    schedule = LinearDecay(optimizer, lr, 0.0, steps)
    history = GPTHistory()
    if progress is None:
        progress = sys.stdout.isatty()
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=steps, desc="training", unit="step")
    run = StagedLoss(model) if staged else None
    try:
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
                bar.set_postfix(loss=f"{loss.data:.4f}")
                bar.update()
    finally:
        if bar is not None:
            bar.close()
    return history
