"""GNU Radio CCSDS turbo decoder: codeblock PDUs (LLRs) in, CRC-checked frame PDUs out."""

from __future__ import annotations

import numpy as np
import pmt
from gnuradio import gr

from heradecode.fec.turbo import TurboDecoder
from heradecode.gr.tags import count_rejected, meta_to_pmt, pdu_vector

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

    def __init__(self, k: int = 8920, inv_rate: int = 4, max_iterations: int = 10, algorithm: str = "linear-log-map",
                 keep_fecf: bool = False) -> None:
        gr.basic_block.__init__(self, name="heradecode_turbo_decoder", in_sig=None, out_sig=None)
        self.decoder = TurboDecoder(int(k), int(inv_rate), algorithm=algorithm, max_iterations=int(max_iterations))
        self.codeblock_len = (int(k) + 4) * int(inv_rate)
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
        llr = np.asarray(pmt.f32vector_elements(vec), dtype=np.float32)
        llr[~np.isfinite(llr)] = 0.0
        r = self.decoder.decode(llr)
        meta.update(iterations=int(r.iterations), crc_ok=bool(r.crc_ok))
        if r.crc_ok:
            self.n_ok += 1
            frame = r.frame(strip_fecf=not self.keep_fecf)
            self.message_port_pub(OUT, pmt.cons(meta_to_pmt(meta), pmt.init_u8vector(len(frame), list(frame))))
        else:
            self.n_failed += 1
            self.message_port_pub(FAILED, pmt.cons(meta_to_pmt(meta), pmt.init_u8vector(0, [])))
