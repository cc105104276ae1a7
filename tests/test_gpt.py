"""microgpt's GPT in nn: parity with microgpt's algorithm and with PyTorch, the KV cache, bad input."""

from __future__ import annotations

import math
import random

import pytest
from conftest import close, import_torch
from microgpt_reference import MicroGPT, MicroValue

from engine import Value, draw_dot, topological_order
from nn import GPT, Adam, CharTokenizer, Embedding, Linear, RMSNorm, diagnose_gpt, fit_gpt, softmax
from nn.data import documents, names
from nn.gpt import KVCache, StagedLoss
from nn.gpt_inside import ModuleGradientMonitor, attention_maps, module_gradients, position_graph

LETTERS = CharTokenizer("abcdefghijklmnopqrstuvwxyz")


def some_names(k: int, seed: int = 0) -> list[str]:
    docs = names()
    random.Random(seed).shuffle(docs)
    return docs[:k]


def copy_into_reference(model: GPT, reference: MicroGPT) -> None:
    for key, rows in model.matrices().items():
        for ours, theirs in zip(rows, reference.matrices[key], strict=True):
            for p, q in zip(ours, theirs, strict=True):
                q.data = p.data


def snapshot(model: GPT) -> list[tuple[float, float]]:
    return [(p.data, p.grad) for p in model.parameters()]


# ------------------------------------------------------------------ microgpt parity


def test_the_same_random_state_gives_microgpts_weights_in_its_order():
    random.seed(42)
    reference = MicroGPT(27)
    random.seed(42)
    model = GPT(27)
    assert [p.data for p in model.parameters()] == [p.data for p in reference.params]
    assert list(model.matrices()) == list(reference.matrices)
    assert len(model.parameters()) == 4192  # microgpt's count for 27 tokens


def test_twenty_adam_steps_give_microgpts_losses():
    docs = [doc for doc in some_names(500) if len(doc) <= 4][:20]  # short names: microgpt's engine is slow
    model = GPT(LETTERS.vocab_size, seed=1, tokenizer=LETTERS)
    reference = MicroGPT(LETTERS.vocab_size, rng=random.Random(7))
    copy_into_reference(model, reference)
    theirs = [reference.train_step(LETTERS.frame(doc), num_steps=20) for doc in docs]
    ours = fit_gpt(model, docs, steps=20, progress=False).loss
    assert all(close(a, b, rel=1e-9, abs_=1e-9) for a, b in zip(ours, theirs, strict=True)), (ours, theirs)
    assert theirs[-1] < theirs[0]  # it learns
    for key, rows in model.matrices().items():  # and the weights moved the same way
        for ours_row, theirs_row in zip(rows, reference.matrices[key]):
            assert all(close(p.data, q.data, rel=1e-9, abs_=1e-9) for p, q in zip(ours_row, theirs_row))


def test_weights_copy_across_both_ways_through_matrices():
    reference = MicroGPT(LETTERS.vocab_size, rng=random.Random(3))
    model = GPT(LETTERS.vocab_size, seed=4, tokenizer=LETTERS)
    for key, rows in model.matrices().items():
        for ours, theirs in zip(rows, reference.matrices[key], strict=True):
            for p, q in zip(ours, theirs, strict=True):
                p.data = q.data  # into the model, through the rows matrices() hands out
    tokens = LETTERS.frame("olivia")
    assert close(model.loss(tokens).data, reference.loss(tokens).data, rel=1e-12)


def test_matrices_have_microgpts_shapes_and_hold_the_models_own_values():
    model = GPT(30, n_embd=8, n_head=2, n_layer=2, block_size=5, seed=0)
    shapes = {key: (len(rows), len(rows[0])) for key, rows in model.matrices().items()}
    assert shapes == {
        "wte": (30, 8),
        "wpe": (5, 8),
        "lm_head": (30, 8),
        **{f"layer{i}.attn_w{x}": (8, 8) for i in range(2) for x in "qkvo"},
        **{f"layer{i}.mlp_fc1": (32, 8) for i in range(2)},
        **{f"layer{i}.mlp_fc2": (8, 32) for i in range(2)},
    }
    flat = [p for rows in model.matrices().values() for row in rows for p in row]
    assert all(p is q for p, q in zip(flat, model.parameters(), strict=True))
    model.matrices()["wte"][0].clear()  # new lists: the model keeps its own
    assert len(model.matrices()["wte"][0]) == 8


def test_sampling_draws_what_microgpt_draws():
    model = GPT(LETTERS.vocab_size, seed=5, tokenizer=LETTERS)
    reference = MicroGPT(LETTERS.vocab_size, rng=random.Random(0))
    copy_into_reference(model, reference)
    ours = [model.sample(0.5, random.Random(s)).tokens for s in range(3)]
    theirs = [reference.sample(0.5, random.Random(s)) for s in range(3)]
    assert ours == theirs


def test_a_step_makes_far_fewer_nodes_than_microgpts():
    model = GPT(LETTERS.vocab_size, seed=0)
    reference = MicroGPT(LETTERS.vocab_size, rng=random.Random(0))
    tokens = LETTERS.frame("emma")
    ours = len(topological_order(model.loss(tokens)))
    theirs = _count_nodes(reference.loss(tokens))
    assert ours * 12 < theirs, (ours, theirs)  # 1,892 against 38,116 for emma


def _count_nodes(root: MicroValue) -> int:
    seen, stack = {root}, [root]
    while stack:
        for child in stack.pop()._children:
            if child not in seen:
                seen.add(child)
                stack.append(child)
    return sum(1 for node in seen if node._children)


# ------------------------------------------------------------------ PyTorch float64


def torch_loss(torch, W: dict, tokens: list[int], n_head: int, n_layer: int, block_size: int):
    """microgpt's loss written the batched way: all positions at once, a causal mask, F.cross_entropy."""
    F = torch.nn.functional
    n = min(block_size, len(tokens) - 1)
    inputs, targets = torch.tensor(tokens[:n]), torch.tensor(tokens[1 : n + 1])

    def rms(x):
        return x * (x.pow(2).mean(-1, keepdim=True) + 1e-5) ** -0.5

    x = rms(W["wte"][inputs] + W["wpe"][:n])
    d = x.shape[1] // n_head
    mask = torch.triu(torch.ones(n, n, dtype=torch.bool), diagonal=1)
    for i in range(n_layer):
        h = rms(x)
        q, k, v = ((h @ W[f"layer{i}.attn_w{c}"].T).view(n, n_head, d).transpose(0, 1) for c in "qkv")  # (heads, n, d)
        scores = (q @ k.transpose(1, 2) / d**0.5).masked_fill(mask, float("-inf"))
        heads = (torch.softmax(scores, dim=-1) @ v).transpose(0, 1).reshape(n, n_head * d)
        x = x + heads @ W[f"layer{i}.attn_wo"].T
        x = x + torch.relu(rms(x) @ W[f"layer{i}.mlp_fc1"].T) @ W[f"layer{i}.mlp_fc2"].T
    return F.cross_entropy(x @ W["lm_head"].T, targets)


@pytest.mark.parametrize(
    "sizes, doc",
    [
        (dict(), "isabella"),
        (dict(n_embd=12, n_head=3, n_layer=2, block_size=6), "christopher"),  # truncated at 6 positions
    ],
)
def test_loss_and_every_gradient_match_pytorch_float64(sizes, doc):
    torch = import_torch()
    model = GPT(LETTERS.vocab_size, seed=2, tokenizer=LETTERS, **sizes)
    for _ in range(3):  # move away from the initial weights, so nothing is special
        fit_gpt(model, some_names(3, seed=9), steps=3, progress=False)
    tokens = LETTERS.frame(doc)
    model.zero_grad()
    loss = model.loss(tokens)
    loss.backward()
    W = {
        key: torch.tensor([[p.data for p in row] for row in rows], dtype=torch.float64, requires_grad=True)
        for key, rows in model.matrices().items()
    }
    expected = torch_loss(torch, W, tokens, model.n_head, model.n_layer, model.block_size)
    expected.backward()
    assert close(loss.data, expected.item(), rel=1e-9, abs_=1e-9)
    for key, rows in model.matrices().items():
        grads = W[key].grad.tolist()
        for ours, theirs in zip(rows, grads, strict=True):
            for p, g in zip(ours, theirs, strict=True):
                assert close(p.grad, g, rel=1e-9, abs_=1e-9), (key, p.grad, g)


def test_layers_match_pytorch():
    torch = import_torch()
    F = torch.nn.functional
    rng = random.Random(0)
    xs = [Value(rng.gauss(0, 1)) for _ in range(6)]
    linear = Linear(6, 3, bias=True, seed=1)
    for b in linear.bias:
        b.data = rng.gauss(0, 1)
    residual = [Value(rng.gauss(0, 1)) for _ in range(3)]
    norm = RMSNorm(3)
    out = softmax(norm(linear(xs, residual=residual)))
    loss = out[0] * 2.0 + out[2]
    loss.backward()

    x = torch.tensor([v.data for v in xs], dtype=torch.float64, requires_grad=True)
    w = torch.tensor([[p.data for p in row] for row in linear.weight], dtype=torch.float64, requires_grad=True)
    b = torch.tensor([p.data for p in linear.bias], dtype=torch.float64, requires_grad=True)
    r = torch.tensor([v.data for v in residual], dtype=torch.float64, requires_grad=True)
    t_out = torch.softmax(F.rms_norm(F.linear(x, w, b) + r, (3,), eps=1e-5), dim=0)
    t_loss = t_out[0] * 2.0 + t_out[2]
    t_loss.backward()
    assert close(loss.data, t_loss.item())
    pairs = [(xs, x.grad), ([p for row in linear.weight for p in row], w.grad.flatten()), (linear.bias, b.grad)]
    pairs.append((residual, r.grad))
    for values, grads in pairs:
        assert all(close(v.grad, g.item()) for v, g in zip(values, grads, strict=True))


def test_embedding_is_a_lookup_of_its_own_parameters():
    table = Embedding(5, 3, seed=0)
    row = table(4)
    assert all(a is b for a, b in zip(row, table.weight[4]))
    assert [name for name, _ in table.named_parameters()][:2] == ["weight.0.0", "weight.0.1"]


# ------------------------------------------------------------------ the KV cache


def test_kv_cached_sampling_gives_the_logits_of_a_full_forward_pass():
    model = GPT(LETTERS.vocab_size, n_layer=2, seed=6, tokenizer=LETTERS)
    fit_gpt(model, some_names(10), steps=10, progress=False)
    for seed in range(3):
        sample = model.sample(temperature=0.8, rng=random.Random(seed))
        inputs = [model.bos, *sample.tokens][: len(sample.logits)]
        full = model(inputs)  # every position at once, no cache
        assert len(full) == len(sample.logits) >= 2
        for cached, uncached in zip(sample.logits, full, strict=True):
            assert cached == [z.data for z in uncached]


def test_the_cache_grows_by_one_position_per_token_and_stops_at_block_size():
    model = GPT(LETTERS.vocab_size, block_size=3, seed=0)
    cache = model.new_cache()
    for k in range(3):
        model.forward(model.bos, cache)
        assert len(cache) == k + 1
    with pytest.raises(ValueError, match="cache is full"):
        model.forward(model.bos, cache)
    assert len(cache) == 3


def test_a_document_longer_than_block_size_is_truncated_as_microgpt_does():
    model = GPT(LETTERS.vocab_size, block_size=4, seed=0)
    long = LETTERS.frame("alexandra")  # 10 tokens, 9 positions
    assert model.loss(long).data == model.loss(long[:5]).data  # 4 positions predict long[1:5]
    with pytest.raises(ValueError, match="more than block_size 4"):
        model(long)


# ------------------------------------------------------------------ bad input


def test_a_token_id_out_of_range_names_it_and_changes_nothing():
    model = GPT(LETTERS.vocab_size, seed=0)
    before = snapshot(model)
    for bad in ([26, 0, 27, 26], [26, -1, 26], [26, 1.0, 26], [26, True, 26]):
        with pytest.raises(ValueError, match=r"tokens\[\d\] must be a token id in 0..26"):
            model.loss(bad)
    cache = model.new_cache()
    with pytest.raises(ValueError, match="token must be a token id"):
        model.forward(99, cache)
    assert len(cache) == 0
    with pytest.raises(ValueError, match="at least 2 token ids"):
        model.loss([26])
    with pytest.raises(ValueError, match="list of token ids"):
        model.loss("emma")
    assert snapshot(model) == before


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(n_embd=15, n_head=4), r"n_embd \(15\) must be divisible by n_head \(4\)"),
        (dict(n_head=0), "n_head must be a whole number >= 1"),
        (dict(block_size=2.5), "block_size must be a whole number"),
        (dict(n_layer=True), "n_layer must be a whole number"),
        (dict(vocab_size=1), "vocab_size must be a whole number >= 2"),
        (dict(tokenizer=CharTokenizer("ab")), "tokenizer has 3 tokens but vocab_size is 27"),
    ],
)
def test_bad_sizes_name_the_argument(kwargs, message):
    kwargs = {"vocab_size": 27, **kwargs}
    with pytest.raises(ValueError, match=message):
        GPT(**kwargs)


def test_tokenizer_round_trip_and_errors():
    tok = CharTokenizer.from_documents(["emma", "bob"])
    assert tok.chars == ["a", "b", "e", "m", "o"] and tok.bos == 5 and tok.vocab_size == 6
    assert tok.frame("mob") == [5, 3, 4, 1, 5]
    assert tok.decode(tok.frame("mob")) == "mob"
    with pytest.raises(ValueError, match="'z', which is not in the vocabulary 'abemo'"):
        tok.encode("zoe")
    with pytest.raises(ValueError, match="token ids must lie in 0..5"):
        tok.decode([7])
    with pytest.raises(ValueError, match="at least one character"):
        CharTokenizer("")


def test_sampling_arguments_are_checked():
    model = GPT(LETTERS.vocab_size, seed=0, tokenizer=LETTERS)
    for bad in (0, -1.0, float("nan"), float("inf"), "hot"):
        with pytest.raises(ValueError, match="temperature must be"):
            model.generate(2, temperature=bad)
    with pytest.raises(ValueError, match="n must be a whole number >= 0"):
        model.generate(-1)
    assert model.generate(3, seed=1) == model.generate(3, seed=1)
    assert all(isinstance(s, str) for s in model.generate(3, seed=1))
    assert all(isinstance(s, list) for s in GPT(27, seed=0).generate(2, seed=1))


def test_fit_checks_every_document_before_the_first_step():
    model = GPT(LETTERS.vocab_size, seed=0, tokenizer=LETTERS)
    before = snapshot(model)
    with pytest.raises(ValueError, match="'!', which is not in the vocabulary"):
        fit_gpt(model, ["emma", "zoe!"], steps=2, progress=False)
    with pytest.raises(ValueError, match="docs is empty"):
        fit_gpt(model, [], steps=2, progress=False)
    with pytest.raises(ValueError, match="steps must be a whole number >= 1"):
        fit_gpt(model, ["emma"], steps=0, progress=False)
    assert snapshot(model) == before


def test_fit_shows_no_progress_bar_when_stdout_is_not_a_terminal(capsys):
    model = GPT(LETTERS.vocab_size, seed=0, tokenizer=LETTERS)
    history = fit_gpt(model, ["emma", "bob"], steps=2)
    captured = capsys.readouterr()
    assert captured.err == "" and captured.out == ""
    assert len(history.loss) == 2 and history.lr == [0.01, 0.005]


# ------------------------------------------------------------------ data


def test_names_are_real_first_names_shipped_with_the_package():
    docs = names()
    assert len(docs) == 5163 == len(set(docs))
    assert {"emma", "olivia", "james", "mary"} <= set(docs)
    assert set("".join(docs)) == set("abcdefghijklmnopqrstuvwxyz")


def test_documents_reads_lines_and_names_every_problem(tmp_path):
    good = tmp_path / "good.txt"
    good.write_text("  ann \n\nbob\n", encoding="utf-8")
    assert documents(good) == ["ann", "bob"]
    cases = {
        "empty.txt": ("\n \n", "holds no documents"),
        "single.txt": ("aaa\naa\n", "single distinct character"),
    }
    for name, (text, message) in cases.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
        with pytest.raises(ValueError, match=message):
            documents(tmp_path / name)
    (tmp_path / "binary.txt").write_bytes(b"\xff\xfe\x00abc")
    with pytest.raises(ValueError, match="not UTF-8 text"):
        documents(tmp_path / "binary.txt")
    with pytest.raises(ValueError, match="cannot be read"):
        documents(tmp_path / "missing.txt")
    with pytest.raises(ValueError, match="cannot be read"):
        documents(tmp_path)  # a folder


def test_save_and_from_file_round_trip(tmp_path):
    model = GPT(LETTERS.vocab_size, n_embd=8, n_head=2, block_size=8, seed=3, tokenizer=LETTERS)
    model.save(tmp_path / "gpt.json")
    again = GPT.from_file(tmp_path / "gpt.json")
    assert again.config() == model.config() and again.tokenizer.chars == LETTERS.chars
    assert [p.data for p in again.parameters()] == [p.data for p in model.parameters()]
    (tmp_path / "bad.json").write_text("{", encoding="utf-8")
    with pytest.raises(ValueError, match="not a circuitgrad GPT file"):
        GPT.from_file(tmp_path / "bad.json")


# ------------------------------------------------------------------ seen from inside


def test_diagnose_finds_a_dead_relu_and_saturated_attention():
    model = GPT(LETTERS.vocab_size, seed=0, tokenizer=LETTERS)
    docs = some_names(8)
    healthy = diagnose_gpt(model, docs)
    assert healthy.dead == [] and max(max(h) for h in healthy.attention_saturation) < 0.5
    assert [g.module for g in healthy.gradients] == [
        "wte",
        "wpe",
        "lm_head",
        "layers.0.attn.wq",
        "layers.0.attn.wk",
        "layers.0.attn.wv",
        "layers.0.attn.wo",
        "layers.0.mlp.fc1",
        "layers.0.mlp.fc2",
    ]
    assert all(g.norm > 0 for g in healthy.gradients)

    for p in model.matrices()["layer0.mlp_fc1"][5]:
        p.data = 0.0  # unit 5 gets 0 at every position: relu'(0) = 0, it never learns
    for key in ("layer0.attn_wq", "layer0.attn_wk"):
        for row in model.matrices()[key]:
            for p in row:
                p.data *= 30.0  # huge attention logits: one position takes all the weight
    sick = diagnose_gpt(model, docs)
    assert (0, 5) in sick.dead
    assert all(s > 0.5 for s in sick.attention_saturation[0])
    text = str(sick)
    assert "1 of 64 MLP ReLUs dead" in text and "saturated softmax" in text
    assert "<table>" in sick._repr_html_()
    assert all(p.grad == 0.0 for p in model.matrices()["layer0.mlp_fc2"][0][5:6])  # nothing reaches it


def test_attention_maps_are_causal_rows_that_sum_to_one():
    model = GPT(LETTERS.vocab_size, n_layer=2, seed=0, tokenizer=LETTERS)
    maps = attention_maps(model, "emma")
    assert len(maps) == 2 and len(maps[0]) == 4
    for layer in maps:
        for matrix in layer:
            assert len(matrix) == 5  # BOS e m m a
            for t, row in enumerate(matrix):
                assert close(sum(row[: t + 1]), 1.0) and all(w != w for w in row[t + 1 :])


def test_one_positions_graph_draws_one_box_per_module_and_keeps_the_models_grads():
    pytest.importorskip("graphviz")
    model = GPT(LETTERS.vocab_size, seed=0, tokenizer=LETTERS)
    before = snapshot(model)
    root = position_graph(model, "emma")
    assert snapshot(model) == before
    source = draw_dot(root, collapse="neuron").source
    for box in ("embedding", "layers.0.attn.head.3", "cache.layers.0.attn.wk", "layers.0.mlp.relu", "lm_head"):
        assert f"<b>{box}</b>" in source
    assert source.count('<table border="0" cellborder="1"') < 30  # a box per module


def test_cache_is_per_layer():
    cache = KVCache(3)
    assert len(cache.keys) == 3 and len(cache) == 0


# ------------------------------------------------------------------ staged


def bits(x: float) -> str:
    return x.hex()  # tells 0.0 from -0.0 and every last bit


def graph_step(model: GPT, tokens: list[int]) -> tuple[float, list[float]]:
    model.zero_grad()
    loss = model.loss(tokens)
    loss.backward()
    return loss.data, [p.grad for p in model.parameters()]


def staged_step(model: GPT, staged: StagedLoss, tokens: list[int]) -> tuple[float, list[float]]:
    model.zero_grad()
    loss = staged(tokens)
    return loss, [p.grad for p in model.parameters()]


def test_a_staged_step_is_the_graphs_step_bit_for_bit():
    model = GPT(LETTERS.vocab_size, n_embd=8, n_head=2, n_layer=2, block_size=6, seed=8, tokenizer=LETTERS)
    fit_gpt(model, some_names(5, seed=3), steps=5, progress=False)  # away from the initial weights
    staged = StagedLoss(model)
    for doc in ("anna", "bob", "hannah", "bob", "x"):  # repeated letters; a length again; longer than
        tokens = LETTERS.frame(doc)  # block_size; one position
        loss, grads = graph_step(model, tokens)
        got, got_grads = staged_step(model, staged, tokens)
        assert bits(got) == bits(loss), doc
        assert list(map(bits, got_grads)) == list(map(bits, grads)), doc
    assert sorted(staged.staged) == [2, 4, 5, 6]  # one code per length, staged on first use


def test_documents_share_longer_code_with_the_positions_past_their_end_masked():
    model = GPT(LETTERS.vocab_size, n_embd=8, n_head=2, block_size=9, seed=4, tokenizer=LETTERS)
    staged = StagedLoss(model)
    staged.prepare(9)
    assert staged.plan([2, 3, 4, 5, 7, 9] * 50) == [9]  # staged already: sharing it costs no staging
    code = staged.staged[9]
    for doc in ("al", "eve", "anna", "hannah", "isabella", "christopher"):
        tokens = LETTERS.frame(doc)
        loss, grads = graph_step(model, tokens)
        got, got_grads = staged_step(model, staged, tokens)
        assert bits(got) == bits(loss) and list(map(bits, got_grads)) == list(map(bits, grads)), doc
    assert staged.staged == {9: code}


def test_staged_grads_accumulate_as_backward_does():
    model = GPT(LETTERS.vocab_size, n_embd=8, n_head=2, seed=5, tokenizer=LETTERS)
    staged = StagedLoss(model)
    tokens = LETTERS.frame("emma")
    model.zero_grad()
    model.loss(tokens).backward()
    model.loss(LETTERS.frame("noah")).backward()
    expected = [p.grad for p in model.parameters()]
    model.zero_grad()
    staged(tokens)
    staged(LETTERS.frame("noah"))
    assert [p.grad for p in model.parameters()] == expected


def test_staged_training_is_the_graphs_training_bit_for_bit():
    docs = ["emma", "liam", "ava", "noah", "mia", "zoe", "owen"]  # 4 and 5 positions
    dynamic = GPT(LETTERS.vocab_size, seed=9, tokenizer=LETTERS)
    twin = GPT(LETTERS.vocab_size, seed=9, tokenizer=LETTERS)
    run = StagedLoss(twin)
    run.prepare(5)  # so the plan uses code (20 steps alone would not pay for staging: see plan)
    graph = fit_gpt(dynamic, docs, steps=20, progress=False).loss
    seen = []
    staged = fit_gpt(twin, docs, steps=20, progress=False, staged=run, callback=lambda k, loss: seen.append(loss))
    assert run.route == {4: 5, 5: 5} and sorted(run.staged) == [5]
    assert list(map(bits, staged.loss)) == list(map(bits, graph))
    assert [p.data for p in twin.parameters()] == [p.data for p in dynamic.parameters()]
    assert all(v.is_leaf() for v in seen) and [v.data for v in seen] == staged.loss


def test_plan_stages_code_only_where_it_pays():
    model = GPT(LETTERS.vocab_size, seed=0)
    staged = StagedLoss(model)
    assert staged.plan([5, 6, 7]) == [] and staged.route == {5: 0, 6: 0, 7: 0}  # three steps: graphs
    assert staged.plan([7] * 600 + [5] * 300 + [9] * 100 + [16]) == [9]  # one code; the rarest length a graph
    assert staged.route == {5: 9, 7: 9, 9: 9, 16: 0}
    assert staged.plan([5] * 30000 + [7] * 30000) == [5, 7]  # a long run: a code per length
    assert staged.staged == {}  # plan stages nothing itself
    tokens = LETTERS.frame("al")  # 3 positions, not planned: staged on first use
    staged(tokens)
    assert sorted(staged.staged) == [3]
    graph = GPT(LETTERS.vocab_size, seed=0)
    graph.loss(tokens).backward()
    assert [p.grad for p in model.parameters()] == [p.grad for p in graph.parameters()]


def test_staged_code_depends_on_the_length_alone():
    model = GPT(LETTERS.vocab_size, n_embd=8, n_head=2, seed=0, tokenizer=LETTERS)
    staged = StagedLoss(model)
    code = staged.prepare(4)
    assert "logsumexp_of" in code.source and ".data" not in code.source
    for row in model.lm_head.weight:  # logits in the thousands: exp would overflow without logsumexp
        for p in row:
            p.data *= 3000.0
    for doc in ("eve", "bob", "zed"):
        tokens = LETTERS.frame(doc)
        loss, grads = graph_step(model, tokens)
        got, got_grads = staged_step(model, staged, tokens)
        assert loss > 100 and bits(got) == bits(loss) and got_grads == grads
    assert staged.staged == {4: code}  # never staged again


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda s: s.prepare(0), ValueError, r"prepare: m must be a whole number of positions in 1..16 .*, not 0"),
        (lambda s: s.prepare(17), ValueError, r"in 1..16 \(block_size\), not 17"),
        (lambda s: s.prepare(2.0), ValueError, "not 2.0"),
        (lambda s: s.plan([3, 0]), ValueError, "plan: each length must be a whole number of positions"),
        (lambda s: s.function(True), ValueError, "function: m must be"),
        (lambda s: s([26]), ValueError, "at least 2 token ids"),
        (lambda s: s([26, 27]), ValueError, r"tokens\[1\] must be a token id in 0..26"),
        (lambda s: StagedLoss("model"), TypeError, "StagedLoss: model must be a GPT, not str"),
        (lambda s: fit_gpt(s.model, ["ab"], steps=1, staged=1), TypeError, "staged must be True, False or a Staged"),
        (lambda s: fit_gpt(GPT(27, seed=0), [[26, 0, 26]], staged=s), ValueError, "a StagedLoss of another model"),
    ],
)
def test_staged_arguments_are_checked(call, error, message):
    model = GPT(LETTERS.vocab_size, seed=0, tokenizer=LETTERS)
    staged = StagedLoss(model)
    before = snapshot(model)
    with pytest.raises(error, match=message):
        call(staged)
    assert snapshot(model) == before and staged.staged == {} and staged.route == {}


def test_adam_is_the_per_parameter_loop_bit_for_bit():
    rng = random.Random(0)
    params = [Value(rng.gauss(0, 1)) for _ in range(50)]
    twins = [Value(p.data) for p in params]
    adam = Adam(params, lr=0.01, betas=(0.85, 0.99), eps=1e-8, weight_decay=0.1)
    m, v = [0.0] * 50, [0.0] * 50
    for t in range(1, 6):
        grads = [rng.gauss(0, 1) for _ in params]
        for p, g in zip(params, grads):
            p.grad = g
        adam.lr = 0.01 / t
        adam.step()
        step_size = adam.lr / (1 - 0.85**t)
        correction = math.sqrt(1 - 0.99**t)
        for i, (q, g) in enumerate(zip(twins, grads)):
            g = g + 0.1 * q.data
            m[i] += (g - m[i]) * (1 - 0.85)
            v[i] = v[i] * 0.99 + (1 - 0.99) * g * g
            q.data += -step_size * m[i] / (math.sqrt(v[i]) / correction + 1e-8)
        assert list(map(bits, (p.data for p in params))) == list(map(bits, (q.data for q in twins)))


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: Embedding(0, 3), "Embedding: num must be a whole number >= 1, not 0"),
        (lambda: Embedding(3, 2, std=-0.1), "Embedding: std must be a finite number >= 0"),
        (lambda: Embedding(3, 2)(3), r"index must be a whole number in 0..2, not 3"),
        (lambda: Linear(2, 0), "Linear: nout must be a whole number >= 1, not 0"),
        (lambda: Linear(2, 3)([Value(1.0)]), r"x must have 2 entries, not 1"),
        (lambda: Linear(2, 3)([1.0, 2.0], residual=[1.0]), r"residual must have 3 entries, not 1"),
        (lambda: RMSNorm(3, eps="small"), "RMSNorm: eps must be a finite number >= 0, not 'small'"),
        (lambda: RMSNorm(3)([Value(1.0)]), "x must have 3 entries, not 1"),
        (lambda: softmax([]), "softmax: logits must not be empty"),
    ],
)
def test_layer_arguments_are_checked(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_the_gradient_monitor_records_every_module_at_every_step():
    model = GPT(LETTERS.vocab_size, seed=0, tokenizer=LETTERS)
    monitor = ModuleGradientMonitor(model, lr=0.01)
    fit_gpt(model, ["emma", "bob", "eve"], steps=3, progress=False, callback=monitor)
    norms = monitor.norms
    assert list(norms)[:3] == ["wte", "wpe", "lm_head"] and all(len(v) == 3 for v in norms.values())
    twin = GPT(LETTERS.vocab_size, seed=0, tokenizer=LETTERS)
    twin.loss(LETTERS.frame("emma")).backward()  # the first step's gradient
    assert [norms[g.module][0] for g in module_gradients(twin)] == [g.norm for g in module_gradients(twin)]
    assert monitor.plot() is not None
