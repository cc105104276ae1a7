"""Two ops defined with `engine.defop`, as a user would: softplus and silu (swish).

They are written exactly as the built-in ops of `engine.ops` are, so they work
in every part of the engine: backward, higher order, forward mode, staging
(Python and C), drawing and the diagnostics.
"""

from __future__ import annotations

from .op import defop

softplus = defop(
    "softplus",
    "(0.0 if x < 0.0 else x) + log1p(exp(-abs(x)))",  # log(1 + e**x), stable for any x
    "sigmoid(x)",
    doc="log(1 + e**x), stable for any x; d/dx = sigmoid(x). Made with engine.defop.",
)
silu = defop(
    "silu",
    "x * sigmoid(x)",
    "sigmoid(x) + x * sigmoid(x) * (1.0 - sigmoid(x))",
    doc="x * sigmoid(x) (also called swish); d/dx = s + x s (1 - s). Made with engine.defop.",
)
swish = silu
