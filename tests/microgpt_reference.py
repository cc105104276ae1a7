"""microgpt's algorithm, written from its published description, as an oracle and a baseline.

Karpathy's microgpt (2026) trains a character-level GPT with a tiny scalar
autograd engine: every +, *, **, log, exp and relu is a node, and every matrix
product, sum and softmax is built from them. This file writes that algorithm
out again in its own plain style (a tiny `MicroValue` class, list-of-rows
matrices, the model one position at a time with a key/value cache, Adam with
bias correction), so that

* the tests can check circuitgrad's `nn.gpt.GPT` against it step by step, and
* the benchmark can time microgpt's own engine, and the same code with
  circuitgrad's `Value` dropped in (`MicroGPT(Value=engine.Value)`).

Nothing here is fused or clever on purpose: it is the baseline.
"""

from __future__ import annotations

import math
import random


class MicroValue:
    """A scalar node: its data, its grad, its children and the local gradient to each."""

    __slots__ = ("data", "grad", "_children", "_local_grads")

    def __init__(self, data, children=(), local_grads=()):
        self.data = data
        self.grad = 0
        self._children = children
        self._local_grads = local_grads

    def __add__(self, other):
        other = other if isinstance(other, MicroValue) else MicroValue(other)
        return MicroValue(self.data + other.data, (self, other), (1, 1))

    def __mul__(self, other):
        other = other if isinstance(other, MicroValue) else MicroValue(other)
        return MicroValue(self.data * other.data, (self, other), (other.data, self.data))

    def __pow__(self, exponent):
        return MicroValue(self.data**exponent, (self,), (exponent * self.data ** (exponent - 1),))

    def log(self):
        return MicroValue(math.log(self.data), (self,), (1 / self.data,))

    def exp(self):
        out = math.exp(self.data)
        return MicroValue(out, (self,), (out,))

    def relu(self):
        return MicroValue(max(0, self.data), (self,), (float(self.data > 0),))

    def __neg__(self):
        return self * -1

    def __radd__(self, other):
        return self + other

    def __sub__(self, other):
        return self + (-other)

    def __rsub__(self, other):
        return other + (-self)

    def __rmul__(self, other):
        return self * other

    def __truediv__(self, other):
        return self * other**-1

    def __rtruediv__(self, other):
        return other * self**-1

    def backward(self):
        order, seen = [], set()

        def visit(node):  # recursive, as in micrograd
            if node not in seen:
                seen.add(node)
                for child in node._children:
                    visit(child)
                order.append(node)

        visit(self)
        self.grad = 1
        for node in reversed(order):
            for child, local in zip(node._children, node._local_grads):
                child.grad += local * node.grad


class MicroGPT:
    """microgpt's model, loss, Adam step and sampling, on any Value class with its operators.

    `matrices` holds the weights in microgpt's layout (``wte``, ``wpe``,
    ``lm_head``, ``layer{i}.attn_wq`` ...), each a list of rows of Values.
    """

    def __init__(self, vocab_size, n_embd=16, n_head=4, n_layer=1, block_size=16, Value=MicroValue, rng=random):
        self.Value = Value
        self.vocab_size, self.n_embd, self.n_head, self.n_layer = vocab_size, n_embd, n_head, n_layer
        self.block_size, self.head_dim, self.bos = block_size, n_embd // n_head, vocab_size - 1

        def matrix(rows, cols, std=0.08):
            return [[Value(rng.gauss(0, std)) for _ in range(cols)] for _ in range(rows)]

        self.matrices = {
            "wte": matrix(vocab_size, n_embd),
            "wpe": matrix(block_size, n_embd),
            "lm_head": matrix(vocab_size, n_embd),
        }
        for i in range(n_layer):
            self.matrices[f"layer{i}.attn_wq"] = matrix(n_embd, n_embd)
            self.matrices[f"layer{i}.attn_wk"] = matrix(n_embd, n_embd)
            self.matrices[f"layer{i}.attn_wv"] = matrix(n_embd, n_embd)
            self.matrices[f"layer{i}.attn_wo"] = matrix(n_embd, n_embd)
            self.matrices[f"layer{i}.mlp_fc1"] = matrix(4 * n_embd, n_embd)
            self.matrices[f"layer{i}.mlp_fc2"] = matrix(n_embd, 4 * n_embd)
        self.params = [p for rows in self.matrices.values() for row in rows for p in row]
        self.m = [0.0] * len(self.params)
        self.v = [0.0] * len(self.params)
        self.steps_done = 0

    # the model, one position at a time

    @staticmethod
    def linear(x, rows):
        return [sum(w * xi for w, xi in zip(row, x)) for row in rows]

    @staticmethod
    def softmax(logits):
        top = max(z.data for z in logits)
        exps = [(z - top).exp() for z in logits]
        total = sum(exps)
        return [e / total for e in exps]

    @staticmethod
    def rmsnorm(x):
        mean_square = sum(xi * xi for xi in x) / len(x)
        scale = (mean_square + 1e-5) ** -0.5
        return [xi * scale for xi in x]

    def gpt(self, token, pos, keys, values):
        W, d = self.matrices, self.head_dim
        x = [t + p for t, p in zip(W["wte"][token], W["wpe"][pos])]
        x = self.rmsnorm(x)
        for i in range(self.n_layer):
            residual = x
            x = self.rmsnorm(x)
            q = self.linear(x, W[f"layer{i}.attn_wq"])
            keys[i].append(self.linear(x, W[f"layer{i}.attn_wk"]))
            values[i].append(self.linear(x, W[f"layer{i}.attn_wv"]))
            heads = []
            for h in range(self.n_head):
                lo = h * d
                q_h = q[lo : lo + d]
                k_h = [k[lo : lo + d] for k in keys[i]]
                v_h = [v[lo : lo + d] for v in values[i]]
                scores = [sum(q_h[j] * k[j] for j in range(d)) / d**0.5 for k in k_h]
                weights = self.softmax(scores)
                heads.extend(sum(weights[t] * v_h[t][j] for t in range(len(v_h))) for j in range(d))
            x = self.linear(heads, W[f"layer{i}.attn_wo"])
            x = [a + b for a, b in zip(x, residual)]
            residual = x
            x = self.rmsnorm(x)
            x = [h.relu() for h in self.linear(x, W[f"layer{i}.mlp_fc1"])]
            x = self.linear(x, W[f"layer{i}.mlp_fc2"])
            x = [a + b for a, b in zip(x, residual)]
        return self.linear(x, W["lm_head"])

    def loss(self, tokens):
        n = min(self.block_size, len(tokens) - 1)
        keys, values = [[] for _ in range(self.n_layer)], [[] for _ in range(self.n_layer)]
        losses = []
        for pos in range(n):
            probs = self.softmax(self.gpt(tokens[pos], pos, keys, values))
            losses.append(-probs[tokens[pos + 1]].log())
        return (1 / n) * sum(losses)

    def train_step(self, tokens, num_steps, lr=0.01, beta1=0.85, beta2=0.99, eps=1e-8):
        """One step of microgpt's loop: loss, backward, Adam with linear decay; returns the loss."""
        loss = self.loss(tokens)
        loss.backward()
        step = self.steps_done
        lr_t = lr * (1 - step / num_steps)
        for i, p in enumerate(self.params):
            self.m[i] = beta1 * self.m[i] + (1 - beta1) * p.grad
            self.v[i] = beta2 * self.v[i] + (1 - beta2) * p.grad**2
            m_hat = self.m[i] / (1 - beta1 ** (step + 1))
            v_hat = self.v[i] / (1 - beta2 ** (step + 1))
            p.data -= lr_t * m_hat / (v_hat**0.5 + eps)
            p.grad = 0
        self.steps_done += 1
        return loss.data

    def sample(self, temperature=0.5, rng=random):
        keys, values = [[] for _ in range(self.n_layer)], [[] for _ in range(self.n_layer)]
        token, out = self.bos, []
        for pos in range(self.block_size):
            logits = self.gpt(token, pos, keys, values)
            probs = self.softmax([z / temperature for z in logits])
            token = rng.choices(range(self.vocab_size), weights=[p.data for p in probs])[0]
            if token == self.bos:
                break
            out.append(token)
        return out
