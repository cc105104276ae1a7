"""microgpt's training step, three ways in one run.

The step: microgpt's GPT (1 layer, n_embd 16, 4 heads, block 16, 27 tokens,
4,192 parameters) on one name, loss, backward, Adam with linear decay.

* (a) microgpt's algorithm with its own engine (`tests/microgpt_reference.py`:
  a node per +, *, **, log, exp, relu);
* (b) the same code with circuitgrad's `Value` dropped in, no other change;
* (c) circuitgrad's `nn.GPT`: `Value.dot` per output, `Value.sum`, `nn.Adam`;
* (d) the same model staged (`nn.gpt.StagedLoss`): the graph of each document
  length built and written out as code once by `engine.stage`, then re-run.
  Its steps are timed once every length they meet is staged; the staging time
  is printed on its own, and spread over a 1,000-step run.

All start from the same weights and take the same names; the script checks
that their losses agree to 1e-9 at every step, then times steps round-robin
and prints medians and ratios. Targets: (c) at least 20x faster than (a), (b)
at least as fast as (a).
"""

from __future__ import annotations

import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # tests/: the reference

from microgpt_reference import MicroGPT  # noqa: E402

from engine import Value, topological_order  # noqa: E402
from nn import GPT, CharTokenizer  # noqa: E402
from nn.data import names  # noqa: E402
from nn.gpt import StagedLoss  # noqa: E402
from nn.optim import Adam, LinearDecay  # noqa: E402

ROUNDS = 21
NUM_STEPS = 1000  # the learning-rate schedule of microgpt's run


class Ours:
    def __init__(self, model: GPT, staged: bool = False):
        self.model = model
        self.optimizer = Adam(model.parameters(), lr=0.01, betas=(0.85, 0.99), eps=1e-8)
        self.schedule = LinearDecay(self.optimizer, 0.01, 0.0, NUM_STEPS)
        self.staged = StagedLoss(model) if staged else None

    def train_step(self, tokens) -> float:
        self.optimizer.zero_grad()
        if self.staged is None:
            loss = self.model.loss(tokens)
            loss.backward()
            value = loss.data
        else:
            value = self.staged(tokens)
        self.schedule.step()
        self.optimizer.step()
        return value


def main() -> None:
    docs = names()
    random.Random(42).shuffle(docs)
    tokenizer = CharTokenizer.from_documents(docs)
    sequences = [tokenizer.frame(doc) for doc in docs[:ROUNDS]]
    model = GPT(tokenizer.vocab_size, seed=42, tokenizer=tokenizer)
    twin = GPT(tokenizer.vocab_size, seed=42, tokenizer=tokenizer)
    staged = Ours(twin, staged=True)
    lengths = sorted({min(16, len(doc) + 1) for doc in docs})
    start = time.perf_counter()
    for n in lengths:  # stage every length the data has (the weights stay as they are)
        staged.staged.prepare(n)
    staging = time.perf_counter() - start
    own = MicroGPT(tokenizer.vocab_size, rng=random.Random(0))
    dropped_in = MicroGPT(tokenizer.vocab_size, Value=Value, rng=random.Random(0))
    for key, rows in model.matrices().items():
        for ours, a, b in zip(rows, own.matrices[key], dropped_in.matrices[key]):
            for p, q, r in zip(ours, a, b):
                q.data = r.data = p.data
    ways = {
        "(a) microgpt, its own engine": lambda tokens: own.train_step(tokens, NUM_STEPS),
        "(b) microgpt, circuitgrad's Value": lambda tokens: dropped_in.train_step(tokens, NUM_STEPS),
        "(c) circuitgrad nn.GPT": Ours(model).train_step,
        "(d) nn.GPT staged": staged.train_step,
    }
    times: dict[str, list[float]] = {name: [] for name in ways}
    losses: dict[str, list[float]] = {name: [] for name in ways}
    for tokens in sequences:
        for name, step in ways.items():
            start = time.perf_counter()
            losses[name].append(step(tokens))
            times[name].append(time.perf_counter() - start)
    reference = losses["(a) microgpt, its own engine"]
    for name, got in losses.items():
        worst = max(abs(x - y) for x, y in zip(got, reference))
        assert worst < 1e-9, f"{name}: losses differ from microgpt's by {worst:.2e}"

    nodes = len(topological_order(model.loss(sequences[0])))
    print(f"microgpt's step on {ROUNDS} names (mean length {sum(map(len, docs[:ROUNDS])) / ROUNDS:.1f} letters)")
    print(f"losses agree to 1e-9 at every step; nn.GPT makes {nodes:,} nodes for {docs[0]!r}")
    print(f"{'':36} {'median':>9} {'vs (a)':>8}")
    base = statistics.median(times["(a) microgpt, its own engine"])
    for name, measured in times.items():
        median = statistics.median(measured)
        print(f"{name:36} {1e3 * median:7.1f} ms {base / median:7.2f}x")
    step = statistics.median(times["(d) nn.GPT staged"])
    spread = step + staging / NUM_STEPS
    print(f"staging the data's {len(lengths)} lengths ({lengths[0]}..{lengths[-1]} positions) took {staging:.1f} s")
    print(f"{'(d) with staging spread over 1,000':36} {1e3 * spread:7.1f} ms {base / spread:7.2f}x")
    print("targets: (c) at least 20x faster than (a); (b) at least as fast as (a)")


if __name__ == "__main__":
    main()
