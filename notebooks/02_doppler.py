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
# # 02 · Doppler: the profile, the carrier tracked, the residuals
#
# A deep-space carrier arrives shifted by the Doppler effect: on Hera's launch day, at X band,
# by tens of kHz, changing by tens of Hz per second. The receiver removes a predicted
# **Doppler profile** and its phase-locked loop tracks what is left. The carrier it actually
# tracked, minus the prediction, is the **residual**: it shows how good the prediction was,
# and is a measurement in its own right (a frequency offset, an ephemeris error).
#
# This notebook:
#
# 1. reads the launch-day profile `recordings/hera/hera_doppler.txt` and plots it against UTC;
# 2. decodes `recordings/sim/hera_low_sim.sigmf-meta` (3 s, low rate, 5 real frames, with a
#    +1.5 kHz offset added on top of the launch-day Doppler) and plots the carrier the PLL
#    tracked against the profile;
# 3. computes the residuals, corrects the profile with them and decodes again;
# 4. shows the same with the command line products (`carrier.csv`, `residuals.csv`);
# 5. optionally predicts the Doppler from SPICE kernels, if you have Hera's trajectory kernel.

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

RECORDING = REPO / "recordings" / "sim" / "hera_low_sim.sigmf-meta"
TRUTH = REPO / "recordings" / "sim" / "hera_low_sim.truth.json"
DOPPLER = REPO / "recordings" / "hera" / "hera_doppler.txt"

# %% [markdown]
# ## 1. The Doppler profile
#
# One `unix_time hz` pair per line (the format gr-satellites reads): the received carrier
# minus the nominal downlink frequency (8435.75 MHz), positive when the spacecraft
# approaches. `read_doppler_profile` returns a `DopplerProfile`, interpolated linearly
# between its points.

# %%
from heradecode.io.dopplerfile import read_doppler_profile

doppler = read_doppler_profile(DOPPLER)
t_utc = (doppler.unix_time * 1e6).astype("datetime64[us]")
rate_hz_s = np.gradient(doppler.freq_hz, doppler.unix_time)
print(f"{doppler.unix_time.size} points from {t_utc[0]} to {t_utc[-1]} UTC, "
      f"step {np.median(np.diff(doppler.unix_time)):.1f} s")
print(f"Doppler {doppler.freq_hz.min() / 1e3:+.2f} .. {doppler.freq_hz.max() / 1e3:+.2f} kHz, "
      f"rate {rate_hz_s.min():+.2f} .. {rate_hz_s.max():+.2f} Hz/s")

# %% [markdown]
# The real frames in `recordings/hera/` were decoded from ATA recordings made during this
# pass; their file names give the UTC start. The archived simulations reuse the profile at
# those times.

# %%
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

# %% [markdown]
# ## 2. Decode and track the carrier
#
# The `Receiver` removes the profile, searches ±25 kHz for the residual carrier and locks its
# PLL. `pop_track()` returns the carrier it tracked, one row per 10 ms: the **received**
# carrier frequency minus the nominal downlink (`doppler_hz`, directly comparable with the
# profile), the carrier phase, C/N0 and the lock flag.

# %%
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

# %% [markdown]
# `heradecode.plot.plot_carrier_track` draws the tracked carrier against the profile, with
# C/N0 and lock, from a `CarrierObservable` (what `heradecode decode` writes as
# `carrier.csv`, on 1 s points). `carrier_points` averages the 10 ms rows; with only 3 s
# here we average to 0.1 s. The carrier lies 1.5 kHz above the profile and follows its
# slope of about −50 Hz/s.

# %%
from heradecode.plot import plot_carrier_track
from heradecode.products.carrier import carrier_points

carrier = carrier_points(track, step_s=0.1)
plot_carrier_track(carrier, doppler_profile=doppler)

# %% [markdown]
# ## 3. Residuals
#
# `compute_residuals` interpolates the prediction onto the carrier's times and subtracts it
# (this is what `heradecode residuals` does). The mean is the offset the prediction missed;
# the scatter is the PLL's frequency noise. The simulator's truth file says which offset it
# added.

# %%
import json

from heradecode.products.carrier import compute_residuals
from heradecode.plot import plot_residuals

res = compute_residuals(carrier, doppler)
truth_offset_hz = json.loads(TRUTH.read_text())["params"]["carrier_offset_hz"]
print(f"residual on {res.n_locked} locked points: mean {res.mean_hz():+.2f} Hz, std {res.std_hz():.2f} Hz; "
      f"the simulation added {truth_offset_hz:+.1f} Hz")
assert abs(res.mean_hz() - truth_offset_hz) < 5.0
plot_residuals(res, title="tracked carrier minus the launch-day profile")

# %% [markdown]
# Feed the measurement back: shift the profile by the mean residual (`DopplerProfile.shifted`)
# and decode again. The carrier is now found near 0 Hz, the frames are the same, and the
# residual is centred on zero.

# %%
corrected = doppler.shifted(res.mean_hz())
rx2 = Receiver(rec, config, doppler=corrected)
decoded2 = list(rx2.run())
res2 = compute_residuals(carrier_points(rx2.pop_track(), step_s=0.1), corrected)
print(f"carrier found at {rx2.acquisition.freq_hz:+.1f} Hz from the corrected profile; "
      f"residual mean {res2.mean_hz():+.2f} Hz, std {res2.std_hz():.2f} Hz")
assert [cb.frame for cb in decoded2 if cb.crc_ok] == [cb.frame for cb in decoded if cb.crc_ok]
assert abs(res2.mean_hz()) < 5.0

# %% [markdown]
# ## 4. The same from the command line
#
# `heradecode decode … --doppler FILE --out DIR` writes `carrier.csv` (1 s points),
# `residuals.csv` and `doppler_residuals.png` among its products, and
# `heradecode residuals DIR --doppler OTHER_FILE` (or `--kernels …`) compares a decode with
# another prediction later. The CLI can be called from Python too:

# %%
import tempfile

from heradecode.cli import main as heradecode

with tempfile.TemporaryDirectory() as tmp:
    out = Path(tmp) / "decoded"
    status = heradecode(["decode", str(RECORDING), "--mode", "low", "--doppler", str(DOPPLER),
                         "--out", str(out), "--quiet"])
    print("exit status", status, "| products:", ", ".join(sorted(p.name for p in out.iterdir())))
    residuals_csv = pd.read_csv(out / "residuals.csv")
residuals_csv

# %% [markdown]
# ## 5. Optional: a prediction from Hera's trajectory (SPICE)
#
# `heradecode.ephem.predict` computes one-, two- or three-way Doppler, light-time corrected,
# from SPICE kernels (or JPL HORIZONS). The generic kernels (leap seconds, Earth orientation,
# planets) come with heradecode's dependencies; Hera's trajectory (`hera_fcp_*.bsp`) comes from
# the ESA SPICE Service (see `kernels/README.md`). Set `HERADECODE_KERNELS` to it before
# starting Jupyter to run this cell; without it the cell only says so. Which stations and
# which mode to use depends on how the link was set up that day (here: received at the ATA,
# uplink from DSN DSS-24, i.e. three-way).

# %%
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
