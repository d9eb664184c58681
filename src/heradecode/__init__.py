"""heradecode: from raw IQ recordings of deep-space spacecraft (ESA Hera) to telemetry.

Layers, in the order data flows: ``io`` -> ``ephem`` -> ``dsp`` -> ``fec`` ->
``ccsds`` -> ``products``; ``sim``, ``cli``, ``gr`` and ``plot`` sit at the edges.
"""

from heradecode.errors import HeradecodeError, UserError

__version__ = "0.1.0"
__all__ = ["HeradecodeError", "UserError", "__version__"]
