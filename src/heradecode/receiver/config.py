"""The receiver's settings (:class:`ReceiverConfig`), the symbol rate and carrier offset they imply, and the
decode.json header of a decode made with them."""

from __future__ import annotations

from dataclasses import dataclass


from heradecode import __version__
from heradecode.ccsds.mission import HERA, MissionProfile
from heradecode.dsp.decimate import MAX_RATE_OUT
from heradecode.dsp.demod import LOOKBACK_S
from heradecode.errors import UserError
from heradecode.ephem.doppler import DopplerMode
from heradecode.fec.turbo import Algorithm, DEFAULT_ALGORITHM, DEFAULT_INV_RATE, DEFAULT_K
from heradecode.fec.turbocode import TurboCode
from heradecode.io.recording import Recording
from heradecode.missions import unsupported_link, usable_modes
from heradecode.products.decodelog import DECODE_COUNTERS, DecodeHeader


#: Hera's symbol rates (baud) per mode, from its mission profile; other missions: ReceiverConfig.from_mission.
SYMBOL_RATES: dict[str, float] = {m.name: m.symbol_rate_baud for m in HERA.link.modes}


@dataclass(frozen=True)
class ReceiverConfig:
    """Receiver settings; every field has a sensible default for Hera (other missions: :meth:`from_mission`)."""

    mode: str = "high"  #: a mode of ``modes`` (see :func:`detect_mode` for auto)
    symbol_rate_baud: float | None = None  #: overrides the mode's rate
    carrier_offset_hz: float | None = None  #: carrier offset (Hz) from the centre after Doppler removal
    #: nominal downlink frequency (Hz); None: not known, the carrier is expected at the centre frequency
    downlink_freq_hz: float | None = HERA.downlink_freq_hz
    #: wide carrier search (± Hz) around the prediction; None: ±100 kHz with a Doppler profile or a carrier
    #: offset, the whole recorded band without (blind)
    acq_window_hz: float | None = None
    track_window_hz: float = 5e3  #: demodulator's carrier search (± Hz) around the carrier found, and after fades
    search_span_s: float = 1.5  #: stretch the wide carrier search spans (s; every 3rd 50 ms segment is analysed)
    max_rate_hz_s: float = 60.0  #: drift rates the wide search tries (± Hz/s around the predicted rate)
    acq_time_s: float = 0.25  #: time averaged by the first carrier search (s)
    reacq_time_s: float = 0.1  #: after loss of lock: search this often, on this much signal (s)
    #: demodulator's look-back (s of signal demodulated again once the loops settle after an acquisition);
    #: None: the larger of 0.75 s and two codeblock periods; 0: off
    lookback_s: float | None = None
    pll_bandwidth_hz: float = 15.0  #: PLL noise bandwidth (Hz)
    pll_order: int = 3  #: PLL order (2 or 3)
    chunk_s: float = 0.2  #: input seconds per processing chunk (0.1 s cost 8 % more CPU in per-chunk overhead)
    #: cap on the decimated sample rate (samples/s): the stages after the decimator cost per sample; None: no cap,
    #: the decimator keeps the band its loss budget asks for (at 322.56 kbaud from 6.144 Msps: no decimation,
    #: FER 1e-2 0.14 dB lower for twice the CPU; benchmarks/chain_fer.py)
    max_rate_out_sps: float | None = MAX_RATE_OUT
    k: int = DEFAULT_K  #: turbo information block length (bits), Hera's from its profile
    inv_rate: int = DEFAULT_INV_RATE  #: turbo code inverse rate, Hera's from its profile
    max_iterations: int = 10  #: turbo iterations at most
    algorithm: Algorithm = DEFAULT_ALGORITHM  #: turbo SISO algorithm
    decoder_threads: int | None = 1  #: threads for batch turbo decoding (None: all cores)
    #: the mission's modes the receiver can take: (name, symbol rate in baud); auto mode tries each
    modes: tuple[tuple[str, float], ...] = tuple(SYMBOL_RATES.items())

    @property
    def code(self) -> TurboCode:
        """The turbo code (k, inv_rate) of the link."""
        return TurboCode(self.k, self.inv_rate)

    @classmethod
    def from_mission(cls, profile: MissionProfile, mode: str = "auto", **overrides) -> "ReceiverConfig":
        """Settings for a mission's link (``mode``: one of its modes, or 'auto'); UserError for a link not supported.

        The symbol rates, turbo code and downlink frequency come from the profile;
        ``overrides`` set any other field.  With 'auto' the config holds every
        supported mode (:func:`detect_mode` picks one) and ``mode`` is the first.
        """
        why = unsupported_link(profile, None if mode == "auto" else mode)
        if why:
            raise UserError(why)
        usable = tuple((m.name, m.symbol_rate_baud) for m in usable_modes(profile))
        values = {"mode": usable[0][0] if mode == "auto" else mode, "modes": usable,
                  "k": profile.coding.turbo_k, "inv_rate": profile.coding.turbo_inv_rate,
                  "downlink_freq_hz": profile.downlink_freq_hz, **overrides}
        return cls(**values)

    @property
    def lookback_seconds(self) -> float:
        """The demodulator's look-back span (s): ``lookback_s``, by default max(0.75 s, two codeblock periods)."""
        if self.lookback_s is not None:
            return max(float(self.lookback_s), 0.0)
        period_s = ((self.k + 4) * self.inv_rate + 32 * self.inv_rate) / self.rate_baud
        return max(LOOKBACK_S, 2.0 * period_s)

    @property
    def rate_baud(self) -> float:
        """The symbol rate used (baud)."""
        if self.symbol_rate_baud is not None:
            return float(self.symbol_rate_baud)
        rates = dict(self.modes)
        if self.mode not in rates:
            raise UserError(f"mode must be one of {', '.join(rates)} (or auto), got {self.mode!r}")
        return rates[self.mode]


def expected_offset_hz(recording: Recording, config: ReceiverConfig) -> float:
    """Where the carrier lies (Hz from the centre frequency) before Doppler: ``config.carrier_offset_hz``, else
    the nominal downlink minus the centre frequency plus the receiver offset the recording states."""
    if config.carrier_offset_hz is not None:
        return float(config.carrier_offset_hz)
    return nominal_downlink_hz(recording, config) - recording.center_freq_hz + recording.receiver_offset_hz


def nominal_downlink_hz(recording: Recording, config: ReceiverConfig) -> float:
    """The nominal downlink frequency (Hz): the config's, or the recording's centre when the mission's is not known."""
    return recording.center_freq_hz if config.downlink_freq_hz is None else float(config.downlink_freq_hz)


def decode_header(recording: Recording, config: ReceiverConfig, stats: object | None = None, *,
                  mission: str = "hera", doppler_mode: DopplerMode = "one-way") -> DecodeHeader:
    """The ``decode.json`` header of a decode of ``recording`` with ``config`` (``stats``: the receiver's counters)."""
    return DecodeHeader(recording=recording.paths[0].name, mission=mission, mode=config.mode,
                        symbol_rate_baud=config.rate_baud, samp_rate_hz=recording.samp_rate,
                        center_freq_hz=recording.center_freq_hz,
                        downlink_freq_hz=nominal_downlink_hz(recording, config),
                        start_time_utc=str(recording.start_time) + "Z", duration_s=recording.duration_s,
                        pll_bandwidth_hz=config.pll_bandwidth_hz, doppler_mode=doppler_mode,
                        heradecode_version=__version__,
                        counters={n: int(getattr(stats, n, 0)) for n in DECODE_COUNTERS})


def check_symbol_rate(recording: Recording, config: ReceiverConfig) -> float:
    """The configured symbol rate (baud); UserError when the recording's sample rate cannot carry it."""
    baud = config.rate_baud
    fs = recording.samp_rate
    if fs < 4 * baud:
        raise UserError(f"a recording at {fs:.0f} samples/s cannot carry {baud / 1e3:g} kbaud "
                        f"bi-phase-L (4 samples per symbol at least); wrong --mode?")
    return baud
