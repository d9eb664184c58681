"""Write the heradecode notebooks (stored without outputs) from the cell lists below.

    python notebooks/make_notebooks.py                  # (re)write notebooks/*.ipynb
    python notebooks/make_notebooks.py --out-dir DIR    # write them elsewhere (the tests compare)
    python notebooks/make_notebooks.py --check          # exit 1 if a stored notebook differs

Edit the notebooks here, not in Jupyter: the cells are plain strings, so a change is
reviewed as code, and the files are rewritten byte for byte the same (fixed cell ids, no
outputs, no execution counts).
"""

from __future__ import annotations

import argparse
import sys
import textwrap
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parent

METADATA = {
    "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
    "language_info": {"name": "python", "pygments_lexer": "ipython3"},
}

# Every notebook starts with this cell: it finds the repository from wherever Jupyter was started
# inside it (the notebooks folder, the repository root, or deeper), so the bundled data is found.
SETUP = '''
%matplotlib inline
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd


def find_repo_root(start=None):
    """The heradecode checkout: the first folder upwards from the working directory with pyproject.toml and recordings/."""
    here = Path(start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "pyproject.toml").is_file() and (folder / "recordings").is_dir():
            return folder
    raise FileNotFoundError(f"no heradecode checkout above {here}: start Jupyter inside the repository")


REPO = find_repo_root()
pd.set_option("display.width", 140)
print("repository:", REPO)
'''


def md(text: str) -> tuple[str, str]:
    """A markdown cell."""
    return ("markdown", textwrap.dedent(text).strip("\n").rstrip())


def code(text: str) -> tuple[str, str]:
    """A code cell."""
    return ("code", textwrap.dedent(text).strip("\n").rstrip())


# ------------------------------------------------------------------------------------------ 01
NB01 = [
    md("""
    # 01 · Decode a recording, stage by stage

    This notebook takes an IQ recording of Hera's X-band downlink and turns it into CCSDS
    telemetry frames, one receiver stage at a time, so that you can look at what each stage
    does: the spectrum, the Doppler removal, the carrier search, the combining of the two
    polarizations, the carrier loop, the bi-phase-L soft symbols, the sync markers, the turbo
    decoder and finally the frames. At the end the same decode is done in one call, and both
    are checked against the frames the recording is known to carry.

    The recording is `recordings/sim/hera_high_sim_0x.sigmf-meta` (with its `_0y` partner): a
    simulated Allen-Telescope-Array-style capture, 0.96 s at 1.536 Msps, of eight **real** Hera
    frames at the high rate (322.56 kbaud), with the launch-day Doppler, a −20 kHz tuning
    offset, a rotating polarization, a short fade and an Eb/N0 of 5 dB. Its
    `hera_high_sim.golden.txt` lists the frames a correct decoder must return.

    Run the cells from top to bottom (*Run → Run All Cells*); the whole notebook takes a few
    seconds (the first run on a machine compiles the numba kernels, ~10–20 s more).
    """),
    code(SETUP + '''
RECORDING = REPO / "recordings" / "sim" / "hera_high_sim_0x.sigmf-meta"
GOLDEN = REPO / "recordings" / "sim" / "hera_high_sim.golden.txt"
DOPPLER = REPO / "recordings" / "hera" / "hera_doppler.txt"
    '''),
    md("""
    ## 1. Open the recording

    `open_recording` reads SigMF metadata and gives a `Recording`: channels (X and Y
    polarizations), sample rate, centre frequency and the UTC time of every sample. A lone
    `…_0x` recording is paired with the `…_0y` file beside it, as ATA captures come.
    """),
    code('''
    from heradecode.io import open_recording

    rec = open_recording(RECORDING)
    rec
    '''),
    code('''
    print(f"files            {', '.join(p.name for p in rec.paths)}")
    print(f"channels         {rec.num_channels} ({' and '.join(rec.channel_names)} polarizations), {rec.datatype}")
    print(f"sample rate      {rec.samp_rate / 1e6:g} Msps")
    print(f"centre frequency {rec.center_freq_hz / 1e6:.6f} MHz")
    print(f"start (UTC)      {rec.start_time}")
    print(f"duration         {rec.duration_s:.3f} s = {rec.num_samples} samples per channel")
    print(f"description      {rec.metadata.get('core:description')}")
    '''),
    md("""
    The simulator annotated each codeblock it sent (SigMF annotations): that is the truth we
    will compare with.
    """),
    code('''
    pd.DataFrame([(a.start_sample, a.num_samples, a.label, a.comment) for a in rec.annotations],
                 columns=["start_sample", "num_samples", "label", "comment"])
    '''),
    md("""
    ## 2. Look at it

    `heradecode.plot.plot_spectrum` draws a waterfall per polarization and the averaged power
    spectral density. Given the Doppler profile it marks where the profile alone puts the
    carrier, and given the symbol rate the two maxima of the bi-phase-L data sidebands
    (carrier ± 0.742 × symbol rate). The residual carrier is the sharp line; here it sits
    20 kHz below the profile's mark because the simulation added a −20 kHz offset (as a
    mistuned receiver or an imperfect prediction would).
    """),
    code('''
    from heradecode.io.dopplerfile import read_doppler_profile
    from heradecode.plot import plot_spectrum
    from heradecode.receiver import SYMBOL_RATES

    doppler = read_doppler_profile(DOPPLER)
    symbol_rate = SYMBOL_RATES["high"]  # baud
    plot_spectrum(rec, doppler_profile=doppler, symbol_rate=symbol_rate)
    '''),
    md("""
    Zoomed to ±3 kHz around the strongest line, with finer FFTs: the carrier and how its power
    splits between X and Y (the polarization angle is about 70° from X).
    """),
    code('''
    plot_spectrum(rec, zoom_hz=3e3)
    '''),
    md("""
    ## 3. The Doppler profile

    `recordings/hera/hera_doppler.txt` holds one `unix_time hz` pair per second: the received
    carrier's offset from the nominal downlink frequency (8435.75 MHz for Hera), positive when
    the spacecraft approaches. Notebook 02 looks at it in detail.
    """),
    code('''
    t0 = rec.sample_unix_time(0)  # UNIX time (s) of the first sample
    print(f"profile: {doppler.unix_time.size} points, covers the recording: {doppler.covers(t0, t0 + rec.duration_s)}")
    print(f"Doppler at the start of the recording: {float(doppler.freq_at(t0)):+.1f} Hz, "
          f"rate {float(doppler.freq_at(t0 + 1) - doppler.freq_at(t0)):+.2f} Hz/s")
    '''),
    md("""
    ## 4. Plan the receiver

    These are the choices `heradecode.receiver.Receiver` makes when it is created; `plan_front_end`
    returns them:

    * where the carrier is expected: the nominal downlink minus the recording's centre
      frequency, plus the receiver offset the recording states in its metadata
      (`heradecode:carrier_offset_hz`, here the −20 kHz LO offset of the simulation), plus the
      Doppler profile (`offset_hz`);
    * where it really is: `find_carrier` searches ±100 kHz around that prediction in the raw
      recording (drift rates up to ±60 Hz/s; the whole band when there is no Doppler profile)
      and corrects the prediction by the frequency and rate found (`carrier_model`); a fix far
      from the prediction is reported in one warning;
    * a coarse frequency shift before filtering, only when that expected carrier lies far from
      the centre (so that the carrier search plus a margin no longer fits within ±60 kHz);
    * a power-of-two decimation that keeps a few samples per symbol and loses at most 0.35 dB of
      the Manchester spectrum (`mode_decimation`).

    The archived recordings were made at a rate the receiver uses as it is (factor 1); a
    6.144 Msps ATA recording would be decimated by 2 (high rate) or 8 (low rate).
    """),
    code('''
    from heradecode.ccsds import HERA
    from heradecode.receiver import ReceiverConfig, find_carrier, plan_front_end

    fs = rec.samp_rate
    fix = find_carrier(rec, doppler=doppler)  # wide search of the raw recording
    print(fix.describe())
    plan = plan_front_end(rec, ReceiverConfig(mode="high"), doppler=doppler, carrier_fix=fix)
    offset_hz, model = plan.offset_hz, plan.carrier_model  # the Doppler profile, corrected by the fix
    pre_shift_hz, factor, passband_hz = plan.pre_shift_hz, plan.factor, plan.passband_hz
    fs_d = plan.samp_rate  # sample rate after decimation

    print(f"expected carrier {plan.expected_hz[0] / 1e3:+.3f} .. {plan.expected_hz[1] / 1e3:+.3f} kHz from the centre")
    print(f"coarse pre-shift {pre_shift_hz:+.0f} Hz; decimation by {factor} to {fs_d / 1e6:g} Msps "
          f"({fs_d / symbol_rate:.2f} samples per symbol), passband +-{passband_hz / 1e3:.0f} kHz")
    '''),
    md("""
    ## 5. Read, shift and decimate

    `rec.read()` returns complex64 samples shaped `(channels, n)`. Every stage below keeps its
    state across calls, so a live receiver feeds them chunk by chunk (the `Receiver` uses
    0.1 s chunks); for one second of signal we simply pass whole arrays. `Nco` shifts in
    frequency phase-continuously; `Decimator` is a cascade of half-band and polyphase FIR
    filters whose `flush()` emits the last outputs.
    """),
    code('''
    from heradecode.dsp.decimate import Decimator
    from heradecode.dsp.nco import Nco

    x = rec.read(0, rec.num_samples)
    print(x.shape, x.dtype, f"{x.nbytes / 1e6:.0f} MB")
    if pre_shift_hz:
        x = Nco(fs, offset_hz=pre_shift_hz, start_time=t0).process(x)
    if factor > 1:
        decimator = Decimator(fs, factor, passband_hz=passband_hz)
        y = np.concatenate([decimator.process(x), decimator.flush()], axis=1)
        print(f"decimator: {decimator.n_taps} taps per stage")
    else:
        y = x
        print("no decimation needed at this sample rate")
    '''),
    md("""
    ## 6. Remove the Doppler

    The `Nco` removes the corrected Doppler profile (interpolated between its 1 s points and
    integrated to a phase, so there are no phase jumps) plus the expected carrier offset.
    Afterwards the carrier sits within a few hertz of 0 Hz; the fine search below measures it.
    """),
    code('''
    nco = Nco(fs_d, doppler=model, offset_hz=offset_hz - pre_shift_hz, start_time=t0)
    y = nco.process(y)
    print(f"frequency removed at the first sample: {float(nco.freq_hz(0)):+.1f} Hz")
    '''),
    md("""
    ## 7. Find the carrier

    `CarrierAcquirer` averages FFT power spectra of both channels over the first 0.25 s, each
    normalised by its own local noise floor, and looks for a line within ±25 kHz. The
    threshold follows from the statistics of noise alone for a false-alarm probability of
    1e-6 over the whole search. The result gives the frequency, the carrier-to-noise density
    C/N0 and the complex carrier gain in each channel (which seeds the combiner).
    """),
    code('''
    from heradecode.dsp.acquisition import CarrierAcquirer

    n_acq = int(0.25 * fs_d)
    acq = CarrierAcquirer(fs_d, window_hz=plan.search_window_hz).feed(y[:, :n_acq]).result()
    print(f"detected {acq.detected}: {acq.freq_hz:+.1f} Hz, C/N0 {acq.cn0_dbhz:.1f} dB-Hz "
          f"(X {acq.channel_cn0_dbhz[0]:.1f}, Y {acq.channel_cn0_dbhz[1]:.1f}), "
          f"peak {acq.snr_db:.1f} dB over the noise, threshold {acq.threshold_db:.1f} dB")

    fig, ax = plt.subplots(figsize=(9, 3.2), layout="constrained")
    ax.plot(acq.freqs_hz / 1e3, 10 * np.log10(acq.spectrum / rec.num_channels), lw=0.7)
    ax.axhline(acq.threshold_db, color="tab:red", ls="--", label="detection threshold")
    ax.axvline(acq.freq_hz / 1e3, color="k", lw=0.6, label=f"carrier {acq.freq_hz:+.0f} Hz")
    ax.set_xlabel("frequency after Doppler removal (kHz)")
    ax.set_ylabel("power over noise floor (dB)")
    ax.set_title(f"carrier search, {acq.n_spectra} spectra of {acq.bin_hz:.0f} Hz bins averaged")
    ax.legend(loc="upper right")
    ax.grid(alpha=0.3)
    '''),
    md("""
    ## 8. Combine the polarizations

    The ATA feeds are linear, X and Y; how the signal's power splits between them depends on
    its polarization and on the geometry, which changes during a pass. `PolCombiner`
    estimates each channel's carrier gain and noise on the 1 ms carrier sums and combines X
    and Y with maximal-ratio weights (`w = conj(g) / noise`): no signal energy is wasted
    whatever the angle. With equal noise
    in both channels, the weights' magnitudes give the polarization angle: the simulation
    started at 70° and turned by −3°/s (the weights average over about a second).

    In the receiver, which works chunk by chunk, the PLL's frequency is also handed back to the
    combiner after each chunk; the combiner's own frequency tracking is ample for one second.
    """),
    code('''
    from heradecode.dsp.polcombine import PolCombiner

    combiner = PolCombiner(fs_d, acq.freq_hz, prior=acq)
    z = combiner.process(y)  # one complex stream
    wtrack = combiner.pop_track()  # weights every 10 ms
    angle_deg = np.degrees(np.arctan2(np.abs(wtrack["weight"][:, 1]), np.abs(wtrack["weight"][:, 0])))
    print(f"weights X, Y now: {np.round(combiner.weights, 3)}; combined C/N0 {combiner.cn0_dbhz:.1f} dB-Hz")

    fig, (ax1, ax2) = plt.subplots(2, 1, sharex=True, figsize=(9, 4.5), layout="constrained")
    ax1.plot(wtrack["sample"] / fs_d, angle_deg)
    ax1.set_ylabel("angle from X (deg)")
    ax1.set_title("polarization angle from the combining weights")
    ax2.plot(wtrack["sample"] / fs_d, wtrack["cn0_dbhz"])
    ax2.set_ylabel("C/N0 (dB-Hz)")
    ax2.set_xlabel("time from the start of the recording (s)")
    for ax in (ax1, ax2):
        ax.grid(alpha=0.3)
    '''),
    md("""
    ## 9. Lock onto the carrier

    `CarrierPll` is a third-order phase-locked loop of 15 Hz noise bandwidth: it follows the
    residual Doppler (a frequency ramp) with no steady phase error, measures C/N0, reports
    lock, and re-acquires after a fade. As in the `Receiver`, the stream is first rotated by
    the carrier phase measured on its first 20 ms, so the loop starts phase-aligned.

    Its output has the carrier on the positive real axis and the phase-modulated data on the
    imaginary axis (PM with modulation index 1.1 rad: `exp(j·m·d(t))`). At this signal-to-noise
    ratio (per sample, ~4.8 samples per symbol) the constellation is mostly noise: the residual
    carrier shows as the mean offset along I; the data stand out only after the matched filter
    of the next step.
    """),
    code('''
    from heradecode.dsp.pll import CarrierPll

    n20 = max(16, int(0.02 * fs_d))
    c = np.mean(z[:n20] * np.exp(-2j * np.pi * acq.freq_hz * np.arange(n20) / fs_d))
    derotate = np.complex64(np.conj(c) / abs(c))
    pll = CarrierPll(fs_d, acq.freq_hz, bandwidth_hz=15.0, order=3, start_time=t0,
                     acq_window_hz=plan.search_window_hz, acq_time=0.1, acq_interval=0.1)
    zc = pll.process(z * derotate)  # phase-corrected: carrier on I, data on Q
    track = pll.pop_track()  # one row per 10 ms
    print(f"locked {100 * track['locked'].mean():.0f}% of the time, final frequency {pll.freq_hz:+.2f} Hz, "
          f"C/N0 {pll.cn0_dbhz:.1f} dB-Hz")

    fig, axes = plt.subplots(3, 1, sharex=True, figsize=(9, 5.5), layout="constrained")
    t_rel = track["time"] - t0
    axes[0].plot(t_rel, track["freq_hz"] - acq.freq_hz)
    axes[0].set_ylabel("frequency (Hz)")
    axes[0].set_title(f"carrier loop: PLL frequency minus the {acq.freq_hz:+.1f} Hz found by the search")
    axes[1].plot(t_rel, track["cn0_dbhz"])
    axes[1].set_ylabel("C/N0 (dB-Hz)")
    axes[2].step(t_rel, track["locked"].astype(int), where="post")
    axes[2].set_ylabel("locked")
    axes[2].set_xlabel("time from the start of the recording (s)")
    for ax in axes:
        ax.grid(alpha=0.3)
    '''),
    code('''
    from heradecode.plot import plot_soft_symbols

    plot_soft_symbols(zc, title="PLL output: I/Q constellation (carrier on I, PM data on Q)")
    '''),
    md("""
    ## 10. Soft symbols

    `BiphaseDemodulator` correlates the Q arm with the whole (+1, −1) Manchester chip pair
    (a matched filter using all the symbol's energy), recovers the symbol timing (it follows
    the −20 ppm clock offset of the simulation plus the Doppler on the symbol rate) and turns
    each symbol into a log-likelihood ratio **L = ln P(bit 0)/P(bit 1)**: positive means bit 0,
    the convention used everywhere in heradecode. The noise is measured on the I arm.

    The receiver then clips the LLRs at ±64 and turns symbols into erasures (0) where the
    running Es/N0 falls below −12 dB, i.e. where the demodulator sees a bare carrier: bursts of
    meaningless LLRs there could imitate sync markers.

    The histogram of a BPSK-like stream is two Gaussian humps at ±a; at this signal-to-noise
    ratio they overlap into one. The legend gives the Es/N0 of a two-Gaussian fit next to the
    demodulator's own running estimate; the simulation's true value is −1.0 dB (Es/N0 per code
    symbol = Eb/N0 − 6.0 dB at rate 1/4). The turbo code works down to about −5.5 dB.
    """),
    code('''
    from heradecode.dsp.biphase import BiphaseDemodulator
    from heradecode.dsp.demod import LLR_CLIP, MIN_ESN0_DB  # the receiver's clipping and erasure threshold

    demod = BiphaseDemodulator(fs_d, symbol_rate)
    sym = demod.process(zc)
    llr = np.where(sym.esn0_db > MIN_ESN0_DB, np.clip(sym.llr, -LLR_CLIP, LLR_CLIP), np.float32(0.0))
    print(f"{len(sym)} symbols, Es/N0 {demod.esn0_db:.2f} dB, symbol rate {demod.symbol_rate_hz:.1f} baud "
          f"({demod.clock_offset_ppm:+.1f} ppm), erasures {np.count_nonzero(llr == 0)}")
    plot_soft_symbols(llr, esn0_db=demod.esn0_db, title="soft symbols (LLR, positive = bit 0)")
    '''),
    md("""
    ### Sections 7–10 in one object

    `heradecode.dsp.demod.PcmPmDemodulator` chains the carrier search, the combiner, the PLL
    (started phase-aligned) and the bi-phase-L demodulator with the clipping and erasures, as
    the `Receiver` and the GNU Radio demodulator block use them: Doppler-corrected samples in,
    LLRs and the carrier track out. It searches for the carrier once it holds 0.25 s of
    signal; fed the whole second at once, it searches all of it rather than the first 0.25 s,
    so it starts from a slightly different frequency and its LLRs differ a little from ours
    (the frames, checked below, do not).
    """),
    code('''
    from heradecode.dsp.demod import PcmPmDemodulator

    front_end = PcmPmDemodulator(fs_d, symbol_rate, start_time=t0, acq_window_hz=plan.search_window_hz)
    out = front_end.process(y)
    tail = front_end.finish()
    llr_front_end = np.concatenate([out.llr, tail.llr])
    print(f"{llr_front_end.size} LLRs (ours: {llr.size}), carrier at {front_end.acquisition.freq_hz:+.1f} Hz, "
          f"Es/N0 {front_end.esn0_db:.2f} dB, {out.track.size + tail.track.size} carrier track rows")
    '''),
    md("""
    ## 11. Find the codeblocks

    Each turbo codeblock (8920 information bits plus 4 tail bits at rate 1/4 → 35 696 symbols) is preceded by a
    128-symbol attached sync marker, `034776C7272895B0FCB88938D8D76A4F`. `FrameSync` correlates
    the soft stream with the whole marker, normalised by the local RMS, so the score is in
    noise sigmas. A strong peak (≥ 6σ) starts lock; then the next marker is expected exactly
    one period later. A negative peak means the stream is inverted (the bi-phase / PLL sign
    ambiguity) and the codeblock is sign-corrected.
    """),
    code('''
    from heradecode.fec.asm import FrameSync

    framesync = FrameSync(k=8920, inv_rate=4)
    blocks = framesync.feed(llr) + framesync.flush()
    # the symbol positions are in decimated samples since the start: back to recording samples
    starts = [int(round(sym.sample[b.asm_index] * factor)) for b in blocks]
    pd.DataFrame({"asm_symbol": [b.asm_index for b in blocks], "recording_sample": starts,
                  "polarity": [b.polarity for b in blocks], "score_sigma": [round(b.score, 1) for b in blocks],
                  "accepted_as": [b.reason for b in blocks]})
    '''),
    md("""
    ## 12. Derandomize and turbo-decode

    Before transmission every codeblock was XORed with the CCSDS pseudo-random sequence; on
    soft values undoing it is a sign flip (`derandomize_llr`). The `TurboDecoder` (CCSDS
    131.0-B, max-log-MAP, at most 10 iterations) stops early once the frame's CRC-16 passes;
    `decode_batch` takes all codeblocks at once.
    """),
    code('''
    from heradecode.fec.randomizer import derandomize_llr
    from heradecode.fec.turbo import TurboDecoder

    decoder = TurboDecoder(k=8920, inv_rate=4, max_iterations=10)
    results = decoder.decode_batch(derandomize_llr(np.stack([b.soft for b in blocks])), workers=1)
    pd.DataFrame({"recording_sample": starts, "iterations": [r.iterations for r in results],
                  "crc_ok": [r.crc_ok for r in results]})
    '''),
    md("""
    ## 13. The frames

    A decoded block is a 1115-octet TM transfer frame; like gr-satellites, heradecode keeps
    1113 octets, without the 2-octet CRC (FECF) it has just checked. `parse_frame` reads the
    primary header: spacecraft ID (Hera: 181 = 0xB5), virtual channel (1 real time, 3 replay,
    7 idle), the master- and virtual-channel frame counters, the first header pointer (where
    the first packet starts) and the CLCW in the operational control field.
    """),
    code('''
    import hashlib

    from heradecode.ccsds import parse_frame

    frames = [r.frame() for r in results if r.crc_ok]
    parsed = [parse_frame(f, has_fecf=False, index=i) for i, f in enumerate(frames)]
    pd.DataFrame({"scid": [f.scid for f in parsed], "vcid": [f.vcid for f in parsed],
                  "vc_name": [HERA.vc_name(f.vcid) for f in parsed], "mc_count": [f.mc_count for f in parsed],
                  "vc_count": [f.vc_count for f in parsed], "first_header_pointer": [f.first_header_pointer for f in parsed],
                  "clcw_report": [f.clcw.report_value if f.clcw else None for f in parsed]})
    '''),
    md("""
    Are these exactly the frames the simulator sent? The golden list holds the SHA-256 of
    each frame a correct decoder must return, in order.
    """),
    code('''
    def read_golden(path):
        """SHA-256 (hex) of each expected frame, in order."""
        lines = Path(path).read_text().splitlines()
        return [ln.split()[2] for ln in lines if ln.strip() and not ln.startswith("#")]


    golden = read_golden(GOLDEN)
    stage_by_stage = [hashlib.sha256(f).hexdigest() for f in frames]
    print(f"stage by stage: {len(stage_by_stage)} frames; golden list: {len(golden)} frames")
    assert stage_by_stage == golden, "the stage-by-stage decode differs from the golden list"
    print("identical to the golden list")
    '''),
    md("""
    ## 14. The same in one call

    `Receiver` runs all these stages chunk by chunk; `run()` is a generator that yields each
    codeblock (`DecodedCodeblock`: start sample, UTC time, polarity, sync score, Eb/N0
    estimate, iterations, CRC, and the frame when the CRC passed) as soon as it is decoded —
    the way a live display would use it. `pop_track()` returns the carrier track.
    `decode_recording` does the same for a whole recording, optionally on several processes.
    """),
    code('''
    from heradecode.receiver import Receiver, ReceiverConfig, decode_recording

    config = ReceiverConfig(mode="high")
    rx = Receiver(rec, config, doppler=doppler)
    decoded = []
    for cb in rx.run():
        decoded.append(cb)
        print(f"sample {cb.start_sample:8d}  {rec.sample_time(cb.start_sample)}  Eb/N0 {cb.ebn0_db:5.2f} dB  "
              f"{cb.iterations} it.  CRC {'ok' if cb.crc_ok else 'FAILED'}  VC{cb.vcid}")
    carrier_track = rx.pop_track()
    print(f"carrier track: {carrier_track.size} rows, locked {100 * carrier_track['locked'].mean():.0f}%")
    print(f"the receiver's plan: pre-shift {rx.pre_shift_hz:+.0f} Hz, decimation by {rx.factor} (section 4: "
          f"{pre_shift_hz:+.0f} Hz, {factor})")
    assert rx.plan == plan
    '''),
    code('''
    one_call = [hashlib.sha256(cb.frame).hexdigest() for cb in decoded if cb.crc_ok]
    sync2 = FrameSync(k=8920, inv_rate=4)
    blocks2 = sync2.feed(llr_front_end) + sync2.flush()
    front_end_frames = [hashlib.sha256(r.frame()).hexdigest()
                        for r in decoder.decode_batch(derandomize_llr(np.stack([b.soft for b in blocks2])), workers=1)
                        if r.crc_ok]
    whole = [hashlib.sha256(cb.frame).hexdigest()
             for cbs, _track in decode_recording(rec, config, doppler=doppler) for cb in cbs if cb.crc_ok]
    assert one_call == whole == front_end_frames == stage_by_stage == golden
    print(f"Receiver.run(), decode_recording(), PcmPmDemodulator and the single stages give the same "
          f"{len(golden)} frames as the golden list")
    print("start samples, stages vs Receiver:", list(zip(starts, [cb.start_sample for cb in decoded])))
    '''),
    md("""
    The decode log as `heradecode decode` writes it (`decode.json`) can be built from the
    codeblocks, and drawn: Eb/N0 and turbo iterations per codeblock, and the frames per
    virtual channel over time.
    """),
    code('''
    from heradecode.plot import decode_log_from_dict, plot_codeblocks, plot_frames_timeline

    log = decode_log_from_dict({"recording": rec.paths[0].name, "mode": config.mode, "symbol_rate": symbol_rate,
                                "samp_rate": rec.samp_rate, "codeblocks": [cb.to_dict() for cb in decoded]})
    plot_codeblocks(log)
    '''),
    code('''
    plot_frames_timeline(log)
    '''),
    md("""
    ## Where next

    * `02_doppler.ipynb`: the Doppler profile, the carrier the PLL tracked, and the residuals.
    * `03_telemetry.ipynb`: the real launch-day frames as packets in pandas, housekeeping over
      time, virtual channel statistics.
    * The command line does all of the above and writes the products:
      `heradecode decode recordings/sim/hera_high_sim_0x.sigmf-meta --doppler recordings/hera/hera_doppler.txt --out out/ --plots`.
    """),
]

# ------------------------------------------------------------------------------------------ 02
NB02 = [
    md("""
    # 02 · Doppler: the profile, the carrier tracked, the residuals

    A deep-space carrier arrives shifted by the Doppler effect: on Hera's launch day, at X band,
    by tens of kHz, changing by tens of Hz per second. The receiver removes a predicted
    **Doppler profile** and its phase-locked loop tracks what is left. The carrier it actually
    tracked, minus the prediction, is the **residual**: it shows how good the prediction was,
    and is a measurement in its own right (a frequency offset, an ephemeris error).

    This notebook:

    1. reads the launch-day profile `recordings/hera/hera_doppler.txt` and plots it against UTC;
    2. decodes `recordings/sim/hera_low_sim.sigmf-meta` (3 s, low rate, 5 real frames, with a
       +1.5 kHz offset added on top of the launch-day Doppler) and plots the carrier the PLL
       tracked against the profile;
    3. computes the residuals, corrects the profile with them and decodes again;
    4. shows the same with the command line products (`carrier.csv`, `residuals.csv`);
    5. optionally predicts the Doppler from SPICE kernels, if you have Hera's trajectory kernel.
    """),
    code(SETUP + '''
RECORDING = REPO / "recordings" / "sim" / "hera_low_sim.sigmf-meta"
TRUTH = REPO / "recordings" / "sim" / "hera_low_sim.truth.json"
DOPPLER = REPO / "recordings" / "hera" / "hera_doppler.txt"
    '''),
    md("""
    ## 1. The Doppler profile

    One `unix_time hz` pair per line (the format gr-satellites reads): the received carrier
    minus the nominal downlink frequency (8435.75 MHz), positive when the spacecraft
    approaches. `read_doppler_profile` returns a `DopplerProfile`, interpolated linearly
    between its points.
    """),
    code('''
    from heradecode.io.dopplerfile import read_doppler_profile

    doppler = read_doppler_profile(DOPPLER)
    t_utc = (doppler.unix_time * 1e6).astype("datetime64[us]")
    rate_hz_s = np.gradient(doppler.freq_hz, doppler.unix_time)
    print(f"{doppler.unix_time.size} points from {t_utc[0]} to {t_utc[-1]} UTC, "
          f"step {np.median(np.diff(doppler.unix_time)):.1f} s")
    print(f"Doppler {doppler.freq_hz.min() / 1e3:+.2f} .. {doppler.freq_hz.max() / 1e3:+.2f} kHz, "
          f"rate {rate_hz_s.min():+.2f} .. {rate_hz_s.max():+.2f} Hz/s")
    '''),
    md("""
    The real frames in `recordings/hera/` were decoded from ATA recordings made during this
    pass; their file names give the UTC start. The archived simulations reuse the profile at
    those times.
    """),
    code('''
    from datetime import datetime, timezone

    def start_from_name(path):
        """UTC start encoded in a frame file name such as hera_low_rate_frames_2024_10_07_16_24_20.u8."""
        stamp = "_".join(path.stem.split("_")[-6:])
        return np.datetime64(datetime.strptime(stamp, "%Y_%m_%d_%H_%M_%S").replace(tzinfo=timezone.utc)
                             .strftime("%Y-%m-%dT%H:%M:%S"))

    captures = {p.stem.replace("hera_", "").split("_frames")[0].replace("_", " ") + f" {start_from_name(p)}":
                start_from_name(p) for p in sorted((REPO / "recordings" / "hera").glob("*.u8"))}

    fig, (ax1, ax2) = plt.subplots(2, 1, sharex=True, figsize=(10, 6), layout="constrained")
    ax1.plot(t_utc, doppler.freq_hz / 1e3)
    ax1.set_ylabel("Doppler (kHz)")
    ax1.set_title("Hera, 2024-10-07: received carrier minus 8435.75 MHz")
    ax2.plot(t_utc, rate_hz_s, color="tab:orange")
    ax2.set_ylabel("Doppler rate (Hz/s)")
    ax2.set_xlabel("time (UTC)")
    for (name, t), color in zip(captures.items(), ["tab:green", "tab:purple", "tab:red"]):
        for ax in (ax1, ax2):
            ax.axvline(t, color=color, ls="--", lw=1, label=name if ax is ax1 else None)
    ax1.legend(title="real frame files", fontsize=8)
    for ax in (ax1, ax2):
        ax.grid(alpha=0.3)
    '''),
    md("""
    ## 2. Decode and track the carrier

    The `Receiver` removes the profile, searches ±25 kHz for the residual carrier and locks its
    PLL. `pop_track()` returns the carrier it tracked, one row per 10 ms: the **received**
    carrier frequency minus the nominal downlink (`doppler_hz`, directly comparable with the
    profile), the carrier phase, C/N0 and the lock flag.
    """),
    code('''
    from heradecode.io import open_recording
    from heradecode.receiver import Receiver, ReceiverConfig

    rec = open_recording(RECORDING)
    print(rec)
    config = ReceiverConfig(mode="low")
    rx = Receiver(rec, config, doppler=doppler)
    decoded = list(rx.run())
    track = rx.pop_track()
    print(f"{sum(cb.crc_ok for cb in decoded)} of {len(decoded)} codeblocks decoded; "
          f"carrier found at {rx.acquisition.freq_hz:+.1f} Hz from where the profile put it")
    pd.DataFrame(track[:5])
    '''),
    md("""
    `heradecode.plot.plot_carrier_track` draws the tracked carrier against the profile, with
    C/N0 and lock, from a `CarrierObservable` (what `heradecode decode` writes as
    `carrier.csv`, on 1 s points). `carrier_points` averages the 10 ms rows; with only 3 s
    here we average to 0.1 s. The carrier lies 1.5 kHz above the profile and follows its
    slope of about −50 Hz/s.
    """),
    code('''
    from heradecode.plot import plot_carrier_track
    from heradecode.products.decodelog import carrier_points

    carrier = carrier_points(track, step_s=0.1)
    plot_carrier_track(carrier, doppler_profile=doppler)
    '''),
    md("""
    ## 3. Residuals

    `compute_residuals` interpolates the prediction onto the carrier's times and subtracts it
    (this is what `heradecode residuals` does). The mean is the offset the prediction missed;
    the scatter is the PLL's frequency noise. The simulator's truth file says which offset it
    added.
    """),
    code('''
    import json

    from heradecode.ephem.doppler import compute_residuals
    from heradecode.plot import plot_residuals

    res = compute_residuals(carrier, doppler)
    truth_offset_hz = json.loads(TRUTH.read_text())["params"]["carrier_offset_hz"]
    print(f"residual on {res.n_locked} locked points: mean {res.mean_hz():+.2f} Hz, std {res.std_hz():.2f} Hz; "
          f"the simulation added {truth_offset_hz:+.1f} Hz")
    assert abs(res.mean_hz() - truth_offset_hz) < 5.0
    plot_residuals(res, title="tracked carrier minus the launch-day profile")
    '''),
    md("""
    Feed the measurement back: shift the profile by the mean residual (`DopplerProfile.shifted`)
    and decode again. The carrier is now found near 0 Hz, the frames are the same, and the
    residual is centred on zero.
    """),
    code('''
    corrected = doppler.shifted(res.mean_hz())
    rx2 = Receiver(rec, config, doppler=corrected)
    decoded2 = list(rx2.run())
    res2 = compute_residuals(carrier_points(rx2.pop_track(), step_s=0.1), corrected)
    print(f"carrier found at {rx2.acquisition.freq_hz:+.1f} Hz from the corrected profile; "
          f"residual mean {res2.mean_hz():+.2f} Hz, std {res2.std_hz():.2f} Hz")
    assert [cb.frame for cb in decoded2 if cb.crc_ok] == [cb.frame for cb in decoded if cb.crc_ok]
    assert abs(res2.mean_hz()) < 5.0
    '''),
    md("""
    ## 4. The same from the command line

    `heradecode decode … --doppler FILE --out DIR` writes `carrier.csv` (1 s points),
    `residuals.csv` and `doppler_residuals.png` among its products, and
    `heradecode residuals DIR --doppler OTHER_FILE` (or `--kernels …`) compares a decode with
    another prediction later. The CLI can be called from Python too:
    """),
    code('''
    import tempfile

    from heradecode.cli import main as heradecode

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "decoded"
        status = heradecode(["decode", str(RECORDING), "--mode", "low", "--doppler", str(DOPPLER),
                             "--out", str(out), "--quiet"])
        print("exit status", status, "| products:", ", ".join(sorted(p.name for p in out.iterdir())))
        residuals_csv = pd.read_csv(out / "residuals.csv")
    residuals_csv
    '''),
    md("""
    ## 5. Optional: a prediction from Hera's trajectory (SPICE)

    `heradecode.ephem.predict` computes one-, two- or three-way Doppler, light-time corrected,
    from SPICE kernels (or JPL HORIZONS). The generic kernels (leap seconds, Earth orientation,
    planets) come with heradecode's dependencies; Hera's trajectory (`hera_fcp_*.bsp`) comes from
    the ESA SPICE Service (see `kernels/README.md`). Set `HERADECODE_KERNELS` to it before
    starting Jupyter to run this cell; without it the cell only says so. Which stations and
    which mode to use depends on how the link was set up that day (here: received at the ATA,
    uplink from DSN DSS-24, i.e. three-way).
    """),
    code('''
    from heradecode.ephem.spice import default_kernels

    kernels = default_kernels()
    if not kernels:
        print("HERADECODE_KERNELS is not set: no Hera trajectory kernel, so no ephemeris prediction here.")
    else:
        from heradecode.ephem.predict import DopplerRequest, predict

        times = doppler.unix_time[::10]
        pred = predict(DopplerRequest(rx="ATA", tx="DSS-24", kernels=tuple(kernels)), times)
        t_pred = (times * 1e6).astype("datetime64[us]")
        fig, (ax1, ax2) = plt.subplots(2, 1, sharex=True, figsize=(10, 5.5), layout="constrained")
        ax1.plot(t_pred, doppler.freq_at(times) / 1e3, label="launch-day profile")
        ax1.plot(t_pred, pred.freq_hz / 1e3, "--", label=f"{pred.mode} {pred.tx} → {pred.rx}")
        ax1.set_ylabel("Doppler (kHz)")
        ax1.set_title("prediction from " + ", ".join(Path(k).name for k in kernels))
        ax1.legend()
        ax2.plot(t_pred, doppler.freq_at(times) - pred.freq_hz)
        ax2.set_ylabel("profile − prediction (Hz)")
        ax2.set_xlabel("time (UTC)")
        for ax in (ax1, ax2):
            ax.grid(alpha=0.3)
    '''),
]

# ------------------------------------------------------------------------------------------ 03
NB03 = [
    md("""
    # 03 · Telemetry: frames, packets and housekeeping in pandas

    The three files in `recordings/hera/` hold real TM transfer frames received from Hera on
    its launch day, 2024-10-07 (1113 octets each: the frame without its CRC, as gr-satellites
    writes them): two at the low rate from 16:24 and 16:25 UTC, one at the high rate from
    17:06 UTC. This notebook looks at them as a radio amateur or researcher would:

    1. the frames as a table: virtual channels, counters;
    2. virtual channel statistics and frame-counter continuity (where frames were lost);
    3. the space packets reassembled from them, with their ECSS PUS-C headers, as a DataFrame;
    4. housekeeping reports (APID 260, PUS service 3 subtype 25) over on-board time.
    """),
    code(SETUP + '''
FRAME_FILES = sorted((REPO / "recordings" / "hera").glob("*.u8"))
for path in FRAME_FILES:
    print(f"{path.name:50s} {path.stat().st_size:>9} octets = {path.stat().st_size // 1113} frames")
    '''),
    md("""
    ## 1. Frames

    `read_frames` parses every frame of a file into a `TMFrame` (spacecraft ID, virtual channel,
    master- and virtual-channel frame counters, first header pointer, operational control
    field with the CLCW, the data field). Hera's virtual channels: 1 real-time telemetry,
    3 replay of stored telemetry, 7 idle.
    """),
    code('''
    from heradecode.ccsds import HERA, read_frames

    frames_by_file = {path.name: read_frames(path) for path in FRAME_FILES}
    frames = pd.DataFrame([
        {"file": name, "index": f.index, "scid": f.scid, "vcid": f.vcid, "vc": HERA.vc_name(f.vcid),
         "mc_count": f.mc_count, "vc_count": f.vc_count, "first_header_pointer": f.first_header_pointer,
         "clcw_report": f.clcw.report_value if f.clcw else None}
        for name, fs in frames_by_file.items() for f in fs
    ])
    frames.head(10)
    '''),
    md("""
    ## 2. Virtual channel statistics

    Every frame carries Hera's spacecraft ID 181 (0xB5). The high-rate pass carries replayed
    telemetry on VC 3 alongside the real-time VC 1.
    """),
    code('''
    print("spacecraft IDs:", frames.scid.value_counts().to_dict())
    per_vc = pd.crosstab(frames.file, frames.vcid.map(lambda v: f"VC{v} {HERA.vc_name(v)}"), margins=True)
    per_vc
    '''),
    code('''
    ax = per_vc.drop(index="All", columns="All").rename_axis(columns="virtual channel").plot.barh(stacked=True, figsize=(9, 3),
                                                          color=["tab:blue", "tab:green", "tab:gray"])
    ax.set_xlabel("frames")
    ax.set_ylabel("")
    ax.set_title("frames per virtual channel")
    ax.grid(alpha=0.3, axis="x")
    '''),
    md("""
    ### Frame counter continuity

    The master channel count (all frames) and each virtual channel's count are 8-bit
    counters that wrap at 256. A step of more than one between consecutive frames of the same
    channel means frames were lost in between (not received, or not decoded): `(count − previous
    − 1) mod 256` of them. The library's `VirtualChannelDemux` (used by the
    `TelemetryProcessor` below) counts the same gaps; the check at the end compares them.
    """),
    code('''
    def gaps(counts):
        """Frames missing before each frame, from an 8-bit counter sequence (0 for the first)."""
        c = np.asarray(counts, dtype=np.int64)
        missing = np.zeros(c.size, dtype=np.int64)
        missing[1:] = (c[1:] - c[:-1] - 1) % 256
        return missing

    frames["vc_missing_before"] = frames.groupby(["file", "vcid"]).vc_count.transform(gaps)
    frames["mc_missing_before"] = frames.groupby("file").mc_count.transform(gaps)
    continuity = frames.groupby(["file", "vcid"]).agg(
        frames=("index", "size"), gaps=("vc_missing_before", lambda s: int((s > 0).sum())),
        frames_missing=("vc_missing_before", "sum"))
    continuity
    '''),
    code('''
    high = frames[frames.file.str.contains("high")]
    fig, (ax1, ax2) = plt.subplots(2, 1, sharex=True, figsize=(10, 5.5), layout="constrained")
    for vc, color in ((1, "tab:blue"), (3, "tab:green"), (7, "tab:gray")):
        sel = high[high.vcid == vc]
        ax1.plot(sel["index"], sel.vc_count, ".", ms=2, color=color, label=f"VC{vc} {HERA.vc_name(vc)}")
        ax2.plot(sel["index"], sel.vc_missing_before, ".", ms=3, color=color)
    ax1.set_ylabel("VC frame count (mod 256)")
    ax1.set_title(f"{high.file.iloc[0]}: counters in reception order")
    ax1.legend(markerscale=5, fontsize=8)
    ax2.set_ylabel("frames missing before")
    ax2.set_xlabel("frame index in the file")
    for ax in (ax1, ax2):
        ax.grid(alpha=0.3)
    '''),
    md("""
    ## 3. Packets as a DataFrame

    `TelemetryProcessor` is what `heradecode frames` and `heradecode decode` use: fed one frame
    at a time, in reception order (as a live decoder would), it splits the virtual channels,
    reassembles the space packets (CCSDS 133.0-B: starting at the first header pointer,
    carried across frames, discarded when they span a counter gap), and labels them: PUS-C
    telemetry (service, subtype, message counter, destination, on-board time, packet error
    control check), CCSDS time packets (APID 0), idle packets (APID 2047). With
    `keep_packets=True` it keeps them for `dataframe()`.

    The files are separate passes, so each gets its own processor.
    """),
    code('''
    from heradecode.products.telemetry import TelemetryProcessor

    processors = {}
    tables = []
    for name, fs in frames_by_file.items():
        tp = TelemetryProcessor(keep_packets=True)
        for frame in fs:
            tp.feed(frame)  # returns the packets this frame completes
        processors[name] = tp
        tables.append(tp.dataframe().assign(file=name))
    packets = pd.concat(tables, ignore_index=True)
    # columns that only some packets have come as floats with NaN: make them nullable integers
    packets = packets.astype({c: "Int64" for c in ("pus_service", "pus_subtype", "message_counter", "destination_id")})
    print(f"{len(packets)} packets; columns: {', '.join(packets.columns)}")
    packets.drop(columns="data_hex").head(10)
    '''),
    code('''
    print(processors["hera_low_rate_frames_2024_10_07_16_24_20.u8"].summary().format_text())
    '''),
    code('''
    pd.crosstab([packets.apid, packets.kind], packets.file, margins=True)
    '''),
    code('''
    pus = packets[packets.kind == "pus"]
    pd.crosstab([pus.pus_service, pus.pus_subtype], pus.file, margins=True)
    '''),
    md("""
    Cross-check with the library's own counters: the gaps found above equal those of the
    `VirtualChannelDemux`, every PUS packet passed its CRC (PEC), and no packet had an
    inconsistent length.
    """),
    code('''
    for name, tp in processors.items():
        st = tp.summary()
        mine = continuity.loc[name]
        assert {vc: int(n) for vc, n in mine.gaps.items()} == {vc: st.vc_counter_gaps[vc] for vc in mine.index}
        assert {vc: int(n) for vc, n in mine.frames_missing.items()} == \\
            {vc: st.vc_frames_missing[vc] for vc in mine.index}
        print(f"{name}: counter gaps agree; {st.packets_lost} packets lost at gaps, "
              f"{st.length_mismatches} length mismatches, {st.pec_failures} PEC failures")
    assert pus.pec_ok.all()
    '''),
    md("""
    ## 4. Housekeeping: APID 260, PUS 3/25

    PUS service 3 subtype 25 is the *housekeeping parameter report*: the spacecraft's periodic
    health data. On Hera they come from APID 260 and make up most of the packets. Their time is
    the **on-board time** (OBT, seconds of the spacecraft clock, from the packet's CUC time
    stamp); relating it to UTC needs the time correlation, which is not in the frames.

    Real-time reports (VC 1) carry the current OBT; the replayed ones (VC 3, high-rate file)
    were stored on board earlier, so their OBT goes back hours.
    """),
    code('''
    hk = packets[(packets.apid == 260) & (packets.pus_service == 3) & (packets.pus_subtype == 25)].copy()
    print(f"{len(hk)} housekeeping reports; OBT {hk.obt_s.min():.1f} .. {hk.obt_s.max():.1f} s; "
          f"{hk.length.nunique()} different lengths (report structures), {hk.length.min()}..{hk.length.max()} octets")
    hk.groupby(["file", "vcid"]).agg(reports=("obt_s", "size"), first_obt_s=("obt_s", "min"),
                                     last_obt_s=("obt_s", "max"), octets=("length", "sum"))
    '''),
    md("""
    On-board time and UTC: each file name gives the UTC time its recording started, and the
    first real-time report of the file carries the on-board time of about that moment. Their
    difference (the UTC time at which the on-board clock read zero) should be the same for all
    three passes, within the few seconds between the start of a recording and its first
    decoded frame.
    """),
    code('''
    from datetime import datetime, timezone

    rows = []
    for name in frames_by_file:
        start = datetime.strptime(name[-22:-3], "%Y_%m_%d_%H_%M_%S").replace(tzinfo=timezone.utc)
        first_obt = hk[(hk.file == name) & (hk.vcid == 1)].obt_s.min()
        rows.append({"file": name, "recording_start_utc": start.strftime("%H:%M:%S"),
                     "first_real_time_obt_s": round(first_obt, 1), "utc_minus_obt_s": start.timestamp() - first_obt})
    epochs = pd.DataFrame(rows)
    # the UTC time at which the on-board clock read 0, and how much the three estimates differ
    epochs["obt_zero_utc"] = pd.to_datetime(epochs.utc_minus_obt_s, unit="s").dt.round("100ms")
    epochs["vs_mean_s"] = (epochs.utc_minus_obt_s - epochs.utc_minus_obt_s.mean()).round(1)
    epochs.drop(columns="utc_minus_obt_s")
    '''),
    md("""
    Reports and octets per minute of on-board time, per virtual channel. Real-time VC 1 shows
    when each pass was received, on the spacecraft clock: the two low-rate files near 9.3–9.5 h,
    the high-rate file from 10.0 h on (with gaps where frames were lost); the replay on VC 3,
    sent during the high-rate pass, brings down older periods (7.7–9.4 h) in bursts.
    """),
    code('''
    hk["obt_min"] = (hk.obt_s // 60).astype(int) * 60
    per_min = hk.groupby(["vcid", "obt_min"]).agg(reports=("length", "size"), octets=("length", "sum")).reset_index()

    fig, (ax1, ax2) = plt.subplots(2, 1, sharex=True, figsize=(10, 5.5), layout="constrained")
    for vc, color in ((1, "tab:blue"), (3, "tab:green")):
        sel = per_min[per_min.vcid == vc]
        ax1.bar(sel.obt_min / 3600, sel.reports, width=60 / 3600, color=color, label=f"VC{vc} {HERA.vc_name(vc)}")
        ax2.bar(sel.obt_min / 3600, sel.octets / 1e3, width=60 / 3600, color=color)
    ax1.set_ylabel("reports per minute")
    ax1.set_title("housekeeping reports (APID 260, PUS 3/25) by on-board time")
    ax1.legend()
    ax2.set_ylabel("kB per minute")
    ax2.set_xlabel("on-board time (hours)")
    for ax in (ax1, ax2):
        ax.grid(alpha=0.3)
    '''),
    md("""
    Zoom on the real-time stream of the high-rate pass: when does each report structure (told
    apart here by its length) come, and how often? The table gives the median interval
    between reports of the same length: the housekeeping cadence.
    """),
    code('''
    high_name = next(name for name in frames_by_file if "high" in name)
    rt = hk[(hk.file == high_name) & (hk.vcid == 1)]
    period = rt.groupby("length").obt_s.agg(reports="size", median_interval_s=lambda s: np.median(np.diff(s)) if s.size > 1 else np.nan)
    fig, ax = plt.subplots(figsize=(10, 4), layout="constrained")
    ax.scatter(rt.obt_s - rt.obt_s.min(), rt.length, s=10, c=rt.message_counter, cmap="viridis")
    ax.set_xlabel(f"on-board time − {rt.obt_s.min():.1f} s")
    ax.set_ylabel("report length (octets)")
    ax.set_title(f"{high_name}: real-time housekeeping reports (colour: message counter)")
    ax.grid(alpha=0.3)
    period.sort_values("reports", ascending=False).head(10)
    '''),
    md("""
    The packet itself is in `data_hex` (primary header, 13-octet PUS-C secondary header,
    parameters, 2-octet PEC). Decoding the parameters needs Hera's housekeeping definitions
    (the mission database), which are not public; the headers and the statistics above are
    what the CCSDS and ECSS standards give.

    `heradecode frames recordings/hera/*.u8 --out products/` writes all of this as
    `packets.csv`, `vc<N>.u8` and `summary.json`.
    """),
    code('''
    example = hk.iloc[0]
    raw = bytes.fromhex(example.data_hex)
    print(f"APID {example.apid}, sequence count {example.sequence_count}, {example.length} octets, OBT {example.obt_s:.6f} s")
    print("primary header  ", raw[:6].hex(" "))
    print("PUS-C header    ", raw[6:19].hex(" "))
    print("parameters (1st)", raw[19:43].hex(" "), "…")
    print("PEC             ", raw[-2:].hex(" "))
    '''),
]

NOTEBOOKS = {
    "01_decode_a_recording.ipynb": NB01,
    "02_doppler.ipynb": NB02,
    "03_telemetry.ipynb": NB03,
}


def build(cells: list[tuple[str, str]], prefix: str) -> nbformat.NotebookNode:
    """A v4 notebook with fixed cell ids, no outputs and no execution counts."""
    nb = new_notebook(metadata=METADATA)
    for i, (kind, source) in enumerate(cells):
        cell = new_markdown_cell(source) if kind == "markdown" else new_code_cell(source)
        cell["id"] = f"{prefix}-{i:02d}"
        nb.cells.append(cell)
    nbformat.validate(nb)
    return nb


def render(name: str) -> str:
    """The file text of one notebook."""
    text = nbformat.writes(build(NOTEBOOKS[name], "nb" + name[:2]))
    return text if text.endswith("\n") else text + "\n"


def main(argv: list[str] | None = None) -> int:
    """Write (or, with --check, compare) every notebook."""
    ap = argparse.ArgumentParser(description="write the heradecode notebooks without outputs")
    ap.add_argument("--out-dir", type=Path, default=HERE, help="where to write them (default: beside this script)")
    ap.add_argument("--check", action="store_true", help="only compare with the files in --out-dir; exit 1 on a difference")
    args = ap.parse_args(argv)
    different = []
    for name in NOTEBOOKS:
        text = render(name)
        path = args.out_dir / name
        if args.check:
            if not path.is_file() or path.read_text(encoding="utf-8") != text:
                different.append(name)
            continue
        args.out_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path}")
    if different:
        print("differ from make_notebooks.py (rerun it): " + ", ".join(different), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
