"""Issue 11's items in `nn` and the CLI, and issue 15's displays and CLI conventions, each as a reproduction."""

from __future__ import annotations

import json
import math
import os
import random
import re
import signal
import subprocess
import sys
import textwrap
from fractions import Fraction
from pathlib import Path

import pytest

from engine import Value
from nn import MLP, RNN, SGD, Adam, History, Layer, LinearDecay, Module, Neuron, fit, losses
from nn.cli import main
from nn.data import blobs, moons, signed

ROOT = Path(__file__).resolve().parent.parent


def umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


# ---------------------------------------------------------------- 5. parameters()


def test_parameters_are_read_from_the_current_sub_modules():
    model = MLP(2, [3, 1], seed=0)
    neuron = model.layers[0].neurons[1]
    neuron.w = [Value(0.5), Value(-0.25)]
    neuron.b = Value(0.125)
    params = model.parameters()
    assert any(p is neuron.w[0] for p in params) and any(p is neuron.b for p in params)
    assert len(params) == 13 and [p for _, p in model.named_parameters()] == params
    model.layers[1].neurons[0] = Neuron(3, nonlin=False, seed=1)  # a whole neuron replaced
    assert model.parameters()[-1] is model.layers[1].neurons[0].b


def test_weights_replaced_by_hand_are_trained_as_micrograd_trains_them():
    engine = pytest.importorskip("micrograd.engine", reason="micrograd 0.1.0 is a test dependency")
    micro_nn = pytest.importorskip("micrograd.nn", reason="micrograd 0.1.0 is a test dependency")
    theirs, ours = micro_nn.MLP(2, [4, 1]), MLP(2, [4, 1], seed=0)
    rng = random.Random(5)
    for their_layer, our_layer in zip(theirs.layers, ours.layers, strict=True):
        for their_neuron, our_neuron in zip(their_layer.neurons, our_layer.neurons, strict=True):
            weights, bias = [rng.uniform(-1, 1) for _ in our_neuron.w], rng.uniform(-1, 1)
            their_neuron.w, their_neuron.b = [engine.Value(w) for w in weights], engine.Value(bias)  # the exercise
            our_neuron.w, our_neuron.b = [Value(w) for w in weights], Value(bias)
    X, labels = moons(20, seed=1)
    y = signed(labels)
    optimizer = SGD(ours.parameters(), lr=0.1)
    for _ in range(5):
        their_loss = sum((1 + -yi * theirs(list(x))).relu() for x, yi in zip(X, y)) * (1.0 / len(X))
        theirs.zero_grad()
        their_loss.backward()
        for p in theirs.parameters():
            p.data -= 0.1 * p.grad
        our_loss = losses.hinge([ours(x) for x in X], y)
        optimizer.zero_grad()
        our_loss.backward()
        optimizer.step()
        assert our_loss.data == pytest.approx(their_loss.data, rel=1e-12)
    assert [p.data for p in ours.parameters()] == pytest.approx([p.data for p in theirs.parameters()], rel=1e-12)


def test_fit_refuses_an_optimizer_made_before_the_weights_were_replaced():
    model = MLP(2, [3, 1], seed=0)
    optimizer = SGD(model.parameters(), lr=0.1)
    model.layers[0].neurons[0].w = [Value(0.5), Value(0.5)]
    X, labels = moons(10, seed=0)
    with pytest.raises(ValueError, match="2 Value\\(s\\) that are not parameters of the model"):
        fit(model, X, signed(labels), losses.hinge, optimizer, steps=1, progress=False)


def test_a_hidden_layer_of_one_neuron_feeds_the_next():
    model = MLP(2, [1, 1], seed=0)
    hidden = model.layers[0].neurons[0]([0.5, -1.0])
    assert model([0.5, -1.0]).data == model.layers[1].neurons[0]([hidden]).data


# ------------------------------------------------------------ 6. LinearDecay


def test_linear_decay_holds_its_end_value_after_its_last_step():
    optimizer = SGD([Value(0.0)], lr=1.0)
    schedule = LinearDecay(optimizer, 1.0, 0.1, 100)
    lrs = [schedule.step() for _ in range(300)]
    assert lrs[:100] == pytest.approx([1.0 - 0.9 * k / 100 for k in range(100)], rel=1e-15)
    assert lrs[100:] == [0.1] * 200 and optimizer.lr == 0.1
    to_zero = LinearDecay(SGD([Value(0.0)], lr=0.5), 0.5, 0, 4)
    assert [to_zero.step() for _ in range(6)] == [0.5, 0.375, 0.25, 0.125, 0.0, 0.0]


def test_fit_past_the_end_of_the_schedule_stays_finite():
    X, labels = moons(100, noise=0.1, seed=0)
    model = MLP(2, [16, 16, 1], seed=0)
    optimizer = SGD(model.parameters(), lr=1.0)
    history = fit(
        model,
        X,
        signed(labels),
        losses.hinge,
        optimizer,
        steps=200,
        l2_weight=1e-4,
        schedule=LinearDecay(optimizer, 1.0, 0.1, 100),
        progress=False,
    )
    assert all(math.isfinite(v) for v in history.loss) and history.loss[-1] < 0.1
    assert min(history.lr) == 0.1 and history.lr[100:] == [0.1] * 100


# --------------------------------------------------------------- 7. Module.load


def saved(tmp_path: Path, model: Module | None = None) -> tuple[Path, str]:
    path = tmp_path / "model.json"
    (model or MLP(2, [4, 1], seed=0)).save(path)
    return path, path.read_text()


def last_value_replaced(text: str, literal: str) -> str:
    head, _, tail = text.rpartition(": ")
    return head + ": " + literal + tail[tail.index("\n") :]


BAD_FILES = {
    "last value 10**400": (lambda text: last_value_replaced(text, "1" + "0" * 400), "401 digits is beyond any float"),
    "a 5,000-digit integer": (lambda text: last_value_replaced(text, "7" * 5000), "5000 digits is beyond any float"),
    "NaN": (lambda text: last_value_replaced(text, "NaN"), "NaN is not a number a model file may hold"),
    "Infinity": (lambda text: last_value_replaced(text, "Infinity"), "Infinity is not a number"),
    "-Infinity": (lambda text: last_value_replaced(text, "-Infinity"), "-Infinity is not a number"),
    "1e400": (lambda text: last_value_replaced(text, "1e400"), "the number 1e400 is beyond any float"),
    "deeply nested": (
        lambda text: text.replace('"format"', '"deep": ' + "[" * 100_000 + "]" * 100_000 + ', "format"'),
        "nested too deeply",
    ),
    "another activation": (
        lambda text: text.replace('"activation": "relu"', '"activation": "tanh"'),
        "the file's activation is 'tanh', this model's is 'relu'",
    ),
    "other layer sizes": (
        lambda text: text.replace('"nouts": [\n   4,\n   1\n  ]', '"nouts": [5, 1]'),
        "the file's nouts is \\[5, 1\\], this model's is \\[4, 1\\]",
    ),
    "another nin": (lambda text: text.replace('"nin": 2', '"nin": 3'), "the file's nin is 3, this model's is 2"),
    "no config": (lambda text: text.replace('"config"', '"configuration"'), "unexpected entry 'configuration'"),
    "a duplicate key": (
        lambda text: text.replace('"parameters": {', '"parameters": {\n  "layers.1.neurons.0.b": 1.0,'),
        "the key 'layers.1.neurons.0.b' appears twice",
    ),
    "version true": (lambda text: text.replace('"version": 1', '"version": true'), "unsupported version True"),
    "an unknown init": (lambda text: text.replace('"init": "uniform"', '"init": 3'), "config init is 3"),
}


@pytest.mark.parametrize("how", list(BAD_FILES))
def test_load_checks_the_whole_file_first_and_changes_nothing(tmp_path, how):
    make, message = BAD_FILES[how]
    path, text = saved(tmp_path)
    broken = make(text)
    assert broken != text
    path.write_text(broken)
    model = MLP(2, [4, 1], seed=1)
    before = model.state_dict()
    with pytest.raises(ValueError, match=message) as info:
        model.load(path)
    assert str(path) in str(info.value) and model.state_dict() == before


def test_load_state_dict_checks_every_value_first():
    model = MLP(2, [4, 1], seed=0)
    before = model.state_dict()
    state = dict(before)
    state[list(state)[-1]] = 10**400
    with pytest.raises(ValueError, match="must be a finite number"):
        model.load_state_dict(state)
    state[list(state)[-1]] = math.nan
    with pytest.raises(ValueError, match="must be a finite number, not nan"):
        model.load_state_dict(state)
    assert model.state_dict() == before


def test_save_refuses_a_non_finite_parameter_and_writes_nothing(tmp_path):
    model = MLP(2, [4, 1], seed=0)
    model.parameters()[3].data = math.inf
    with pytest.raises(ValueError, match="parameter 'layers.0.neurons.1.w.0' is inf"):
        model.save(tmp_path / "model.json")
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------- 8. fit checks before it trains


def training_state(model, optimizer, schedule):
    return model.state_dict(), optimizer.lr, getattr(optimizer, "t", None), schedule.k


@pytest.mark.parametrize(
    "bad_row, message",
    [
        (("a", 1.0), "fit: X\\[17\\]\\[0\\] must be a finite number, not 'a'"),
        ((1.0,), "fit: X\\[17\\] has 1 number, X\\[0\\] has 2"),
        ((1.0, math.nan), "fit: X\\[17\\]\\[1\\] must be a finite number, not nan"),
        (None, "fit: X\\[17\\] must be a list of numbers"),
    ],
)
def test_fit_checks_every_sample_before_the_first_step(bad_row, message):
    X, labels = moons(30, seed=0)
    X = list(X)
    X[17] = bad_row
    model = MLP(2, [4, 1], seed=0)
    optimizer = Adam(model.parameters(), lr=0.01)
    schedule = LinearDecay(optimizer, 0.01, 0.001, 10)
    before = training_state(model, optimizer, schedule)
    calls = []
    with pytest.raises((TypeError, ValueError), match=message):
        fit(
            model,
            X,
            signed(labels),
            losses.hinge,
            optimizer,
            steps=10,
            batch_size=3,
            schedule=schedule,
            progress=False,
            callback=lambda k, loss: calls.append(k),
        )
    assert calls == [] and training_state(model, optimizer, schedule) == before


@pytest.mark.parametrize(
    "loss, label, message",
    [
        (losses.hinge, 0, "fit: labels must be -1 or \\+1, not 0 \\(y\\[17\\]\\)"),
        (losses.bce_with_logits, 2, "fit: y\\[17\\] must be a number in \\[0, 1\\]"),
        (losses.cross_entropy, 1, "fit: target 1 \\(y\\[17\\]\\) is not a class index below 1"),
        (losses.mse, "1", "fit: y\\[17\\] must be a finite number, not '1'"),
    ],
)
def test_fit_checks_every_label_for_the_losses_it_knows(loss, label, message):
    X, labels = moons(30, seed=0)
    y = [0 if loss is losses.cross_entropy else (1 if loss is not losses.hinge else -1)] * 30
    y[17] = label
    model = MLP(2, [4, 1], seed=0)
    before = model.state_dict()
    with pytest.raises((TypeError, ValueError), match=message):
        fit(model, X, y, loss, SGD(model.parameters(), lr=0.1), steps=10, batch_size=3, progress=False)
    assert model.state_dict() == before


# ----------------------------------------------------------------------- 9. save


def test_save_keeps_an_existing_files_mode_and_a_new_file_gets_the_umasks(tmp_path):
    path, _ = saved(tmp_path)
    assert os.stat(path).st_mode & 0o777 == 0o666 & ~umask()
    os.chmod(path, 0o600)
    MLP(2, [4, 1], seed=1).save(path)
    assert os.stat(path).st_mode & 0o777 == 0o600
    assert MLP(2, [4, 1], seed=1).state_dict() == json.loads(path.read_text())["parameters"]
    old = os.umask(0o077)
    try:
        MLP(2, [4, 1], seed=1).save(tmp_path / "private.json")
    finally:
        os.umask(old)
    assert os.stat(tmp_path / "private.json").st_mode & 0o777 == 0o600


def test_save_writes_through_a_symbolic_link(tmp_path):
    (tmp_path / "models").mkdir()
    target = tmp_path / "models" / "real.json"
    MLP(2, [4, 1], seed=0).save(target)
    link = tmp_path / "model.json"
    link.symlink_to(Path("models") / "real.json")
    MLP(2, [4, 1], seed=1).save(link)
    assert link.is_symlink() and os.readlink(link) == str(Path("models") / "real.json")
    assert json.loads(target.read_text())["parameters"] == MLP(2, [4, 1], seed=1).state_dict()
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["model.json", "models", "real.json"]
    dangling = tmp_path / "new.json"
    dangling.symlink_to("models/made.json")
    MLP(2, [4, 1], seed=2).save(dangling)
    assert dangling.is_symlink() and (tmp_path / "models" / "made.json").is_file()


SLOW_SAVE = textwrap.dedent(
    """
    import os, signal, sys, time
    from nn import MLP

    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGHUP, signal.SIG_DFL)
    python_handler = sys.argv[2] == "KeyboardInterrupt"
    signal.signal(signal.SIGINT, signal.default_int_handler if python_handler else signal.SIG_DFL)

    real_fsync = os.fsync

    def slow_fsync(fd):  # the temporary file is written, not yet renamed: a slow disk
        print("writing", flush=True)
        time.sleep(60)
        return real_fsync(fd)

    os.fsync = slow_fsync
    MLP(2, [4, 1], seed=1).save(sys.argv[1])
    print("saved", flush=True)
    """
)


@pytest.mark.parametrize(
    "signum, sigint",
    [
        (signal.SIGTERM, "default"),
        (signal.SIGHUP, "default"),
        (signal.SIGINT, "default"),
        (signal.SIGINT, "KeyboardInterrupt"),  # Python's own handler: the exception does the cleanup
    ],
)
def test_a_signal_during_save_removes_the_temporary_file(tmp_path, signum, sigint):
    path, old = saved(tmp_path)
    child = subprocess.Popen(
        [sys.executable, "-c", SLOW_SAVE, str(path), sigint],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None and child.stdout.readline() == "writing\n"
        assert len(list(tmp_path.iterdir())) == 2  # the target and the hidden temporary file
        child.send_signal(signum)
        out, err = child.communicate(timeout=30)
    finally:
        child.kill()
        child.wait()
    assert "saved" not in out
    assert child.returncode in (-signum, 128 + signum), (child.returncode, err)  # the signal still ends it
    assert [p.name for p in tmp_path.iterdir()] == ["model.json"] and path.read_text() == old


def test_save_checks_its_path(tmp_path):
    model = MLP(2, [4, 1], seed=0)
    with pytest.raises(ValueError, match="MLP.save: path must be a path naming a file, not ''"):
        model.save("")
    with pytest.raises(FileNotFoundError, match="the folder .* does not exist"):
        model.save(tmp_path / "nowhere" / "model.json")
    with pytest.raises(IsADirectoryError, match="is a folder, not a file"):
        model.save(tmp_path)
    assert list(tmp_path.iterdir()) == []


# ----------------------------------------------------- 13. numbers as learners have them


def test_numpy_scalars_and_fractions_are_numbers_stored_as_python_floats():
    np = pytest.importorskip("numpy")
    model = MLP(np.int64(2), [np.int64(3), 1], seed=np.int64(0))
    for optimizer in (
        SGD(model.parameters(), lr=np.float32(0.1), momentum=np.float64(0.5)),
        Adam(model.parameters(), lr=Fraction(1, 100), betas=(np.float32(0.9), 0.999), eps=np.float32(1e-8)),
    ):
        for p in model.parameters():
            p.grad = 0.5
        optimizer.step()
        optimizer.step()
        assert all(type(p.data) is float for p in model.parameters())
        assert type(optimizer.lr) is float
    schedule = LinearDecay(optimizer, np.float32(1.0), Fraction(1, 10), np.int64(10))
    assert type(schedule.step()) is float
    X, y = moons(np.int64(10), noise=np.float32(0.1), seed=np.int64(1))
    assert all(type(v) is float for row in X for v in row)
    assert all(type(v) is float for row in blobs(9, std=np.float64(0.5))[0] for v in row)
    optimizer = SGD(model.parameters(), lr=np.float32(0.1))
    history = fit(model, X, signed(y), losses.hinge, optimizer, steps=np.int64(2), progress=False)
    assert len(history.loss) == 2 and all(type(p.data) is float for p in model.parameters())
    assert losses.huber([Value(1.0)], [np.float32(3.0)], delta=np.float32(1.0)).data == 1.5


def test_numpy_arrays_are_lists_of_numbers():
    np = pytest.importorskip("numpy")
    X, labels = moons(20, seed=0)
    X, y = np.array(X), np.array(signed(labels))
    model = MLP(2, [4, 1], seed=0)
    assert model(X[0]).data == model(list(X[0])).data
    history = fit(model, X, y, losses.hinge, SGD(model.parameters(), lr=0.1), steps=2, progress=False)
    assert len(history.loss) == 2 and all(type(p.data) is float for p in model.parameters())
    assert losses.mse(np.array([1.0, 2.0]), np.array([2.0, 2.0])).data == 0.5
    with pytest.raises(TypeError, match="MLP: x must be a list of 2 numbers, not array\\(1.\\) \\(ndarray\\)"):
        model(np.array(1.0))


# ---------------------------------------------------------------------- displays


def test_print_model_is_a_nested_summary_with_parameter_counts():
    assert str(MLP(2, [16, 16, 1], seed=0)) == textwrap.dedent(
        """\
        MLP(2 -> [16, 16, 1], relu, 337 parameters)
          (0): Layer(2 -> 16, ReLU, 48 parameters)
          (1): Layer(16 -> 16, ReLU, 272 parameters)
          (2): Layer(16 -> 1, Linear, 17 parameters)"""
    )
    model = MLP(2, [4, 1], activation="tanh", seed=0)
    model.layers[0].neurons[2] = Neuron(2, activation="sigmoid", seed=0)
    assert repr(model) == textwrap.dedent(
        """\
        MLP(2 -> [4, 1], tanh, 17 parameters)
          (0): Layer(2 -> 4, 12 parameters)
            (0-1): 2 x TanhNeuron(2)
            (2): SigmoidNeuron(2)
            (3): TanhNeuron(2)
          (1): Layer(4 -> 1, Linear, 5 parameters)"""
    )
    assert repr(RNN(2, 3, seed=0)) == "RNN(2 -> 3, tanh, 18 parameters)\n  (cell): Layer(5 -> 3, Tanh, 18 parameters)"
    assert repr(Layer(3, 1, seed=0)) == "Layer(3 -> 1, ReLU, 4 parameters)"
    assert repr(Neuron(1, seed=0)) == "ReLUNeuron(1)"
    assert repr(Module()) == "Module(0 parameters)"


def test_history_shows_a_summary_line():
    assert repr(History()) == "History(0 steps)"
    history = History(loss=[0.9, 0.25, 0.0123456], accuracy=[0.5, 0.75, 1.0], lr=[1.0, 1.0, 1.0])
    assert repr(history) == "History(3 steps, final loss 0.01235, final accuracy 100.0%)"
    assert history.loss[-1] == 0.0123456  # the numbers are all still there


def test_a_module_can_be_called_by_typed_code():
    with pytest.raises(NotImplementedError, match="Module does not define its forward pass"):
        Module()([1.0])


# ----------------------------------------------------------------------- 12. CLI


def test_cli_lr_zero_is_refused_not_read_as_the_default(tmp_path, capsys):
    with pytest.raises(SystemExit) as info:
        main(["train", "--lr", "0", "--steps", "1", "--out", str(tmp_path / "out"), "--no-progress"])
    assert info.value.code == 2
    assert "argument --lr: must be a positive number, not '0'" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_cli_checks_the_output_folder_before_training(tmp_path, capsys):
    (tmp_path / "file").write_text("in the way")
    for out in (tmp_path / "file", tmp_path / "file" / "below"):
        with pytest.raises(SystemExit) as info:
            main(["train", "--out", str(out), "--steps", "1", "--no-progress"])
        assert info.value.code == 2
        captured = capsys.readouterr()
        assert "argument --out:" in captured.err and "training" not in captured.out


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_cli_refuses_a_folder_without_write_permission(tmp_path, capsys):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    with pytest.raises(SystemExit) as info:
        main(["train", "--out", str(locked / "out"), "--steps", "1", "--no-progress"])
    assert info.value.code == 2 and "argument --out: cannot write in" in capsys.readouterr().err


def test_cli_version(capsys):
    from importlib import metadata

    import nn

    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    shown = capsys.readouterr().out.strip()
    assert shown == f"circuitgrad {nn.__version__}"
    try:
        assert metadata.version("circuitgrad") == nn.__version__
    except metadata.PackageNotFoundError:
        pass


def test_cli_version_falls_back_to_the_packages_own(monkeypatch, capsys):
    from importlib import metadata

    import nn

    def not_installed(name):
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(metadata, "version", not_installed)
    monkeypatch.setattr(nn, "__version__", "9.8.7")
    with pytest.raises(SystemExit):
        main(["--version"])
    assert capsys.readouterr().out.strip() == "circuitgrad 9.8.7"


def test_cli_help_gives_every_option_help_and_its_default(capsys):
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    text = capsys.readouterr().out
    assert "(default: None)" not in text
    options = text[text.index("options:") :]
    entries = [" ".join(entry.split()) for entry in re.split(r"\n  (?=-)", options)[2:]]  # after -h
    flags = [entry.split()[0] for entry in entries]
    assert {"--dataset", "--samples", "--noise", "--lr", "--out", "--no-progress", "--staged"} <= set(flags)
    for entry in entries:
        switch = re.match(r"--[\w-]+ (?![A-Z{])", entry)  # no value after the flag
        assert switch or "(default: " in entry, entry
        assert len(entry.split()) > 2, entry  # help text after the flag
    assert "blobs 0.5" in text and "moons 0.1" in text


def test_cli_noise_means_the_librarys_noise_for_blobs(tmp_path, monkeypatch):
    import nn.cli

    seen = {}
    original = nn.cli.DATASETS["blobs"]

    def recording(*args, **kwargs):
        seen.update(kwargs)
        return original(*args, **kwargs)

    recording.__wrapped__ = original  # inspect.signature reads the library's defaults through it
    monkeypatch.setitem(nn.cli.DATASETS, "blobs", recording)
    out = str(tmp_path / "out")
    assert main(["train", "--dataset", "blobs", "--steps", "1", "--out", out, "--no-progress"]) == 0
    assert seen["std"] == 0.5
    assert main(["train", "--dataset", "blobs", "--noise", "0.2", "--steps", "1", "--out", out, "--no-progress"]) == 0
    assert seen["std"] == 0.2


def test_no_progress_bar_when_stderr_is_not_a_terminal(tmp_path, capsys):
    assert main(["train", "--steps", "2", "--out", str(tmp_path / "out")]) == 0
    assert "training:" not in capsys.readouterr().err
    result = subprocess.run(
        [sys.executable, "-m", "nn.cli", "train", "--steps", "3", "--out", str(tmp_path / "piped")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert "\r" not in result.stderr and "\r" not in result.stdout
