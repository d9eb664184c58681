"""GNU Radio soft frame synchronizer: LLR soft symbols in, turbo codeblock PDUs out."""

from __future__ import annotations

import math

import numpy as np
import pmt
from gnuradio import gr

from heradecode.ccsds.codeblock import CodeblockDecoder, esn0_from_soft
from heradecode.ccsds.mission import HERA
from heradecode.fec.asm import Codeblock, FrameSync
from heradecode.fec.randomizer import derandomize_llr
from heradecode.fec.turbo import DEFAULT_INV_RATE, DEFAULT_K
from heradecode.fec.turbocode import TurboCode
from heradecode.gr.tags import EOS, SYMBOL_TIME, meta_to_pmt
from heradecode.missions import load_mission

CODEBLOCKS = pmt.intern("codeblocks")


class asm_sync(gr.sync_block):  # noqa: N801 - GNU Radio block naming
    """Finds the turbo ASM (soft correlation, both polarities) and publishes each codeblock on ``codeblocks``.

    A PDU's vector holds the codeblock's float32 LLRs, sign-corrected and (``derandomize``)
    derandomized; its metadata: ``asm_index`` (symbol index), ``polarity``, ``sync_score``
    (sigmas), ``sync_reason``, ``esn0_db`` and, when the symbols carry ``heradecode_time`` tags,
    ``start_sample`` and ``unix_time``.  On ``heradecode_eos`` the synchronizer is flushed.

    ``confirm``: a marker too weak to be accepted on its correlation alone is decided by decoding its
    codeblock, as in the library's receiver (CRC and the mission's frame version and spacecraft ID; see
    :mod:`heradecode.fec.confirm`).  It needs the spacecraft ID: the ``mission``'s, or Hera's when no mission
    is given and the code is Hera's; otherwise weak markers are only kept in pairs or while tracking.
    """

    def __init__(self, k: int = DEFAULT_K, inv_rate: int = DEFAULT_INV_RATE, threshold: float = 6.0,
                 derandomize: bool = True, mission: str | None = None, confirm: bool = True) -> None:
        gr.sync_block.__init__(self, name="heradecode_asm_sync", in_sig=[np.float32], out_sig=None)
        # ``mission`` (a bundled name or a profile file): its turbo code instead of k and inv_rate
        profile = load_mission(mission) if mission else None
        self.code = TurboCode.from_mission(profile) if profile else TurboCode(int(k), int(inv_rate))
        if profile is None and self.code == TurboCode.from_mission(HERA):
            profile = HERA
        #: decides weak markers by decoding (None: no confirmation); its decoder is the library's default
        self.confirmer = CodeblockDecoder(self.code, profile, esn0=False).confirm() \
            if confirm and profile is not None and profile.scid is not None else None
        self.framesync = FrameSync(code=self.code, threshold=float(threshold), confirm=self.confirmer)
        self.derandomize = bool(derandomize)
        self.rate = self.code.info_bits_per_symbol
        self.message_port_register_out(CODEBLOCKS)
        self._time: tuple[int, int, float, float, float] | None = None  # symbol, sample, time, sps, samp_rate
        self.n_codeblocks = 0

    def work(self, input_items, output_items):
        """Feed the symbols to the synchronizer and publish the codeblocks completed."""
        x = input_items[0]
        n = len(x)
        first = self.nitems_read(0)
        eos = False
        for t in self.get_tags_in_range(0, first, first + n):
            if pmt.eq(t.key, SYMBOL_TIME):
                v = t.value
                self._time = (int(t.offset), pmt.to_uint64(pmt.tuple_ref(v, 0)), pmt.to_double(pmt.tuple_ref(v, 1)),
                              pmt.to_double(pmt.tuple_ref(v, 2)), pmt.to_double(pmt.tuple_ref(v, 3)))
            elif pmt.eq(t.key, EOS):
                eos = True
        blocks = self.framesync.feed(x[:n])  # FrameSync copies what it keeps
        if eos:
            blocks += self.framesync.flush()
        for b in blocks:
            self._publish(b)
        return n

    def _publish(self, b: Codeblock) -> None:
        soft = derandomize_llr(b.soft) if self.derandomize else b.soft
        esn0 = esn0_from_soft(b.soft)
        meta = {"asm_index": b.asm_index, "polarity": b.polarity, "sync_score": b.score, "sync_reason": b.reason,
                "esn0_db": esn0, "ebn0_db": esn0 - 10 * math.log10(self.rate)}
        if self._time is not None:
            sym0, sample0, time0, sps, fs = self._time
            sample = sample0 + (b.asm_index - sym0) * sps
            meta["start_sample"] = int(round(sample))
            meta["unix_time"] = time0 + (sample - sample0) / fs
        self.n_codeblocks += 1
        vec = pmt.init_f32vector(soft.size, np.ascontiguousarray(soft, dtype=np.float32).tolist())
        self.message_port_pub(CODEBLOCKS, pmt.cons(meta_to_pmt(meta), vec))
