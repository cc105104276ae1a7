"""nn against micrograd 0.1.0: the same weights, the same demo losses, step by step."""

from __future__ import annotations

import random

import pytest

from nn import MLP, SGD, LinearDecay, fit, losses
from nn.data import moons, signed

micrograd_engine = pytest.importorskip("micrograd.engine", reason="micrograd 0.1.0 is a test dependency")
micrograd_nn = pytest.importorskip("micrograd.nn", reason="micrograd 0.1.0 is a test dependency")


def test_same_seed_same_weights_same_order():
    random.seed(1337)
    theirs = micrograd_nn.MLP(2, [16, 16, 1])
    random.seed(1337)
    ours = MLP(2, [16, 16, 1])
    assert [p.data for p in ours.parameters()] == [p.data for p in theirs.parameters()]
    # A neuron prints as micrograd's does; a layer and an MLP print a summary instead of micrograd's wall of neurons.
    assert [str(n) for layer in ours.layers for n in layer.neurons] == [
        str(n) for layer in theirs.layers for n in layer.neurons
    ]


def test_twenty_demo_steps_give_micrograds_losses():
    X, labels = moons(100, noise=0.1, seed=0)
    y = signed(labels)
    theirs = micrograd_nn.MLP(2, [16, 16, 1])
    ours = MLP(2, [16, 16, 1], seed=3)
    for p, q in zip(theirs.parameters(), ours.parameters(), strict=True):
        p.data = q.data  # copy across: the same order

    their_losses = []
    for k in range(20):  # micrograd's demo.ipynb
        inputs = [list(map(micrograd_engine.Value, row)) for row in X]
        scores = list(map(theirs, inputs))
        data_loss = sum((1 + -yi * si).relu() for yi, si in zip(y, scores)) * (1.0 / len(scores))
        total = data_loss + 1e-4 * sum(p * p for p in theirs.parameters())
        theirs.zero_grad()
        total.backward()
        lr = 1.0 - 0.9 * k / 100
        for p in theirs.parameters():
            p.data -= lr * p.grad
        their_losses.append(total.data)

    optimizer = SGD(ours.parameters(), lr=1.0)
    history = fit(
        ours,
        X,
        y,
        losses.hinge,
        optimizer,
        steps=20,
        l2_weight=1e-4,
        schedule=LinearDecay(optimizer, 1.0, 0.1, 100),
        progress=False,
    )
    assert len(history.loss) == 20
    for k, (a, b) in enumerate(zip(history.loss, their_losses)):
        assert abs(a - b) <= 1e-9, (k, a, b)
    for p, q in zip(theirs.parameters(), ours.parameters()):
        assert abs(p.data - q.data) <= 1e-9
