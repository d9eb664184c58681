# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 01 · Decode a recording, stage by stage
#
# This notebook takes an IQ recording of Hera's X-band downlink and turns it into CCSDS
# telemetry frames, one receiver stage at a time, so that you can look at what each stage
# does: the spectrum, the Doppler removal, the carrier search, the combining of the two
# polarizations, the carrier loop, the bi-phase-L soft symbols, the sync markers, the turbo
# decoder and finally the frames. At the end the same decode is done in one call, and both
# are checked against the frames the recording is known to carry.
#
# The recording is `recordings/sim/hera_high_sim_0x.sigmf-meta` (with its `_0y` partner): a
# simulated Allen-Telescope-Array-style capture, 0.96 s at 1.536 Msps, of eight **real** Hera
# frames at the high rate (322.56 kbaud), with the launch-day Doppler, a −20 kHz tuning
# offset, a rotating polarization, a short fade and an Eb/N0 of 5 dB. Its
# `hera_high_sim.golden.txt` lists the frames a correct decoder must return.
#
# Run the cells from top to bottom (*Run → Run All Cells*); the whole notebook takes a few
# seconds (the first run on a machine compiles the numba kernels, ~10–20 s more).

# %%
# %matplotlib inline
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd


# the repository (for its bundled data): the first folder upwards from where Jupyter runs with pyproject.toml
REPO = next((p for p in (Path.cwd().resolve(), *Path.cwd().resolve().parents)
             if (p / "pyproject.toml").is_file() and (p / "recordings").is_dir()), None)
assert REPO is not None, "no heradecode checkout above the working directory: start Jupyter inside the repository"
pd.set_option("display.width", 140)
print("repository:", REPO)

RECORDING = REPO / "recordings" / "sim" / "hera_high_sim_0x.sigmf-meta"
GOLDEN = REPO / "recordings" / "sim" / "hera_high_sim.golden.txt"
DOPPLER = REPO / "recordings" / "hera" / "hera_doppler.txt"

# %% [markdown]
# ## 1. Open the recording
#
# `open_recording` reads SigMF metadata and gives a `Recording`: channels (X and Y
# polarizations), sample rate, centre frequency and the UTC time of every sample. A lone
# `…_0x` recording is paired with the `…_0y` file beside it, as ATA captures come.

# %%
from heradecode.io import open_recording

rec = open_recording(RECORDING)
rec

# %%
print(f"files            {', '.join(p.name for p in rec.paths)}")
print(f"channels         {rec.num_channels} ({' and '.join(rec.channel_names)} polarizations), {rec.datatype}")
print(f"sample rate      {rec.samp_rate / 1e6:g} Msps")
print(f"centre frequency {rec.center_freq_hz / 1e6:.6f} MHz")
print(f"start (UTC)      {rec.start_time}")
print(f"duration         {rec.duration_s:.3f} s = {rec.num_samples} samples per channel")
print(f"description      {rec.metadata.get('core:description')}")

# %% [markdown]
# The simulator annotated each codeblock it sent (SigMF annotations): that is the truth we
# will compare with.

# %%
pd.DataFrame([(a.start_sample, a.num_samples, a.label, a.comment) for a in rec.annotations],
             columns=["start_sample", "num_samples", "label", "comment"])

# %% [markdown]
# ## 2. Look at it
#
# `heradecode.plot.plot_spectrum` draws a waterfall per polarization and the averaged power
# spectral density. Given the Doppler profile it marks where the profile alone puts the
# carrier, and given the symbol rate the two maxima of the bi-phase-L data sidebands
# (carrier ± 0.742 × symbol rate). The residual carrier is the sharp line; here it sits
# 20 kHz below the profile's mark because the simulation added a −20 kHz offset (as a
# mistuned receiver or an imperfect prediction would).

# %%
from heradecode.io.dopplerfile import read_doppler_profile
from heradecode.plot import plot_spectrum
from heradecode.receiver import SYMBOL_RATES

doppler = read_doppler_profile(DOPPLER)
symbol_rate = SYMBOL_RATES["high"]  # baud
plot_spectrum(rec, doppler_profile=doppler, symbol_rate=symbol_rate)

# %% [markdown]
# Zoomed to ±3 kHz around the strongest line, with finer FFTs: the carrier and how its power
# splits between X and Y (the polarization angle is about 70° from X).

# %%
plot_spectrum(rec, zoom_hz=3e3)

# %% [markdown]
# ## 3. The Doppler profile
#
# `recordings/hera/hera_doppler.txt` holds one `unix_time hz` pair per second: the received
# carrier's offset from the nominal downlink frequency (8435.75 MHz for Hera), positive when
# the spacecraft approaches. Notebook 02 looks at it in detail.

# %%
t0 = rec.sample_unix_time(0)  # UNIX time (s) of the first sample
print(f"profile: {doppler.unix_time.size} points, covers the recording: {doppler.covers(t0, t0 + rec.duration_s)}")
print(f"Doppler at the start of the recording: {float(doppler.freq_at(t0)):+.1f} Hz, "
      f"rate {float(doppler.freq_at(t0 + 1) - doppler.freq_at(t0)):+.2f} Hz/s")

# %% [markdown]
# ## 4. Plan the receiver
#
# These are the choices `heradecode.receiver.Receiver` makes when it is created; `plan_front_end`
# returns them:
#
# * where the carrier is expected: the nominal downlink minus the recording's centre
#   frequency, plus the receiver offset the recording states in its metadata
#   (`heradecode:carrier_offset_hz`, here the −20 kHz LO offset of the simulation), plus the
#   Doppler profile (`offset_hz`);
# * where it really is: `find_carrier` searches ±100 kHz around that prediction in the raw
#   recording (drift rates up to ±60 Hz/s; the whole band when there is no Doppler profile)
#   and corrects the prediction by the frequency and rate found (`carrier_model`); a fix far
#   from the prediction is reported in one warning;
# * a coarse frequency shift before filtering, only when that expected carrier lies far from
#   the centre (so that the carrier search plus a margin no longer fits within ±60 kHz);
# * a power-of-two decimation that keeps a few samples per symbol and loses at most 0.35 dB of
#   the Manchester spectrum (`mode_decimation`).
#
# The archived recordings were made at a rate the receiver uses as it is (factor 1); a
# 6.144 Msps ATA recording would be decimated by 2 (high rate) or 8 (low rate).

# %%
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

# %% [markdown]
# ## 5. Read, shift and decimate
#
# `rec.read()` returns complex64 samples shaped `(channels, n)`. Every stage below keeps its
# state across calls, so a live receiver feeds them chunk by chunk (the `Receiver` uses
# 0.1 s chunks); for one second of signal we simply pass whole arrays. `Nco` shifts in
# frequency phase-continuously; `Decimator` is a cascade of half-band and polyphase FIR
# filters whose `flush()` emits the last outputs.

# %%
from heradecode.dsp.decimate import Decimator
from heradecode.dsp.nco import Nco

x = rec.read(0, rec.num_samples)
print(x.shape, x.dtype, f"{x.nbytes / 1e6:.0f} MB")
if pre_shift_hz:
    x = Nco(fs, offset_hz=pre_shift_hz, start_unix_s=t0).process(x)
if factor > 1:
    decimator = Decimator(fs, factor, passband_hz=passband_hz)
    y = np.concatenate([decimator.process(x), decimator.flush()], axis=1)
    print(f"decimator: {decimator.n_taps} taps per stage")
else:
    y = x
    print("no decimation needed at this sample rate")

# %% [markdown]
# ## 6. Remove the Doppler
#
# The `Nco` removes the corrected Doppler profile (interpolated between its 1 s points and
# integrated to a phase, so there are no phase jumps) plus the expected carrier offset.
# Afterwards the carrier sits within a few hertz of 0 Hz; the fine search below measures it.

# %%
nco = Nco(fs_d, doppler=model, offset_hz=offset_hz - pre_shift_hz, start_unix_s=t0)
y = nco.process(y)
print(f"frequency removed at the first sample: {float(nco.freq_hz(0)):+.1f} Hz")

# %% [markdown]
# ## 7. Find the carrier
#
# `CarrierAcquirer` averages FFT power spectra of both channels over the first 0.25 s, each
# normalised by its own local noise floor, and looks for a line within ±25 kHz. The
# threshold follows from the statistics of noise alone for a false-alarm probability of
# 1e-6 over the whole search. The result gives the frequency, the carrier-to-noise density
# C/N0 and the complex carrier gain in each channel (which seeds the combiner).

# %%
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

# %% [markdown]
# ## 8. Combine the polarizations
#
# The ATA feeds are linear, X and Y; how the signal's power splits between them depends on
# its polarization and on the geometry, which changes during a pass. `PolCombiner`
# estimates each channel's carrier gain and noise on the 1 ms carrier sums and combines X
# and Y with maximal-ratio weights (`w = conj(g) / noise`): no signal energy is wasted
# whatever the angle. With equal noise
# in both channels, the weights' magnitudes give the polarization angle: the simulation
# started at 70° and turned by −3°/s (the weights average over about a second).
#
# In the receiver, which works chunk by chunk, the PLL's frequency is also handed back to the
# combiner after each chunk; the combiner's own frequency tracking is ample for one second.

# %%
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

# %% [markdown]
# ## 9. Lock onto the carrier
#
# `CarrierPll` is a third-order phase-locked loop of 15 Hz noise bandwidth: it follows the
# residual Doppler (a frequency ramp) with no steady phase error, measures C/N0, reports
# lock, and re-acquires after a fade. As in the `Receiver`, the stream is first rotated by
# the carrier phase measured on its first 20 ms, so the loop starts phase-aligned.
#
# Its output has the carrier on the positive real axis and the phase-modulated data on the
# imaginary axis (PM with modulation index 1.1 rad: `exp(j·m·d(t))`). At this signal-to-noise
# ratio (per sample, ~4.8 samples per symbol) the constellation is mostly noise: the residual
# carrier shows as the mean offset along I; the data stand out only after the matched filter
# of the next step.

# %%
from heradecode.dsp.pll import CarrierPll, carrier_phase_derotation

derotate = carrier_phase_derotation(z, acq.freq_hz, fs_d)  # the carrier's phase over the first 20 ms, undone
pll = CarrierPll(fs_d, acq.freq_hz, bandwidth_hz=15.0, order=3, start_unix_s=t0,
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

# %%
from heradecode.plot import plot_soft_symbols

plot_soft_symbols(zc, title="PLL output: I/Q constellation (carrier on I, PM data on Q)")

# %% [markdown]
# ## 10. Soft symbols
#
# `BiphaseDemodulator` correlates the Q arm with the whole (+1, −1) Manchester chip pair
# (a matched filter using all the symbol's energy), recovers the symbol timing (it follows
# the −20 ppm clock offset of the simulation plus the Doppler on the symbol rate) and turns
# each symbol into a log-likelihood ratio **L = ln P(bit 0)/P(bit 1)**: positive means bit 0,
# the convention used everywhere in heradecode. The noise is measured on the I arm.
#
# The receiver then clips the LLRs at ±64 and turns symbols into erasures (0) where the
# running Es/N0 falls below −12 dB, i.e. where the demodulator sees a bare carrier: bursts of
# meaningless LLRs there could imitate sync markers.
#
# The histogram of a BPSK-like stream is two Gaussian humps at ±a; at this signal-to-noise
# ratio they overlap into one. The legend gives the Es/N0 of a two-Gaussian fit next to the
# demodulator's own running estimate; the simulation's true value is −1.0 dB (Es/N0 per code
# symbol = Eb/N0 − 6.0 dB at rate 1/4). The turbo code works down to about −5.5 dB.

# %%
from heradecode.dsp.biphase import BiphaseDemodulator
from heradecode.dsp.demod import gate_llr  # the receiver's clipping and erasures

demod = BiphaseDemodulator(fs_d, symbol_rate)
sym = demod.process(zc)
llr = gate_llr(sym.llr, sym.esn0_db)
print(f"{len(sym)} symbols, Es/N0 {demod.esn0_db:.2f} dB, symbol rate {demod.symbol_rate_hz:.1f} baud "
      f"({demod.clock_offset_ppm:+.1f} ppm), erasures {np.count_nonzero(llr == 0)}")
plot_soft_symbols(llr, esn0_db=demod.esn0_db, title="soft symbols (LLR, positive = bit 0)")

# %% [markdown]
# ### Sections 5–10 in one object
#
# `plan.front_end()` builds the `heradecode.dsp.frontend.FrontEnd` this plan describes: the
# coarse shift, the decimator, the Doppler NCO and `heradecode.dsp.demod.PcmPmDemodulator`
# (carrier search, combiner, PLL started phase-aligned, bi-phase-L demodulator with the
# clipping and erasures, look-back), exactly as the `Receiver` and the GNU Radio demodulator
# block use them: raw samples in, LLRs and the carrier track out. It searches for the carrier
# once it holds 0.25 s of signal; fed the whole second at once, it searches all of it rather
# than the first 0.25 s, so it starts from a slightly different frequency and its LLRs differ
# a little from ours (the frames, checked below, do not).

# %%
front_end = plan.front_end(symbol_rate, t0)  # a heradecode.dsp.frontend.FrontEnd
out = front_end.process(rec.read(0, rec.num_samples))  # the raw recording in (sections 5-10), LLRs out
tail = front_end.flush()
llr_front_end = np.concatenate([out.llr, tail.llr])
print(f"{llr_front_end.size} LLRs (ours: {llr.size}), carrier at {front_end.demod.acquisition.freq_hz:+.1f} Hz, "
      f"Es/N0 {front_end.demod.esn0_db:.2f} dB, {out.track.size + tail.track.size} carrier track rows")

# %% [markdown]
# ## 11. Find the codeblocks
#
# Each turbo codeblock (8920 information bits plus 4 tail bits at rate 1/4 → 35 696 symbols) is preceded by a
# 128-symbol attached sync marker, `034776C7272895B0FCB88938D8D76A4F`. `FrameSync` correlates
# the soft stream with the whole marker, normalised by the local RMS, so the score is in
# noise sigmas. A strong peak (≥ 6σ) starts lock; then the next marker is expected exactly
# one period later. A negative peak means the stream is inverted (the bi-phase / PLL sign
# ambiguity) and the codeblock is sign-corrected.

# %%
from heradecode.fec.asm import FrameSync

framesync = FrameSync(k=8920, inv_rate=4)
blocks = framesync.feed(llr) + framesync.flush()
# the symbol positions are in decimated samples since the start: back to recording samples
starts = [int(round(plan.decimation.input_sample(sym.sample[b.asm_index]))) for b in blocks]
pd.DataFrame({"asm_symbol": [b.asm_index for b in blocks], "recording_sample": starts,
              "polarity": [b.polarity for b in blocks], "score_sigma": [round(b.score, 1) for b in blocks],
              "accepted_as": [b.reason for b in blocks]})

# %% [markdown]
# ## 12. Derandomize and turbo-decode
#
# Before transmission every codeblock was XORed with the CCSDS pseudo-random sequence; on
# soft values undoing it is a sign flip (`derandomize_llr`). The `TurboDecoder` (CCSDS
# 131.0-B, max-log-MAP, at most 10 iterations) stops early once the frame's CRC-16 passes;
# `decode_batch` takes all codeblocks at once.

# %%
from heradecode.fec.randomizer import derandomize_llr
from heradecode.fec.turbo import TurboDecoder

decoder = TurboDecoder(k=8920, inv_rate=4, max_iterations=10)
results = decoder.decode_batch(derandomize_llr(np.stack([b.soft for b in blocks])), workers=1)
pd.DataFrame({"recording_sample": starts, "iterations": [r.iterations for r in results],
              "crc_ok": [r.crc_ok for r in results]})

# %% [markdown]
# ## 13. The frames
#
# A decoded block is a 1115-octet TM transfer frame; like gr-satellites, heradecode keeps
# 1113 octets, without the 2-octet CRC (FECF) it has just checked. `parse_frame` reads the
# primary header: spacecraft ID (Hera: 181 = 0xB5), virtual channel (1 real time, 3 replay,
# 7 idle), the master- and virtual-channel frame counters, the first header pointer (where
# the first packet starts) and the CLCW in the operational control field.

# %%
import hashlib

from heradecode.ccsds import parse_frame

frames = [r.frame() for r in results if r.crc_ok]
parsed = [parse_frame(f, has_fecf=False, index=i) for i, f in enumerate(frames)]
pd.DataFrame({"scid": [f.scid for f in parsed], "vcid": [f.vcid for f in parsed],
              "vc_name": [HERA.vc_name(f.vcid) for f in parsed], "mc_count": [f.mc_count for f in parsed],
              "vc_count": [f.vc_count for f in parsed], "first_header_pointer": [f.first_header_pointer for f in parsed],
              "clcw_report": [f.clcw.report_value if f.clcw else None for f in parsed]})


# %% [markdown]
# Are these exactly the frames the simulator sent? The golden list holds the SHA-256 of
# each frame a correct decoder must return, in order.

# %%
def read_golden(path):
    """SHA-256 (hex) of each expected frame, in order."""
    lines = Path(path).read_text().splitlines()
    return [ln.split()[2] for ln in lines if ln.strip() and not ln.startswith("#")]


golden = read_golden(GOLDEN)
stage_by_stage = [hashlib.sha256(f).hexdigest() for f in frames]
print(f"stage by stage: {len(stage_by_stage)} frames; golden list: {len(golden)} frames")
assert stage_by_stage == golden, "the stage-by-stage decode differs from the golden list"
print("identical to the golden list")

# %% [markdown]
# ## 14. The same in one call
#
# `Receiver` runs all these stages chunk by chunk; `run()` is a generator that yields each
# codeblock (`DecodedCodeblock`: start sample, UTC time, polarity, sync score, Eb/N0
# estimate, iterations, CRC, and the frame when the CRC passed) as soon as it is decoded —
# the way a live display would use it. `pop_track()` returns the carrier track.
# `decode_recording` does the same for a whole recording, optionally on several processes.

# %%
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

# %%
one_call = [hashlib.sha256(cb.frame).hexdigest() for cb in decoded if cb.crc_ok]
from heradecode.ccsds.codeblock import CodeblockDecoder  # derandomize, decode, CRC, frame identity in one

sync2 = FrameSync(k=8920, inv_rate=4)
blocks2 = sync2.feed(llr_front_end) + sync2.flush()
front_end_frames = [hashlib.sha256(d.frame).hexdigest()
                    for d in CodeblockDecoder().decode_batch([b.soft for b in blocks2]) if d.crc_ok]
whole = [hashlib.sha256(cb.frame).hexdigest()
         for cbs, _track in decode_recording(rec, config, doppler=doppler) for cb in cbs if cb.crc_ok]
assert one_call == whole == front_end_frames == stage_by_stage == golden
print(f"Receiver.run(), decode_recording(), PcmPmDemodulator and the single stages give the same "
      f"{len(golden)} frames as the golden list")
print("start samples, stages vs Receiver:", list(zip(starts, [cb.start_sample for cb in decoded])))

# %% [markdown]
# The decode log as `heradecode decode` writes it (`decode.json`) can be built from the
# codeblocks, and drawn: Eb/N0 and turbo iterations per codeblock, and the frames per
# virtual channel over time.

# %%
from heradecode.plot import decode_log_from_dict, plot_codeblocks, plot_frames_timeline

log = decode_log_from_dict({"recording": rec.paths[0].name, "mode": config.mode, "symbol_rate": symbol_rate,
                            "samp_rate": rec.samp_rate, "codeblocks": [cb.to_dict() for cb in decoded]})
plot_codeblocks(log)

# %%
plot_frames_timeline(log)

# %% [markdown]
# ## Where next
#
# * `02_doppler.ipynb`: the Doppler profile, the carrier the PLL tracked, and the residuals.
# * `03_telemetry.ipynb`: the real launch-day frames as packets in pandas, housekeeping over
#   time, virtual channel statistics.
# * The command line does all of the above and writes the products:
#   `heradecode decode recordings/sim/hera_high_sim_0x.sigmf-meta --doppler recordings/hera/hera_doppler.txt --out out/ --plots`.
