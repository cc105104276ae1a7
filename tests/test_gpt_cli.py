"""`circuitgrad gpt` end to end: a few steps, the files it writes, and bad flags."""

from __future__ import annotations

import shutil

import pytest

from nn import GPT
from nn.cli import main


def test_gpt_trains_samples_and_writes_its_outputs(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["gpt", "--steps", "4", "--samples", "3", "--seed", "1", "--out", str(out)]) == 0
    printed = capsys.readouterr()
    assert "4,192 parameters" in printed.out and "5,163 documents" in printed.out
    assert printed.out.count("sample ") == 3
    assert printed.err == ""  # stdout is not a terminal here: no progress bar
    expected = ["model.json", "loss.png", "attention.png"] + (["graph.svg"] if shutil.which("dot") else [])
    for name in expected:
        assert (out / name).stat().st_size > 0, name
    model = GPT.from_file(out / "model.json")
    assert model.config()["chars"] == "abcdefghijklmnopqrstuvwxyz" and model.n_embd == 16


def test_gpt_reads_a_data_file_and_takes_the_model_sizes(tmp_path, capsys):
    data = tmp_path / "words.txt"
    data.write_text("abba\nbaab\nab ba\n", encoding="utf-8")
    args = ["gpt", "--data", str(data), "--steps", "2", "--n-embd", "6", "--n-head", "3", "--n-layer", "2"]
    assert main([*args, "--block-size", "4", "--temperature", "1.5", "--samples", "1", "--out", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    assert "n_embd=6, n_head=3, n_layer=2, block_size=4" in printed and "4 tokens" in printed
    assert "documents are longer than --block-size" in printed
    assert GPT.from_file(tmp_path / "model.json").tokenizer.chars == [" ", "a", "b"]


def test_gpt_stages_by_default_and_graph_gives_the_same_model(tmp_path, capsys):
    data = tmp_path / "words.txt"
    data.write_text("abba\nbaab\nabab\nbbaa\n", encoding="utf-8")
    common = ["gpt", "--data", str(data), "--steps", "60", "--n-embd", "4", "--n-head", "1", "--block-size", "4"]
    printed = []
    for how in ("staged", "graph"):
        flags = ["--graph"] if how == "graph" else []
        assert main([*common, *flags, "--samples", "3", "--out", str(tmp_path / how)]) == 0
        printed.append(capsys.readouterr().out.splitlines())
    staged, graph = (next(line for line in lines if line.startswith("60 steps")) for lines in printed)
    assert "60 steps (staged) in" in staged and "60 steps (graph) in" in graph
    assert staged.split("; ")[1] == graph.split("; ")[1]  # the mean loss of the last steps
    assert [line for line in printed[0] if "sample" in line] == [line for line in printed[1] if "sample" in line]
    assert (tmp_path / "staged" / "model.json").read_bytes() == (tmp_path / "graph" / "model.json").read_bytes()


@pytest.mark.parametrize(
    "flags, message",
    [
        (["--steps", "0"], "argument --steps: must be at least 1, not '0'"),
        (["--steps", "ten"], "argument --steps: must be a whole number, not 'ten'"),
        (["--n-embd", "-2"], "argument --n-embd: must be at least 1"),
        (["--n-head", "5"], "argument --n-head: must divide --n-embd (16), not 5"),
        (["--block-size", "1.5"], "argument --block-size: must be a whole number"),
        (["--temperature", "0"], "argument --temperature: must be a positive number"),
        (["--temperature", "nan"], "argument --temperature: must be a finite number"),
        (["--data", "{missing}"], "argument --data: {missing}: cannot be read"),
        (["--data", "{empty}"], "argument --data: {empty}: holds no documents"),
        (["--data", "{single}"], "argument --data: {single}: uses a single distinct character"),
        (["--staged", "--graph"], "argument --graph: not allowed with argument --staged"),
    ],
)
def test_bad_flags_exit_2_naming_the_flag(tmp_path, capsys, flags, message):
    paths = {"missing": tmp_path / "nope.txt", "empty": tmp_path / "empty.txt", "single": tmp_path / "one.txt"}
    paths["empty"].write_text("\n\n", encoding="utf-8")
    paths["single"].write_text("zz\nz\n", encoding="utf-8")
    flags = [flag.format(**paths) for flag in flags]
    with pytest.raises(SystemExit) as exit_info:
        main(["gpt", *flags, "--out", str(tmp_path / "out")])
    assert exit_info.value.code == 2
    errors = capsys.readouterr().err.strip().splitlines()
    assert errors[-1].startswith("circuitgrad gpt: error: ") and message.format(**paths) in errors[-1], errors
    assert not (tmp_path / "out").exists()


def test_a_reader_that_goes_away_stops_the_command_quietly(tmp_path):
    """`circuitgrad gpt | head -1`: the pipe closes before the output is written; no traceback."""
    import subprocess
    import sys

    data = tmp_path / "words.txt"
    data.write_text("abba\nbaab\nabab\n", encoding="utf-8")
    command = [sys.executable, "-c", "import sys; from nn.cli import main; sys.exit(main(sys.argv[1:]))"]
    flags = ["gpt", "--data", str(data), "--steps", "1", "--samples", "50", "--graph", "--out", str(tmp_path / "o")]
    child = subprocess.Popen([*command, *flags], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert child.stdout is not None and child.stderr is not None
    child.stdout.close()  # the reader has gone before the first line
    error = child.stderr.read().decode()
    assert child.wait(timeout=120) == 1
    assert "Traceback" not in error and "BrokenPipeError" not in error, error
