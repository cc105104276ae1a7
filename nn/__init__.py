"""circuitgrad's neural-network layer on top of `engine`: data sets for now.

`nn` depends on `engine`, never the reverse.
"""

from . import data

__all__ = ["data"]
