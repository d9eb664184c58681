"""GNU Radio 3.10 blocks built on heradecode's kernels (no second implementation of any stage).

Blocks (Python blocks; GRC definitions in ``heradecode/gr/grc``, made visible to GNU Radio
Companion by ``heradecode gr-install`` or ``GRC_BLOCKS_PATH``):

* :class:`sigmf_source`: a SigMF (or raw X/Y) recording as one complex stream per channel,
  tagged ``rx_time``/``rx_rate``/``rx_freq`` like a USRP source;
* :class:`doppler_source`: the phase-continuous correction phasor of a Doppler profile
  (multiply the signal by it with the stock Multiply block);
* :class:`biphase_demod`: decimation, carrier acquisition, X/Y combining, residual-carrier
  PLL and bi-phase-L matched filter with timing recovery: complex in, LLR soft symbols out;
* :class:`asm_sync`: soft 128-bit ASM search (both polarities) and derandomization:
  soft symbols in, codeblock PDUs (float32 LLRs) out;
* :class:`turbo_decoder`: CCSDS turbo decoding with CRC-16 check: codeblock PDUs in,
  frame PDUs (octets, FECF stripped) out;
* :class:`tm_sink`: frames in; writes frames, virtual channels, packets and a decode log
  like ``heradecode decode --out``.

Importing this package does not import GNU Radio; the blocks do, when first used.
"""

from __future__ import annotations

import importlib
from typing import Any

BLOCKS = ("sigmf_source", "doppler_source", "biphase_demod", "asm_sync", "turbo_decoder", "tm_sink")
__all__ = [*BLOCKS, "recording_info"]


def __getattr__(name: str) -> Any:
    if name in BLOCKS:
        return getattr(importlib.import_module(f"heradecode.gr.{name}_block"), name)
    if name == "recording_info":
        from heradecode.gr.tags import recording_info

        return recording_info
    raise AttributeError(f"module 'heradecode.gr' has no attribute {name!r}")
