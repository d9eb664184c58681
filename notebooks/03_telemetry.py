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
# # 03 · Telemetry: frames, packets and housekeeping in pandas
#
# The three files in `recordings/hera/` hold real TM transfer frames received from Hera on
# its launch day, 2024-10-07 (1113 octets each: the frame without its CRC, as gr-satellites
# writes them): two at the low rate from 16:24 and 16:25 UTC, one at the high rate from
# 17:06 UTC. This notebook looks at them as a radio amateur or researcher would:
#
# 1. the frames as a table: virtual channels, counters;
# 2. virtual channel statistics and frame-counter continuity (where frames were lost);
# 3. the space packets reassembled from them, with their ECSS PUS-C headers, as a DataFrame;
# 4. housekeeping reports (APID 260, PUS service 3 subtype 25) over on-board time.

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

FRAME_FILES = sorted((REPO / "recordings" / "hera").glob("*.u8"))
for path in FRAME_FILES:
    print(f"{path.name:50s} {path.stat().st_size:>9} octets = {path.stat().st_size // 1113} frames")

# %% [markdown]
# ## 1. Frames
#
# `read_frames` parses every frame of a file into a `TMFrame` (spacecraft ID, virtual channel,
# master- and virtual-channel frame counters, first header pointer, operational control
# field with the CLCW, the data field). Hera's virtual channels: 1 real-time telemetry,
# 3 replay of stored telemetry, 7 idle.

# %%
from heradecode.ccsds import HERA, read_frames

frames_by_file = {path.name: read_frames(path) for path in FRAME_FILES}
frames = pd.DataFrame([
    {"file": name, "index": f.index, "scid": f.scid, "vcid": f.vcid, "vc": HERA.vc_name(f.vcid),
     "mc_count": f.mc_count, "vc_count": f.vc_count, "first_header_pointer": f.first_header_pointer,
     "clcw_report": f.clcw.report_value if f.clcw else None}
    for name, fs in frames_by_file.items() for f in fs
])
frames.head(10)

# %% [markdown]
# ## 2. Virtual channel statistics
#
# Every frame carries Hera's spacecraft ID 181 (0xB5). The high-rate pass carries replayed
# telemetry on VC 3 alongside the real-time VC 1.

# %%
print("spacecraft IDs:", frames.scid.value_counts().to_dict())
per_vc = pd.crosstab(frames.file, frames.vcid.map(lambda v: f"VC{v} {HERA.vc_name(v)}"), margins=True)
per_vc

# %%
ax = per_vc.drop(index="All", columns="All").rename_axis(columns="virtual channel").plot.barh(stacked=True, figsize=(9, 3),
                                                      color=["tab:blue", "tab:green", "tab:gray"])
ax.set_xlabel("frames")
ax.set_ylabel("")
ax.set_title("frames per virtual channel")
ax.grid(alpha=0.3, axis="x")


# %% [markdown]
# ### Frame counter continuity
#
# The master channel count (all frames) and each virtual channel's count are 8-bit
# counters that wrap at 256. A step of more than one between consecutive frames of the same
# channel means frames were lost in between (not received, or not decoded): `(count − previous
# − 1) mod 256` of them. The library's `VirtualChannelDemux` (used by the
# `TelemetryProcessor` below) counts the same gaps; the check at the end compares them.

# %%
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

# %%
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

# %% [markdown]
# ## 3. Packets as a DataFrame
#
# `TelemetryProcessor` is what `heradecode frames` and `heradecode decode` use: fed one frame
# at a time, in reception order (as a live decoder would), it splits the virtual channels,
# reassembles the space packets (CCSDS 133.0-B: starting at the first header pointer,
# carried across frames, discarded when they span a counter gap), and labels them: PUS-C
# telemetry (service, subtype, message counter, destination, on-board time, packet error
# control check), CCSDS time packets (APID 0), idle packets (APID 2047). With
# `keep_packets=True` it keeps them for `dataframe()`.
#
# The files are separate passes, so each gets its own processor.

# %%
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

# %%
print(processors["hera_low_rate_frames_2024_10_07_16_24_20.u8"].summary().format_text())

# %%
pd.crosstab([packets.apid, packets.kind], packets.file, margins=True)

# %%
pus = packets[packets.kind == "pus"]
pd.crosstab([pus.pus_service, pus.pus_subtype], pus.file, margins=True)

# %% [markdown]
# Cross-check with the library's own counters: the gaps found above equal those of the
# `VirtualChannelDemux`, every PUS packet passed its CRC (PEC), and no packet had an
# inconsistent length.

# %%
for name, tp in processors.items():
    st = tp.summary()
    mine = continuity.loc[name]
    assert {vc: int(n) for vc, n in mine.gaps.items()} == {vc: st.vc_counter_gaps[vc] for vc in mine.index}
    assert {vc: int(n) for vc, n in mine.frames_missing.items()} == \
        {vc: st.vc_frames_missing[vc] for vc in mine.index}
    print(f"{name}: counter gaps agree; {st.packets_lost} packets lost at gaps, "
          f"{st.length_mismatches} length mismatches, {st.pec_failures} PEC failures")
assert pus.pec_ok.all()

# %% [markdown]
# ## 4. Housekeeping: APID 260, PUS 3/25
#
# PUS service 3 subtype 25 is the *housekeeping parameter report*: the spacecraft's periodic
# health data. On Hera they come from APID 260 and make up most of the packets. Their time is
# the **on-board time** (OBT, seconds of the spacecraft clock, from the packet's CUC time
# stamp); relating it to UTC needs the time correlation, which is not in the frames.
#
# Real-time reports (VC 1) carry the current OBT; the replayed ones (VC 3, high-rate file)
# were stored on board earlier, so their OBT goes back hours.

# %%
hk = packets[(packets.apid == 260) & (packets.pus_service == 3) & (packets.pus_subtype == 25)].copy()
print(f"{len(hk)} housekeeping reports; OBT {hk.obt_s.min():.1f} .. {hk.obt_s.max():.1f} s; "
      f"{hk.length.nunique()} different lengths (report structures), {hk.length.min()}..{hk.length.max()} octets")
hk.groupby(["file", "vcid"]).agg(reports=("obt_s", "size"), first_obt_s=("obt_s", "min"),
                                 last_obt_s=("obt_s", "max"), octets=("length", "sum"))

# %% [markdown]
# On-board time and UTC: each file name gives the UTC time its recording started, and the
# first real-time report of the file carries the on-board time of about that moment. Their
# difference (the UTC time at which the on-board clock read zero) should be the same for all
# three passes, within the few seconds between the start of a recording and its first
# decoded frame.

# %%
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

# %% [markdown]
# Reports and octets per minute of on-board time, per virtual channel. Real-time VC 1 shows
# when each pass was received, on the spacecraft clock: the two low-rate files near 9.3–9.5 h,
# the high-rate file from 10.0 h on (with gaps where frames were lost); the replay on VC 3,
# sent during the high-rate pass, brings down older periods (7.7–9.4 h) in bursts.

# %%
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

# %% [markdown]
# Zoom on the real-time stream of the high-rate pass: when does each report structure (told
# apart here by its length) come, and how often? The table gives the median interval
# between reports of the same length: the housekeeping cadence.

# %%
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

# %% [markdown]
# The packet itself is in `data_hex` (primary header, 13-octet PUS-C secondary header,
# parameters, 2-octet PEC). Decoding the parameters needs Hera's housekeeping definitions
# (the mission database), which are not public; the headers and the statistics above are
# what the CCSDS and ECSS standards give.
#
# `heradecode frames recordings/hera/*.u8 --out products/` writes all of this as
# `packets.csv`, `vc<N>.u8` and `summary.json`.

# %%
example = hk.iloc[0]
raw = bytes.fromhex(example.data_hex)
print(f"APID {example.apid}, sequence count {example.sequence_count}, {example.length} octets, OBT {example.obt_s:.6f} s")
print("primary header  ", raw[:6].hex(" "))
print("PUS-C header    ", raw[6:19].hex(" "))
print("parameters (1st)", raw[19:43].hex(" "), "…")
print("PEC             ", raw[-2:].hex(" "))
