"""circuitgrad's neural networks on top of `engine`: modules, losses, optimizers, data, training.

    >>> from nn import MLP
    >>> model = MLP(2, [16, 16, 1])     # micrograd's demo network

`nn` depends on `engine`, never the reverse.
"""

from . import data, diagnostics, gpt, losses, optim
from .diagnostics import GradientMonitor, Report, dead_relus, diagnose, gradient_stats, saturation
from .gpt import GPT, CharTokenizer, fit_gpt
from .gpt_inside import diagnose_gpt
from .layers import Embedding, Linear, RMSNorm, softmax
from .module import MLP, RNN, Layer, Module, Neuron
from .optim import SGD, Adam, LinearDecay, clip_grad_norm
from .train import History, accuracy, fit, plot_decision_boundary, plot_loss, predict

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
    "History",
    "Layer",
    "LinearDecay",
    "Module",
    "Neuron",
    "accuracy",
    "clip_grad_norm",
    "data",
    "fit",
    "losses",
    "optim",
    "plot_decision_boundary",
    "plot_loss",
    "predict",
]
