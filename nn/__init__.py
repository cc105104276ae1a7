"""circuitgrad's neural networks on top of `engine`: modules, losses, optimizers, data, training.

    >>> from nn import MLP
    >>> model = MLP(2, [16, 16, 1])     # micrograd's demo network

`nn` depends on `engine`, never the reverse. Every public function and
constructor checks its arguments on entry and names the one that is wrong.
"""

__version__ = "0.1.0"  # the distribution's version (pyproject.toml), for `circuitgrad --version` uninstalled

from . import data, diagnostics, gpt, losses, optim
from .diagnostics import GradientMonitor, Report, dead_relus, diagnose, gradient_stats, saturation
from .gpt import GPT, CharTokenizer, fit_gpt
from .gpt_inside import diagnose_gpt
from .layers import Embedding, Linear, RMSNorm, softmax
from .module import MLP, RNN, Layer, Module, Neuron
from .optim import SGD, Adam, LinearDecay, clip_grad_norm
from .train import (
    BoundaryRecorder,
    History,
    accuracy,
    animate_training,
    fit,
    plot_decision_boundary,
    plot_loss,
    predict,
)

__all__ = [
    "GPT",
    "CharTokenizer",
    "Embedding",
    "Linear",
    "RMSNorm",
    "diagnose_gpt",
    "fit_gpt",
    "gpt",
    "softmax",
    "GradientMonitor",
    "Report",
    "dead_relus",
    "diagnose",
    "diagnostics",
    "gradient_stats",
    "saturation",
    "MLP",
    "RNN",
    "SGD",
    "Adam",
    "BoundaryRecorder",
    "History",
    "Layer",
    "LinearDecay",
    "Module",
    "Neuron",
    "accuracy",
    "animate_training",
    "clip_grad_norm",
    "data",
    "fit",
    "losses",
    "optim",
    "plot_decision_boundary",
    "plot_loss",
    "predict",
]
