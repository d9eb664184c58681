"""PCM/PM/bi-phase-L demodulator: residual carrier in, soft symbols (LLRs) out.

:class:`PcmPmDemodulator` chains, with state carried across chunks:

1. :class:`~heradecode.dsp.acquisition.CarrierAcquirer`: FFT search for the residual carrier
   on the first ``acq_time_s`` of signal (spans without a carrier are dropped and searched again);
2. :class:`~heradecode.dsp.polcombine.PolCombiner`: maximal-ratio combining of X and Y
   (two-channel input only);
3. :class:`~heradecode.dsp.pll.CarrierPll`: the residual-carrier PLL, started phase-aligned;
4. :class:`~heradecode.dsp.biphase.BiphaseDemodulator`: Manchester matched filter, symbol timing, LLRs;
5. the look-back: after the first acquisition and after every re-acquisition, the stretch demodulated
   before the loops settled is demodulated again, backwards in time, from the settled state.

Its input is complex baseband at ``samp_rate`` with the carrier within ``acq_window_hz`` of 0 Hz
(Doppler already removed, decimated to a few samples per symbol); the receiver and the
GNU Radio block :mod:`heradecode.gr.biphase_demod` both use it, after a wide search of the raw
band (:class:`~heradecode.dsp.acquisition.WideCarrierSearch`) has put the carrier within a few
hertz of 0 Hz: they then give it a narrow window (±5 kHz), so that a receiver spur further away
is not taken for the carrier, neither at the start nor when re-acquiring after a fade.

Look-back.  Symbols demodulated while the carrier loop is not locked (before the first lock,
and from a loss of lock, e.g. a drop-out, to the lock after re-acquisition) are garbage or
weak: the loop coasts on a stale frequency, or is still pulling in, while the signal may
already be back (re-acquisition searches every ``reacq_time_s`` on the last ``reacq_time_s``,
and the lock detector averages 0.1 s).  Near threshold that costs the codeblock that began
before lock.  So, from a loss of lock on (and from the start), the demodulator holds its
output symbols and keeps what they were demodulated from: the carrier-loop input (combined,
Doppler- and frequency-corrected) in a ring buffer of ``lookback_s`` (memory flat in the
recording length; nothing is written while locked).  Once the loop has been locked for
``max(settle_s, SETTLE_SYMBOLS / symbol rate)`` and the symbol timing tracks, the held
stretch is demodulated again, *backwards in time*, from the settled state at the newest
sample.  After the first acquisition the symbol timing loop started cold: it still learns the
clock offset over tens of thousands of symbols (0.1-0.3 dB lost there; a codeblock starting
0.5 s into a low-rate recording was lost 7 times in 20 at 0.2 dB Eb/N0 against 6 % of the
others), so an interim look-back runs at that point and the final one once the loops have been
locked for ``COLD_SETTLE_SYMBOLS`` (the symbols stay held meanwhile; a loss of lock before then
keeps the interim result):

* time reversal with conjugation, ``w[k] = conj(z[n - 1 - k])``, keeps the carrier at the
  same frequency ``f``, negates its drift rate and its phase ``theta``: a fresh PLL started
  at the live loop's frequency, negated rate, amplitude and negated phase of the newest
  sample is locked from its first sample on and follows the carrier back to where the
  signal returned (it does not coast within the stretch, nor search);
* the PM data ``exp(j m d(t))`` becomes ``exp(-j m d(n - 1 - k))`` and the time-reversed
  Manchester chips (+1, -1) become (-1, +1): the two sign flips cancel, so a fresh
  bi-phase-L demodulator on the backward loop's output gives LLRs of the forward sign.  Time
  reversal keeps the symbol period and the signal and noise levels, so the backward
  demodulator is the live one's state (:meth:`~heradecode.dsp.biphase.BiphaseDemodulator.time_reversed`:
  period, LLR scale, loop bandwidth, phase monitor mirrored) on the live symbol grid mapped
  backwards: it tracks from its first symbol on and carries the settled timing and LLR scale
  back to the signal's return.  A reversed symbol starting at ``tau`` of length ``T`` is the
  forward symbol starting at ``n - 1 - tau - T``.

The backward symbols replace the held ones so that the output stays one monotone sequence,
no symbol twice, none missing.  The backward stream is trusted only from where it has been on the live
symbol grid (within ``AGREE_TOLERANCE`` of a symbol) for ``AGREE_SYMBOLS`` in a row inside
the settled stretch: the newer symbols stay the live ones, the older held ones are replaced
down to the first held symbol; the junctions lie half a symbol before a live symbol (both
streams on the same grid, so each symbol is taken once).  When the backward stream never
matches the live grid, the held symbols are released as they were (``n_lookback_failures``).
Held symbols the ring no longer reaches are released as they are.  Output is delayed only
while unlocked and settling (by at most ``lookback_s`` plus a chunk); while locked, symbols
go out as soon as demodulated.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from heradecode.dsp.acquisition import CarrierAcquirer, CarrierAcquisition
from heradecode.dsp.biphase import BiphaseDemodulator
from heradecode.dsp.pll import TRACK_DTYPE, CarrierPll, carrier_phase_derotation
from heradecode.dsp.polcombine import PolCombiner

LOOKBACK_S = 0.75  #: carrier-loop input kept for the look-back (s): from a signal's return to a settled loop, and more
SETTLE_S = 0.15  #: the carrier loop must have been locked this long (s) before the look-back runs
AGREE_SYMBOLS = 2048  #: backward symbols on the live symbol grid in a row before the backward stream is trusted
AGREE_TOLERANCE = 0.1  #: ... within this fraction of a symbol of a live symbol
SETTLE_SYMBOLS = 24576  #: the settled stretch before a look-back spans this many symbols at least (and settle_s)
#: ... before the first look-back, when the symbol timing loop started cold and still learns the clock offset
COLD_SETTLE_SYMBOLS = 98304
LLR_CLIP = 64.0  #: LLRs beyond +-LLR_CLIP carry no more certainty (clipping also bounds the warm-up)
MIN_ESN0_DB = -12.0  #: below this running Es/N0 the demodulator's symbols are treated as erasures


@dataclass(frozen=True)
class DemodOutput:
    """Soft symbols and carrier track rows produced by one call."""

    llr: np.ndarray  #: float32 LLR per symbol (positive = bit 0), clipped; erasures are 0
    sample: np.ndarray  #: float64 position of each symbol's start (input samples since the stream start)
    esn0_db: np.ndarray  #: float32 running Es/N0 estimate at each symbol (dB)
    track: np.ndarray  #: carrier track rows (:data:`~heradecode.dsp.pll.TRACK_DTYPE`), ``sample`` in input samples

    def __len__(self) -> int:
        return int(self.llr.size)

    @staticmethod
    def empty() -> "DemodOutput":
        """No symbols, no track rows."""
        z = np.zeros(0, np.float32)
        return DemodOutput(z, np.zeros(0), z, np.zeros(0, TRACK_DTYPE))

    @staticmethod
    def concatenate(parts: list["DemodOutput"]) -> "DemodOutput":
        """Join outputs in stream order."""
        parts = [p for p in parts if len(p) or p.track.size]
        if not parts:
            return DemodOutput.empty()
        if len(parts) == 1:
            return parts[0]
        return DemodOutput(np.concatenate([p.llr for p in parts]), np.concatenate([p.sample for p in parts]),
                           np.concatenate([p.esn0_db for p in parts]), np.concatenate([p.track for p in parts]))


def gate_llr(llr: np.ndarray, esn0_db: np.ndarray, *, llr_clip: float = LLR_CLIP,
             min_esn0_db: float = MIN_ESN0_DB) -> np.ndarray:
    """The demodulator's LLRs as the decoder gets them: clipped at ±``llr_clip``, erased (0) where the running
    Es/N0 is at or below ``min_esn0_db``.

    Where the demodulator sees no data (e.g. a bare carrier) its LLR scale is meaningless and bursts of
    it would fake sync markers: those symbols become erasures.
    """
    if (isinstance(llr, np.ndarray) and isinstance(esn0_db, np.ndarray) and llr.dtype == np.float32
            and esn0_db.dtype == np.float32 and llr.ndim == 1 and llr.shape == esn0_db.shape):
        out = np.empty(llr.size, np.float32)  # one pass (what the demodulator gives: float32 vectors)
        _gate_kernel(llr, esn0_db, np.float32(llr_clip), np.float32(min_esn0_db), out)
        return out
    return np.where(np.asarray(esn0_db) > min_esn0_db, np.clip(llr, -llr_clip, llr_clip),
                    np.float32(0.0)).astype(np.float32, copy=False)


@njit(cache=True)
def _gate_kernel(llr, esn0_db, clip, min_db, out):  # pragma: no cover - numba
    """out = llr clipped at +-clip where esn0_db > min_db, else 0 (gate_llr's numpy expression, in one pass)."""
    for i in range(llr.shape[0]):
        v = llr[i]
        if v > clip:
            v = clip
        elif v < -clip:
            v = -clip
        out[i] = v if esn0_db[i] > min_db else np.float32(0.0)


class PcmPmDemodulator:
    """Residual-carrier bi-phase-L demodulator for one or two (X, Y) channels; feed chunks to :meth:`process`.

    ``lookback_s`` (s; 0: off; None: the larger of ``LOOKBACK_S`` and the settling time plus
    0.5 s) is the span the look-back can demodulate again after an acquisition (see the module
    notes), ``settle_s`` (s) how long the loop must be locked first.
    """

    def __init__(self, samp_rate: float, symbol_rate_baud: float, *, start_unix_s: float = 0.0,
                 acq_window_hz: float = 25e3, acq_time_s: float = 0.25, reacq_time_s: float = 0.1,
                 pll_bandwidth_hz: float = 15.0, pll_order: int = 3,
                 llr_clip: float = LLR_CLIP, min_esn0_db: float = MIN_ESN0_DB,
                 lookback_s: float | None = None, settle_s: float = SETTLE_S) -> None:
        self.samp_rate = float(samp_rate)
        self.symbol_rate_baud = float(symbol_rate_baud)
        self.start_unix_s = float(start_unix_s)
        self.acq_window_hz = float(acq_window_hz)
        self.reacq_time_s = float(reacq_time_s)
        self.pll_bandwidth_hz = float(pll_bandwidth_hz)
        self.pll_order = int(pll_order)
        self.llr_clip = float(llr_clip)
        self.min_esn0_db = float(min_esn0_db)
        self.acquirer = CarrierAcquirer(self.samp_rate, window_hz=self.acq_window_hz)
        self.acquisition: CarrierAcquisition | None = None
        self.acquisition_failures = 0
        self.combiner: PolCombiner | None = None
        self.pll: CarrierPll | None = None
        self.biphase = BiphaseDemodulator(self.samp_rate, self.symbol_rate_baud)
        self.n_samples = 0  #: input samples consumed (demodulated or dropped)
        self._acq_buffer: list[np.ndarray] = []
        self._acq_len = int(acq_time_s * self.samp_rate)
        self._pll_first = 0
        self._derotate = np.complex64(1.0)
        # look-back: ring of carrier-loop input (loop coordinates: sample k of the loop at k % len), held symbols
        self.settle_s = max(float(settle_s), 0.0)
        self._settle_need_s = max(self.settle_s, SETTLE_SYMBOLS / self.symbol_rate_baud)
        self._cold_settle_need_s = max(self.settle_s, COLD_SETTLE_SYMBOLS / self.symbol_rate_baud)
        if lookback_s is None:  # from a signal's return to the look-back: search, lock, settling, a chunk
            lookback_s = max(LOOKBACK_S, self._cold_settle_need_s + 0.5)
        self.lookback_s = max(float(lookback_s), 0.0)
        self._ring_len = int(round(self.lookback_s * self.samp_rate))
        self._ring: np.ndarray | None = None
        self._ring_n = 0  # loop input samples seen (loop coordinate of the next one)
        self._ring_from = 0  # loop coordinate of the oldest sample written since the ring last skipped input
        self._held: list[DemodOutput] = []
        self._holding = self._ring_len > 0  # from the start until the first lock has settled
        self._cold = True  # the symbol timing loop has not yet tracked COLD_SETTLE_SYMBOLS with the carrier locked
        self._interim_done = False  # an interim look-back has run since the current lock began
        self._locked_since: int | None = None  # loop coordinate where the current run of lock began
        self.n_lookbacks = 0  #: look-backs run (after the first lock and after every re-acquisition)
        self.n_lookback_symbols = 0  #: held symbols replaced by look-back symbols
        self.n_lookback_failures = 0  #: look-backs whose backward demodulator never matched the live symbol grid

    @property
    def esn0_db(self) -> float:
        """Running Es/N0 estimate of the symbols (dB)."""
        return self.biphase.esn0_db

    @property
    def locked(self) -> bool:
        """Whether the carrier PLL is locked."""
        return self.pll is not None and self.pll.locked

    def process(self, y: np.ndarray) -> DemodOutput:
        """Feed complex samples, shape (n,) or (channels, n); return the symbols now available."""
        y = np.asarray(y, dtype=np.complex64)
        if y.ndim == 1:
            y = y[None, :]
        if y.shape[-1] == 0:
            return DemodOutput.empty()
        if self.pll is None:
            self._acq_buffer.append(y)
            self.acquirer.feed(y)
            return self._try_acquire(final=False)
        return self._demodulate(y)

    def finish(self) -> DemodOutput:
        """End of stream: search the carrier in what is still buffered, demodulate it, release held symbols."""
        out = DemodOutput.empty()
        if self.pll is None and self._acq_buffer:
            out = self._try_acquire(final=True)
        if not self._held:
            return out
        # locked at the end, if not yet long enough: look back anyway (the junction is checked all the same)
        if self.pll is not None and self._settled(4 * AGREE_SYMBOLS / self.symbol_rate_baud):
            rest = self._look_back()
        else:
            rest = DemodOutput.concatenate(self._held)
        self._held = []
        return DemodOutput.concatenate([out, rest])

    def _try_acquire(self, final: bool) -> DemodOutput:
        buffered = sum(b.shape[-1] for b in self._acq_buffer)
        if buffered < self._acq_len and not final:
            return DemodOutput.empty()
        res = self.acquirer.result() if self.acquirer.n_spectra else None
        if res is None or not res.detected:
            # No carrier in this span: drop it (nothing to demodulate) and search the next one.
            self.acquisition_failures += 1
            self.n_samples += buffered
            self._acq_buffer = []
            self.acquirer.reset()
            return DemodOutput.empty()
        self.acquisition = res
        data = np.concatenate(self._acq_buffer, axis=1)
        self._acq_buffer = []
        if data.shape[0] == 2:
            self.combiner = PolCombiner(self.samp_rate, res.freq_hz, prior=res)
        self.pll = CarrierPll(self.samp_rate, res.freq_hz, bandwidth_hz=self.pll_bandwidth_hz,
                              order=self.pll_order, start_unix_s=self.start_unix_s + self.n_samples / self.samp_rate,
                              acq_window_hz=self.acq_window_hz, acq_time=self.reacq_time_s,
                              acq_interval=self.reacq_time_s,
                              amplitude=float(abs(res.channel_gain[0])) if data.shape[0] == 1 else None)
        self._pll_first = self.n_samples
        z0 = self.combiner.process(data) if self.combiner is not None else data[0]
        # Start the PLL phase-aligned: estimate the carrier phase on the first 20 ms (the Manchester data has
        # no power at the carrier) and rotate the stream by it, so the loop needs no pull-in.
        self._derotate = carrier_phase_derotation(z0, res.freq_hz, self.samp_rate)
        return self._demodulate(z0, combined=True)

    def _demodulate(self, y: np.ndarray, combined: bool = False) -> DemodOutput:
        if combined:
            z = y
        else:
            z = self.combiner.process(y) if self.combiner is not None else y[0]
        if self.combiner is not None:  # z is the combiner's own new array: derotated in place (no new memory)
            zin = np.multiply(z, self._derotate, out=z)
        else:
            zin = z * self._derotate
        c = self.pll.process(zin)
        track = self.pll.pop_track()
        lost = self._update_lock(track)
        # the ring only needs what the held symbols were demodulated from: written while holding, skipped while locked
        if self._ring_len and (self._holding or lost):
            self._ring_put(zin)
        else:
            self._ring_n += zin.size
            self._ring_from = self._ring_n
        if track.size:
            track = track.copy()
            track["sample"] += self._pll_first
            if self.combiner is not None and self.pll.locked:
                self.combiner.set_carrier_hz(self.pll.freq_hz)
        sym = self.biphase.process(c)
        self.n_samples += z.shape[-1]
        out = DemodOutput(self._gate(sym.llr, sym.esn0_db), sym.sample + self._pll_first, sym.esn0_db, track)
        return self._release(out, lost)

    def _gate(self, llr: np.ndarray, esn0_db: np.ndarray) -> np.ndarray:
        return gate_llr(llr, esn0_db, llr_clip=self.llr_clip, min_esn0_db=self.min_esn0_db)

    # ------------------------------------------------------------------ look-back
    def _update_lock(self, track: np.ndarray) -> bool:
        """Follow the loop's lock runs from its track rows (loop coordinates); True when lock was lost."""
        if track.size:
            lk = track["locked"]
            if lk.all():
                if self._locked_since is None:
                    self._locked_since = int(track["sample"][0])
                return False
            bad = int(np.flatnonzero(~lk)[-1])
            self._locked_since = int(track["sample"][bad + 1]) if bad + 1 < lk.size else None
            return True
        if not self.pll.locked:
            self._locked_since = None
            return True
        return False

    def _settled(self, need_s: float) -> bool:
        return (self._locked_since is not None and self.pll.locked and self.biphase.signal_present
                and self.pll.n_processed - self._locked_since >= need_s * self.samp_rate)

    def _release(self, out: DemodOutput, lost: bool) -> DemodOutput:
        """Pass symbols on while locked; hold them from a loss of lock until the look-back replaces them."""
        if not self._ring_len:
            return out
        if not self._holding:
            if not lost:
                return out
            self._holding = True
        self._held.append(DemodOutput(out.llr, out.sample, out.esn0_db, np.zeros(0, TRACK_DTYPE)))
        if lost:
            self._interim_done = False
        if not self._settled(self._settle_need_s):
            syms = self._release_unreachable()
        elif not self._cold or self._settled(self._cold_settle_need_s):
            syms = self._look_back()
            self._cold = False
        elif not self._interim_done:
            # the timing loop is still learning the clock offset: an interim look-back now (kept if the lock is
            # lost before the timing has settled), the final one once it has; the symbols stay held meanwhile
            self._held = [self._look_back()]
            self._holding = True
            self._interim_done = True
            syms = DemodOutput.empty()
        else:
            syms = self._release_unreachable()
        return DemodOutput(syms.llr, syms.sample, syms.esn0_db, out.track)

    def _ring_put(self, z: np.ndarray) -> None:
        if self._ring is None:
            self._ring = np.zeros(self._ring_len, np.complex64)
        L = self._ring_len
        i0 = self._ring_n
        self._ring_n += z.size
        if z.size > L:
            i0 += z.size - L
            z = z[z.size - L:]
        s = i0 % L
        first = min(L - s, z.size)
        self._ring[s:s + first] = z[:first]
        self._ring[:z.size - first] = z[first:]

    def _ring_get(self, a: int, b: int) -> np.ndarray:
        """Loop input samples [a, b) (loop coordinates, within the ring), in order."""
        L = self._ring_len
        s = a % L
        m = b - a
        if s + m <= L:
            return self._ring[s:s + m].copy()
        return np.concatenate((self._ring[s:], self._ring[:m - (L - s)]))

    def _ring_oldest(self) -> int:
        return max(self._ring_from, self._ring_n - self._ring_len)

    def _release_unreachable(self) -> DemodOutput:
        """Release the held symbols older than the ring reaches (the look-back cannot replace them)."""
        held = DemodOutput.concatenate(self._held)
        T = self.biphase.samples_per_symbol
        limit = self._pll_first + self._ring_oldest() + 2 * T + 32
        k = int(np.searchsorted(held.sample, limit))
        if k == 0:
            self._held = [held] if len(held) else []
            return DemodOutput.empty()
        rest = DemodOutput(held.llr[k:], held.sample[k:], held.esn0_db[k:], held.track)
        self._held = [rest] if len(rest) else []
        return DemodOutput(held.llr[:k], held.sample[:k], held.esn0_db[:k], np.zeros(0, TRACK_DTYPE))

    def _look_back(self) -> DemodOutput:
        """Demodulate the held stretch again, backwards from the settled state; returns the symbols to release."""
        held = DemodOutput.concatenate(self._held)
        self._held = []
        self._holding = False
        if len(held) < 2:
            return held
        fs = self.samp_rate
        T = self.biphase.samples_per_symbol
        base = self._pll_first
        n_end = self._ring_n  # loop coordinate just past the newest sample
        a = max(self._ring_oldest(), int(held.sample[0] - base - 2 * T) - 64)
        settled_from = base + max(self._locked_since if self._locked_since is not None else n_end, a)
        if (base + n_end - settled_from) < (AGREE_SYMBOLS + 64) * T:
            return held  # too short a settled stretch to check the backward demodulator against
        # the carrier loop backwards: time reversal with conjugation, starting at the live loop's state
        ph = (self.pll.phase_cycles - self.pll.freq_hz / fs) % 1.0
        w = np.conj(self._ring_get(a, n_end)[::-1])
        w *= np.complex64(np.exp(2j * np.pi * ph))
        amp = self.pll.amplitude
        pll = CarrierPll(fs, self.pll.freq_hz, bandwidth_hz=self.pll_bandwidth_hz, order=self.pll_order,
                         rate_hz_s=-self.pll.rate_hz_s, amplitude=amp if amp > 0 else None, reacquire=False,
                         hold_time=2.0 * (n_end - a) / fs)
        # the bi-phase-L demodulator backwards, likewise in the live one's settled state (timing grid, clock, LLR scale)
        bp = self.biphase.time_reversed(n_end)
        sym = bp.process(pll.process(w))
        self.n_lookbacks += 1
        if not len(sym):
            return held
        # reversed symbol [tau, tau + T) is the forward symbol starting at n - 1 - tau - T; newest first here
        pos_b = (base + n_end - 1) - (sym.sample + bp.samples_per_symbol)
        llr_b = self._gate(sym.llr, sym.esn0_db)
        # The backward demodulator starts cold on the settled signal: the junction is the newest symbol after which
        # (newer) both were on the same symbol grid for AGREE_SYMBOLS in a row; older, the backward one is used.
        in_settled = int(np.searchsorted(-pos_b, -settled_from))  # backward symbols newer than settled_from
        pb = pos_b[:in_settled]
        near = np.clip(np.searchsorted(held.sample, pb), 1, len(held) - 1)
        near -= np.abs(pb - held.sample[near - 1]) < np.abs(pb - held.sample[near])  # the nearest live symbol
        bad = np.concatenate(([True], np.abs(pb - held.sample[near]) > AGREE_TOLERANCE * T))  # sentinel first
        idx = np.arange(bad.size)
        since = idx - np.maximum.accumulate(np.where(bad, idx, 0))  # agreeing symbols in a row up to each one
        q = np.flatnonzero(since >= AGREE_SYMBOLS)
        q0 = int(q[0]) - 1 if q.size else -1  # newest-first index of the junction symbol (AGREE_SYMBOLS newer agreed)
        # ... and the same sign there (the backward loop starts on the live loop's phase: a check, not a choice)
        if q0 < 0 or float(np.dot(llr_b[q0 - AGREE_SYMBOLS + 1:q0 + 1],
                                  held.llr[near[q0 - AGREE_SYMBOLS + 1:q0 + 1]])) <= 0.0:
            self.n_lookback_failures += 1
            return held  # the backward demodulator never settled on the live grid: keep the live symbols
        j = int(np.searchsorted(held.sample, pos_b[q0] - 0.5 * T))  # the live symbol at the junction
        j_new = held.sample[j] - 0.5 * T
        pos_b, llr_b, es_b = pos_b[::-1], llr_b[::-1], sym.esn0_db[::-1]
        j_old = max(held.sample[0], pos_b[0]) - 0.5 * T
        k_old = int(np.searchsorted(held.sample, j_old))
        sel = slice(int(np.searchsorted(pos_b, j_old)), int(np.searchsorted(pos_b, j_new)))
        self.n_lookback_symbols += j - k_old
        return DemodOutput(np.concatenate((held.llr[:k_old], llr_b[sel], held.llr[j:])),
                           np.concatenate((held.sample[:k_old], pos_b[sel], held.sample[j:])),
                           np.concatenate((held.esn0_db[:k_old], es_b[sel], held.esn0_db[j:])),
                           np.zeros(0, TRACK_DTYPE))
