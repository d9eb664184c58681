"""GNU Radio CCSDS turbo decoder: codeblock PDUs (LLRs) in, CRC-checked frame PDUs out."""

from __future__ import annotations

import numpy as np
import pmt
from gnuradio import gr

from heradecode.ccsds.codeblock import CodeblockDecoder
from heradecode.fec.turbo import DEFAULT_INV_RATE, DEFAULT_K
from heradecode.fec.turbocode import TurboCode
from heradecode.gr.tags import count_rejected, meta_to_pmt, pdu_vector
from heradecode.missions import load_mission

IN = pmt.intern("in")
OUT = pmt.intern("out")
FAILED = pmt.intern("failed")


class turbo_decoder(gr.basic_block):  # noqa: N801 - GNU Radio block naming
    """Decodes each codeblock PDU ((k+4)*inv_rate float32 LLRs, positive = bit 0, derandomized).

    Frames whose CRC-16 checks go out on ``out`` as octets (FECF stripped unless ``keep_fecf``)
    with the input metadata plus ``iterations`` and ``crc_ok``; codeblocks that fail go out on
    ``failed`` as their metadata and an empty vector.  Messages that are not codeblock PDUs of the
    right length are counted (``n_rejected``) and logged, never fatal.
    """

    def __init__(self, k: int = DEFAULT_K, inv_rate: int = DEFAULT_INV_RATE, max_iterations: int = 10,
                 algorithm: str = "linear-log-map", keep_fecf: bool = False, mission: str | None = None) -> None:
        gr.basic_block.__init__(self, name="heradecode_turbo_decoder", in_sig=None, out_sig=None)
        # ``mission`` (a bundled name or a profile file): its turbo code instead of k and inv_rate
        code = TurboCode.from_mission(load_mission(mission)) if mission else TurboCode(int(k), int(inv_rate))
        # the soft codeblocks come derandomized (asm_sync); Es/N0 is in their metadata already
        self.codeblocks = CodeblockDecoder(code, algorithm=algorithm, max_iterations=int(max_iterations),
                                           derandomize=False, esn0=False)
        self.decoder = self.codeblocks.decoder
        self.codeblock_len = code.codeblock_length
        self.keep_fecf = bool(keep_fecf)
        self.message_port_register_in(IN)
        self.message_port_register_out(OUT)
        self.message_port_register_out(FAILED)
        self.set_msg_handler(IN, self.handle)
        self.n_ok = 0
        self.n_failed = 0
        self.n_rejected = 0

    def handle(self, msg) -> None:
        """Decode one codeblock PDU."""
        parts = pdu_vector(msg, "f32", self.codeblock_len)
        if parts is None:
            count_rejected(self, f"a PDU of {self.codeblock_len} float32 LLRs")
            return
        meta, vec = parts
        d = self.codeblocks.decode(np.asarray(pmt.f32vector_elements(vec), dtype=np.float32))
        meta.update(iterations=d.iterations, crc_ok=d.crc_ok)
        if d.crc_ok:
            self.n_ok += 1
            frame = d.result.frame(strip_fecf=False) if self.keep_fecf else d.frame
            self.message_port_pub(OUT, pmt.cons(meta_to_pmt(meta), pmt.init_u8vector(len(frame), list(frame))))
        else:
            self.n_failed += 1
            self.message_port_pub(FAILED, pmt.cons(meta_to_pmt(meta), pmt.init_u8vector(0, [])))
