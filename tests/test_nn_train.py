"""Data sets, training to the targets, plots, and the command line end to end."""

from __future__ import annotations

import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from engine import StageError, Value
from nn import MLP, SGD, Adam, LinearDecay, accuracy, fit, losses, plot_decision_boundary, plot_loss, predict
from nn.cli import main
from nn.data import DATASETS, blobs, circles, moons, signed, spiral, xor


@pytest.mark.parametrize("name", list(DATASETS))
def test_data_sets_are_seeded_and_shaped(name):
    make = DATASETS[name]
    X, y = make(seed=3)
    again, y_again = make(seed=3)
    other, _ = make(seed=4)
    assert X == again and y == y_again and X != other
    assert len(X) == len(y) and all(len(p) == 2 and all(isinstance(v, float) for v in p) for p in X)
    assert set(y) == set(range(max(y) + 1)) and min(y) == 0


def test_data_set_details():
    assert len(moons(100)[0]) == 100 and sorted(set(moons(100)[1])) == [0, 1]
    X, y = spiral(n_per_class=20, n_classes=4)
    assert len(X) == 80 and y.count(3) == 20
    X, y = circles(50, noise=0.0)
    assert all(abs((a * a + b * b) ** 0.5 - (1.0 if c == 0 else 0.5)) < 1e-12 for (a, b), c in zip(X, y))
    X, y = xor(40, noise=0.0)
    assert all(c == int((a > 0) != (b > 0)) for (a, b), c in zip(X, y))
    assert len(set(blobs(30, centers=5)[1])) == 5
    assert signed([0, 1, 1]) == [-1, 1, 1]
    with pytest.raises(ValueError, match="moons: n must be a whole number >= 2, not 1"):
        moons(1)


def test_moons_demo_recipe_reaches_full_accuracy_within_100_steps():
    X, labels = moons(100, noise=0.1, seed=0)
    y = signed(labels)
    model = MLP(2, [16, 16, 1], seed=0)
    optimizer = SGD(model.parameters(), lr=1.0)
    history = fit(
        model,
        X,
        y,
        losses.hinge,
        optimizer,
        steps=100,
        l2_weight=1e-4,
        schedule=LinearDecay(optimizer, 1.0, 0.1, 100),
        progress=False,
    )
    assert 1.0 in history.accuracy
    assert accuracy(predict(model, X), y) == 1.0
    assert history.loss[-1] < history.loss[0] / 10
    assert history.lr[0] == 1.0 and history.lr[-1] == pytest.approx(0.109)


def test_spiral_with_cross_entropy_and_adam_reaches_95_percent():
    X, y = spiral(n_per_class=100, n_classes=3, seed=0)
    model = MLP(2, [16, 16, 3], seed=0)
    history = fit(model, X, y, losses.cross_entropy, Adam(model.parameters(), lr=0.05), steps=150, progress=False)
    assert accuracy(predict(model, X), y) >= 0.95, history.accuracy[-5:]


@pytest.mark.parametrize("activation", ["relu", "tanh"])
def test_staged_fit_gives_the_same_history_and_weights(activation):
    X, labels = spiral(n_per_class=10, n_classes=3, seed=2)
    runs = []
    for staged in (False, True):
        model = MLP(2, [8, 3], activation=activation, seed=1)
        seen = []
        history = fit(
            model,
            X,
            labels,
            losses.cross_entropy,
            Adam(model.parameters(), lr=0.05),
            steps=6,
            l2_weight=1e-3,
            progress=False,
            staged=staged,
            callback=lambda k, loss, model=model, seen=seen: seen.append((loss.data, model.parameters()[0].grad)),
        )
        runs.append((history, [p.data for p in model.parameters()], seen))
    (history, weights, seen), (staged_history, staged_weights, staged_seen) = runs
    # One trace per class (the target picks a logit), the same numbers bit for bit.
    assert staged_history.loss == history.loss and staged_history.accuracy == history.accuracy
    assert staged_weights == weights and staged_seen == seen


LOSSES = {
    "hinge": (losses.hinge, lambda labels: signed(labels)),
    "cross_entropy": (losses.cross_entropy, lambda labels: labels),
    "mse": (losses.mse, lambda labels: [float(c) * 2 - 0.5 for c in labels]),
    "huber": (losses.huber, lambda labels: [float(c) * 3 - 1.5 for c in labels]),
    "bce_with_logits": (losses.bce_with_logits, lambda labels: labels),
}


@pytest.mark.parametrize("name", sorted(LOSSES))
@pytest.mark.parametrize("batch_size", [None, 1, 7, 32])
def test_staged_fit_equals_the_graph_bit_for_bit_on_shuffled_minibatches(name, batch_size):
    loss, targets = LOSSES[name]
    X, labels = moons(50, noise=0.2, seed=3)  # 50 = 7 * 7 + 1 and 32 + 18: a short last batch
    y = targets(labels)
    outputs = 2 if name == "cross_entropy" else 1
    runs = []
    for staged in (False, True):
        model = MLP(2, [6, 5, outputs], seed=4)
        optimizer = SGD(model.parameters(), lr=0.2, momentum=0.5)
        history = fit(
            model,
            X,
            y,
            loss,
            optimizer,
            steps=9,
            l2_weight=1e-3,
            batch_size=batch_size,
            progress=False,
            staged=staged,
            rng=random.Random(5),
        )
        runs.append((history.loss, history.accuracy, [p.data for p in model.parameters()]))
    assert runs[0] == runs[1]


def test_a_loss_that_does_not_stage_exactly_is_refused_before_any_update():
    X, labels = moons(20, seed=0)
    model = MLP(2, [4, 1], seed=0)
    before = model.state_dict()

    def batch_statistic(scores, labels):  # not a mean of one term per sample
        return Value.sum(scores) * Value.sum(scores) * 0.01

    with pytest.raises(StageError, match="differs from the graph"):
        fit(model, X, signed(labels), batch_statistic, SGD(model.parameters(), lr=0.1), staged=True, progress=False)
    assert model.state_dict() == before


def test_fit_shows_a_progress_bar_with_loss_and_accuracy(capsys):
    X, labels = moons(20, seed=0)
    model = MLP(2, [4, 1], seed=0)
    fit(model, X, signed(labels), losses.hinge, SGD(model.parameters(), lr=0.1), steps=3)
    err = capsys.readouterr().err
    assert "training" in err and "loss=" in err and "accuracy=" in err and "3/3" in err


def test_minibatches_and_callback():
    X, labels = moons(40, seed=0)
    model = MLP(2, [4, 1], seed=0)
    seen = []
    fit(
        model,
        X,
        signed(labels),
        losses.hinge,
        SGD(model.parameters(), lr=0.1),
        steps=4,
        batch_size=8,
        progress=False,
        callback=lambda k, loss: seen.append((k, loss.data)),
    )
    assert [k for k, _ in seen] == [0, 1, 2, 3]


def test_accuracy_rules():
    assert accuracy([0.5, -0.5, 2.0], [1, -1, -1]) == pytest.approx(2 / 3)
    assert accuracy([0.5, -0.5], [1, 0]) == 1.0
    assert accuracy([[0.1, 0.9], [2.0, 1.0]], [1, 1]) == 0.5


def test_plots_are_written(tmp_path):
    X, labels = moons(30, seed=0)
    y = signed(labels)
    model = MLP(2, [4, 1], seed=0)
    history = fit(model, X, y, losses.hinge, SGD(model.parameters(), lr=0.1), steps=3, progress=False)
    plot_loss(history, path=tmp_path / "loss.png")
    plot_decision_boundary(model, X, y, path=tmp_path / "boundary.png", resolution=20)
    X3, y3 = spiral(10, 3)
    plot_decision_boundary(MLP(2, [4, 3], seed=0), X3, y3, path=tmp_path / "three.png", resolution=20)
    for name in ("loss.png", "boundary.png", "three.png"):
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cli_train_end_to_end(tmp_path, capsys):
    code = main(["train", "--steps", "5", "--out", str(tmp_path / "out"), "--no-progress"])
    assert code == 0
    assert main(["train", "--steps", "5", "--out", str(tmp_path / "staged"), "--no-progress", "--staged"]) == 0
    assert (tmp_path / "staged" / "model.json").read_text() == (tmp_path / "out" / "model.json").read_text()
    out = capsys.readouterr().out
    assert "training accuracy" in out
    names = {p.name for p in (tmp_path / "out").iterdir()}
    diagram = {"graph.svg"} if shutil.which("dot") else set()
    assert names == {"decision_boundary.png", "loss.png", "model.json"} | diagram
    model = MLP(2, [16, 16, 1])
    model.load(tmp_path / "out" / "model.json")


def test_cli_other_options(tmp_path):
    out = tmp_path / "spiral"
    args = [
        "train",
        "--dataset",
        "spiral",
        "--samples",
        "10",
        "--hidden",
        "8",
        "--activation",
        "tanh",
        "--optimizer",
        "adam",
        "--steps",
        "3",
        "--init",
        "xavier",
        "--out",
        str(out),
        "--no-progress",
    ]
    assert main(args) == 0
    model = MLP(2, [8, 3], activation="tanh", init="xavier")
    model.load(out / "model.json")


def test_cli_help_reads_well(capsys):
    with pytest.raises(SystemExit) as info:
        main(["train", "--help"])
    assert info.value.code == 0
    text = capsys.readouterr().out
    for option in ("--dataset", "--hidden", "--activation", "--optimizer", "--steps", "--seed", "--out"):
        assert option in text
    assert "micrograd's demo" in text
    with pytest.raises(SystemExit) as info:
        main(["train", "--hidden", "a,b"])
    assert info.value.code == 2
    assert "hidden sizes must be whole numbers" in capsys.readouterr().err


def test_the_console_command(tmp_path):
    command = Path(sys.executable).parent / "circuitgrad"
    if not command.exists():
        pytest.skip("the circuitgrad command is installed by pip install -e .")
    result = subprocess.run(
        [str(command), "train", "--steps", "2", "--no-progress"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "out" / "model.json").exists()
    help_text = subprocess.run([str(command), "--help"], capture_output=True, text=True, timeout=60).stdout
    assert "train" in help_text and "usage: circuitgrad" in help_text


@pytest.mark.parametrize("staged", [True, "c"])
def test_staged_full_batches_bind_the_data_once_with_the_graphs_numbers(staged):
    X, labels = moons(40, noise=0.1, seed=3)
    y = [2 * c - 1 for c in labels]
    runs = []
    for how in (False, staged):
        model = MLP(2, [4, 1], seed=2)
        data = [list(x) for x in X]

        def change_the_data(step, loss, data=data):
            data[0][0] += 1.0  # the graph path sees it from the next step on; the bound data does not

        history = fit(model, data, y, losses.hinge, SGD(model.parameters(), lr=0.1), steps=4, staged=how,
                      progress=False, callback=change_the_data)  # fmt: skip
        runs.append((history.loss, [p.data for p in model.parameters()]))
    assert runs[0][0][0] == runs[1][0][0]  # the same numbers while the data is the same
    assert all(a != b for a, b in zip(runs[0][0][1:], runs[1][0][1:]))  # then only the graph path sees the change
