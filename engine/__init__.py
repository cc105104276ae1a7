"""circuitgrad's engine: scalar Values that record their graph, and backward.

    >>> from engine import Value
    >>> x, y, z = Value(-2.0), Value(5.0), Value(-4.0)
    >>> f = (x + y) * z
    >>> f.backward()
    >>> x.grad, y.grad, z.grad
    (-4.0, -4.0, 3.0)

Every op is one entry of the op table, `engine.ops`; `engine.defop` adds one.
Imports only the standard library (graphviz is imported when you draw).
"""

from . import generic, ops
from .anomaly import AnomalyError, detect_anomaly
from .blocked import Block, blocked
from .check import GradcheckError, analytic_grad, gradcheck, gradgradcheck, numerical_grad, rel_error
from .custom import silu, softplus, swish
from .draw import DotNotFound, draw_dot
from .functional import grad, gradients, hessian, hvp, jacobian, jvp, value_and_grad
from .grad_mode import enable_grad, is_recording, no_grad
from .memory import gc_paused
from .op import Op, defop
from .scope import current_scope, scope
from .stage import BoundBatch, Staged, StageError, stage
from .value import Value, topological_order

maximum = ops.maximum
minimum = ops.minimum
logsumexp = ops.logsumexp

__all__ = [
    "AnomalyError",
    "Block",
    "BoundBatch",
    "DotNotFound",
    "GradcheckError",
    "Op",
    "StageError",
    "Staged",
    "Value",
    "analytic_grad",
    "blocked",
    "current_scope",
    "defop",
    "detect_anomaly",
    "draw_dot",
    "enable_grad",
    "gc_paused",
    "generic",
    "grad",
    "gradcheck",
    "gradgradcheck",
    "gradients",
    "hessian",
    "hvp",
    "is_recording",
    "jacobian",
    "jvp",
    "logsumexp",
    "maximum",
    "minimum",
    "no_grad",
    "numerical_grad",
    "ops",
    "rel_error",
    "scope",
    "silu",
    "softplus",
    "stage",
    "swish",
    "topological_order",
    "value_and_grad",
]
