"""microgpt's training step, four ways in one run, and what staging costs.

The step: microgpt's GPT (1 layer, n_embd 16, 4 heads, block 16, 27 tokens,
4,192 parameters) on one name, loss, backward, Adam with linear decay over
1,000 steps, on the names `circuitgrad gpt` trains on (shuffled with its seed).

* (a) microgpt's algorithm with its own engine (`tests/microgpt_reference.py`:
  a node per +, *, **, log, exp, relu), run as microgpt runs, the cyclic garbage
  collector on; (a') the same with the collector paused, for reference;
* (b) the same code with circuitgrad's `Value` dropped in, no other change;
* (c) circuitgrad's `nn.GPT` graph: `Value.dot` per output, `Value.sum`,
  `logsumexp`, `nn.Adam`, the collector paused (as `fit_gpt` runs);
* (d) the same model staged (`nn.gpt.StagedLoss`), with the code `fit_gpt`
  plans for a 1,000-step run (the data's lengths share one code when that costs
  least: positions past a document's end are masked). Its staging time is
  printed on its own and spread over 1,000 steps.

All start from the same weights and take the same names; the script checks that
the losses agree with microgpt's to 1e-9 at every step and that (c) and (d) agree
bit for bit, and prints medians and ratios. The ways take turns in blocks of 7
names, with a collection (untimed) before each block: microgpt's backward, as
micrograd's, sorts with a recursive closure, a reference cycle that keeps each
step's graph alive until the cyclic collector frees it, so in strict round-robin
one way's garbage is collected inside the next way's step. Then it
measures what one code per length would have cost to stage, the constants
`StagedLoss.plan` uses, and a whole 1,000-step `fit_gpt(staged=True)` run against
microgpt's steps in a row, with and without circuitgrad's Value (taking turns
puts microgpt's tens of thousands of fresh objects between two staged steps,
which then find less of their code in the processor's caches).
Targets: (d) with its staging at least 20x faster than (a); (b) at least as fast.
"""

from __future__ import annotations

import gc
import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # tests/: the reference

from microgpt_reference import MicroGPT  # noqa: E402

from engine import Value, gc_paused, topological_order  # noqa: E402
from nn import GPT, CharTokenizer, fit_gpt  # noqa: E402
from nn.data import names  # noqa: E402
from nn.gpt import GRAPH_COST, MASKED_COST, STAGING_COST, StagedLoss  # noqa: E402
from nn.optim import Adam, LinearDecay  # noqa: E402

ROUNDS = 21
BLOCK = 7  # names a way takes in a row
NUM_STEPS = 1000  # microgpt's run, and the default of circuitgrad gpt
SEED = 42  # circuitgrad gpt's default: the shuffle and the weights


class Ours:
    """One training step of nn.GPT as fit_gpt takes it: zero_grad, loss and backward, schedule, Adam."""

    def __init__(self, model: GPT, run: StagedLoss | None = None):
        self.model, self.run = model, run
        self.optimizer = Adam(model.parameters(), lr=0.01, betas=(0.85, 0.99), eps=1e-8)
        self.schedule = LinearDecay(self.optimizer, 0.01, 0.0, NUM_STEPS)

    def train_step(self, tokens) -> float:
        with gc_paused():
            self.optimizer.zero_grad()
            if self.run is None:
                loss = self.model.loss(tokens)
                loss.backward()
                value = loss.data
            else:
                value = self.run(tokens)
            self.schedule.step()
            self.optimizer.step()
        return value


def paused(step):
    def run(tokens):
        with gc_paused():
            return step(tokens)

    return run


def timed(f, *args) -> float:
    start = time.perf_counter()
    f(*args)
    return time.perf_counter() - start


def backward(loss, tokens) -> None:
    loss(tokens).backward()


def main() -> None:
    docs = names()
    random.Random(SEED).shuffle(docs)
    tokenizer = CharTokenizer.from_documents(docs)
    sequences = [tokenizer.frame(doc) for doc in docs[:ROUNDS]]
    run_lengths = [min(16, len(docs[k % len(docs)]) + 1) for k in range(NUM_STEPS)]
    model = GPT(tokenizer.vocab_size, seed=SEED, tokenizer=tokenizer)
    twin = GPT(tokenizer.vocab_size, seed=SEED, tokenizer=tokenizer)
    staged_loss = StagedLoss(twin)
    chosen = staged_loss.plan(run_lengths)
    start = time.perf_counter()
    with gc_paused():
        for m in chosen:
            staged_loss.prepare(m)
    staging = time.perf_counter() - start
    own = MicroGPT(tokenizer.vocab_size, rng=random.Random(0))
    own_paused = MicroGPT(tokenizer.vocab_size, rng=random.Random(0))
    dropped_in = MicroGPT(tokenizer.vocab_size, Value=Value, rng=random.Random(0))
    for key, rows in model.matrices().items():
        for ours, a, b, c in zip(rows, own.matrices[key], own_paused.matrices[key], dropped_in.matrices[key]):
            for p, q, r, s in zip(ours, a, b, c):
                q.data = r.data = s.data = p.data
    ways = {
        "(a) microgpt, its own engine": lambda tokens: own.train_step(tokens, NUM_STEPS),
        "(a') the same, cyclic GC paused": paused(lambda tokens: own_paused.train_step(tokens, NUM_STEPS)),
        "(b) microgpt, circuitgrad's Value": lambda tokens: dropped_in.train_step(tokens, NUM_STEPS),
        "(c) nn.GPT graph": Ours(model).train_step,
        "(d) nn.GPT staged": Ours(twin, staged_loss).train_step,
    }
    times: dict[str, list[float]] = {name: [] for name in ways}
    losses: dict[str, list[float]] = {name: [] for name in ways}
    for first in range(0, ROUNDS, BLOCK):  # each way takes a block of names in a row, then the next way
        for name, step in ways.items():
            gc.collect()  # untimed: no way pays for another's garbage (microgpt's graphs wait for the collector)
            for tokens in sequences[first : first + BLOCK]:
                start = time.perf_counter()
                losses[name].append(step(tokens))
                times[name].append(time.perf_counter() - start)
    reference = losses["(a) microgpt, its own engine"]
    for name, got in losses.items():
        worst = max(abs(x - y) for x, y in zip(got, reference))
        assert worst < 1e-9, f"{name}: losses differ from microgpt's by {worst:.2e}"
    assert losses["(c) nn.GPT graph"] == losses["(d) nn.GPT staged"], "staged and graph losses differ"
    assert [p.data for p in model.parameters()] == [p.data for p in twin.parameters()], "the weights differ"

    load = os.getloadavg()
    nodes = len(topological_order(model.loss(sequences[0])))
    mean_letters = sum(map(len, docs[:ROUNDS])) / ROUNDS
    print(f"microgpt's step on {ROUNDS} names (mean length {mean_letters:.1f} letters); load average {load[0]:.2f}")
    print(f"losses agree with microgpt's to 1e-9 at every step, (c) and (d) bit for bit; nn.GPT makes {nodes:,} nodes")
    print(f"for {docs[0]!r}")
    print(f"{'':40} {'median':>9} {'vs (a)':>8} {'mean':>9} {'vs (a)':>8}")
    base = statistics.median(times["(a) microgpt, its own engine"])
    base_mean = statistics.mean(times["(a) microgpt, its own engine"])
    for name, measured in times.items():
        median, mean = statistics.median(measured), statistics.mean(measured)
        print(f"{name:40} {1e3 * median:7.1f} ms {base / median:7.2f}x {1e3 * mean:7.1f} ms {base_mean / mean:7.2f}x")
    step = statistics.median(times["(d) nn.GPT staged"])
    spread = step + staging / NUM_STEPS
    lengths = sorted(set(run_lengths))
    print(
        f"a {NUM_STEPS}-step run meets {len(lengths)} lengths ({lengths[0]}..{lengths[-1]} positions); "
        f"fit_gpt stages code for {chosen} positions: {staging:.1f} s"
    )
    print(f"{'(d) with its staging spread over 1,000':40} {1e3 * spread:7.1f} ms {base / spread:7.2f}x")

    # What one code per length would have cost to stage, and the constants StagedLoss.plan uses: each name
    # through the code of its own length and through the longest code (masked), the fastest of 7 runs.
    probe = StagedLoss(GPT(tokenizer.vocab_size, seed=SEED, tokenizer=tokenizer))
    with gc_paused():
        per_length = {m: timed(probe.prepare, m) for m in lengths}
        longest = lengths[-1]
        real = masked = graph = 0.0
        positions = extra = 0
        for tokens in sequences:
            n = min(16, len(tokens) - 1)
            probe.route.pop(n, None)
            real += min(timed(probe, tokens) for _ in range(7))
            probe.route[n] = longest
            masked += min(timed(probe, tokens) for _ in range(7))
            graph += min(timed(backward, probe.model.loss, tokens) for _ in range(3))
            positions, extra = positions + n, extra + longest - n
    position = real / positions
    staging_position = sum(per_length.values()) / sum(lengths)
    print(
        f"one code per length instead: {sum(per_length.values()):.1f} s of staging "
        f"({1e3 * (step + sum(per_length.values()) / NUM_STEPS):.1f} ms a step spread over 1,000)"
    )
    print(
        f"a position of staged code: {1e3 * position:.2f} ms to run, {staging_position:.2f} s to stage "
        f"({staging_position / position:.0f} runs; plan assumes {STAGING_COST:.0f}); a masked position "
        f"{(masked - real) / extra / position:.2f} of a run (plan assumes {MASKED_COST}); a position as a graph "
        f"{graph / positions / position:.1f} runs (plan assumes {GRAPH_COST:g})"
    )

    # A whole run, as circuitgrad gpt trains (without its progress bar).
    del probe, ways, staged_loss  # the staged code above holds about 20 MB for each position of it
    trained = GPT(tokenizer.vocab_size, seed=SEED, tokenizer=tokenizer)
    gc.collect()
    seconds = timed(lambda: fit_gpt(trained, docs, steps=NUM_STEPS, progress=False, staged=True))
    # microgpt the same way, step after step, on every 20th name of the run.
    sample = [tokenizer.frame(doc) for doc in docs[0:NUM_STEPS:20]]
    microgpt = timed(lambda: [own.train_step(tokens, NUM_STEPS) for tokens in sample]) / len(sample)
    gc.collect()
    with gc_paused():
        microgpt_paused = timed(lambda: [own_paused.train_step(t, NUM_STEPS) for t in sample]) / len(sample)
    gc.collect()
    dropped = timed(lambda: [dropped_in.train_step(tokens, NUM_STEPS) for tokens in sample]) / len(sample)
    ours = seconds / NUM_STEPS
    print(f"whole runs, step after step: fit_gpt(staged=True), {NUM_STEPS} steps, {seconds:.1f} s: {1e3 * ours:.1f} ms")
    print(
        f"a step with its staging; microgpt, {len(sample)} steps on every 20th of those names: "
        f"{1e3 * microgpt:.1f} ms a step ({microgpt / ours:.1f}x), with the cyclic GC paused "
        f"{1e3 * microgpt_paused:.1f} ms ({microgpt_paused / ours:.1f}x)"
    )
    print(
        f"(b) the same way, microgpt with circuitgrad's Value: {1e3 * dropped:.1f} ms a step "
        f"({microgpt / dropped:.2f}x microgpt's own engine)"
    )
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    print("targets: (d) with staging at least 20x faster than (a); (b) at least as fast as (a)")


if __name__ == "__main__":
    main()
