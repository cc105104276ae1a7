"""The optional extras: plots, diagrams and the progress bar are imported only when used.

``pip install circuitgrad`` gives the engine and the models (standard library only);
``circuitgrad[plots]`` adds matplotlib, ``[draw]`` graphviz, ``[progress]`` tqdm, and
``[demo]`` all three. A function that needs a missing one says which extra to install.
"""

from __future__ import annotations

import importlib
from types import ModuleType

EXTRAS = {"matplotlib": "plots", "graphviz": "draw", "tqdm": "progress"}


def require(module: str, why: str, hint: str = "") -> ModuleType:
    """Import `module` (a dotted name) or raise an ImportError naming the extra that installs it.

    `why` says who needs it, e.g. ``require("matplotlib.pyplot", "plots need matplotlib")``
    raises ``ImportError: plots need matplotlib: pip install 'circuitgrad[plots]'``;
    `hint`, if given, follows (another way out).
    """
    package = module.partition(".")[0]
    try:
        importlib.import_module(package)  # a missing package fails here, even if a submodule is cached
        return importlib.import_module(module)
    except ImportError as error:
        message = f"{why}: pip install 'circuitgrad[{EXTRAS[package]}]'"
        raise ImportError(f"{message} {hint}" if hint else message) from error
