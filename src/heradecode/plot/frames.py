"""Decode results over time: Eb/N0 and turbo iterations per codeblock, and frames per virtual channel."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from heradecode.ccsds.mission import HERA, MissionProfile
from heradecode.errors import UserError
from heradecode.plot._style import FAIL_COLOR, OK_COLOR, finish, new_figure, span_text, utc_axis, vc_color
from heradecode.products.decodelog import DecodeLog

NAMED_VCS = tuple(sorted(HERA.vc_names))  # Hera's named VCs (real time, replay, idle), from its profile
"""Virtual channels that always get a row in the frames timeline (Hera: real time, replay, idle)."""


def _need_codeblocks(decode: DecodeLog) -> None:
    if decode.num_codeblocks == 0:
        raise UserError(f"the decode log{' of ' + decode.recording if decode.recording else ''} holds no codeblocks")


def _subject(decode: DecodeLog) -> str:
    name = decode.recording
    for suffix in (".sigmf-data", ".sigmf-meta"):
        name = name[: -len(suffix)] if name.endswith(suffix) else name
    parts = [p for p in (name, f"{decode.mode} rate" if decode.mode else "") if p]
    if np.isfinite(decode.symbol_rate_baud):
        parts.append(f"{decode.symbol_rate_baud / 1e3:g} kBd")
    return ("\n" + ", ".join(parts)) if parts else ""


def plot_codeblocks(decode: DecodeLog, *, title: str | None = None, path: str | Path | None = None):
    """Eb/N0 (dB) per codeblock vs UTC coloured by CRC ok/failed, and turbo iterations used per codeblock."""
    _need_codeblocks(decode)
    t = decode.time_utc
    ok = decode.crc_ok
    fig = new_figure(10.0, 6.0)
    ax1, ax2 = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [1.6, 1.0]})
    n = decode.num_codeblocks
    ms = 4.0 if n < 300 else (2.5 if n < 2000 else 1.6)
    alpha = 1.0 if n < 300 else 0.6
    for mask, color, marker, name in ((ok, OK_COLOR, "o", "CRC ok"), (~ok, FAIL_COLOR, "x", "CRC failed")):
        if not mask.any():
            continue
        e = decode.ebn0_db[mask]
        med = np.nanmedian(e) if np.isfinite(e).any() else float("nan")
        ax1.plot(t[mask], e, marker, ls="none", ms=ms, color=color, mew=1.0, alpha=alpha,
                 label=f"{name}: {int(mask.sum())} codeblocks, median {med:.2f} dB")
        ax2.plot(t[mask], decode.iterations[mask], marker, ls="none", ms=ms, color=color, mew=1.0, alpha=alpha,
                 label=name)
    susp = decode.suspect & ok
    if susp.any():
        ax1.plot(t[susp], decode.ebn0_db[susp], "o", ms=8, mfc="none", mec="tab:orange", mew=1.2,
                 label=f"suspect frames: {int(susp.sum())}")
    ax1.set_ylabel("Eb/N0 estimate (dB)")
    ax1.grid(True, alpha=0.3)
    leg = ax1.legend(loc="lower left", bbox_to_anchor=(0.0, 1.01), ncol=3, fontsize=8, borderaxespad=0.0)
    for h in leg.legend_handles:
        h.set_alpha(1.0)
        h.set_markersize(6)
    it = decode.iterations[decode.iterations >= 0]
    if it.size:
        ax2.set_ylim(0, max(int(it.max()), 1) + 1)
        ax2.yaxis.get_major_locator().set_params(integer=True)
    ax2.margins(x=0.03)
    ax2.set_ylabel("turbo iterations")
    ax2.grid(True, alpha=0.3)
    ax2.set_title("decoder iterations used per codeblock", fontsize=10)
    utc_axis(ax2, t[0], t[-1])
    fig.suptitle(title or (f"Codeblocks {span_text(t[0], t[-1])}: {decode.num_ok} of {decode.num_codeblocks} "
                           "frames pass the CRC" + _subject(decode)))
    return finish(fig, path)


def plot_frames_timeline(decode: DecodeLog, *, title: str | None = None, path: str | Path | None = None,
                         mission: MissionProfile = HERA):
    """Decoded frames vs UTC as one marker row per virtual channel (named by the mission), CRC failures marked."""
    _need_codeblocks(decode)
    t = decode.time_utc
    ok = decode.crc_ok
    present = sorted(set(int(v) for v in decode.vcid[ok] if v >= 0))
    vcs = sorted(set(mission.vc_names) | set(present))  # the mission's named VCs always get a row
    rows = [("fail", None)] + [("vc", v) for v in vcs]  # failed codeblocks at the bottom
    height = round((1.6 + 0.45 * len(rows)) * 10) / 10
    fig = new_figure(10.0, max(3.6, height))
    ax = fig.add_subplot()
    labels = []
    for y, (kind, vc) in enumerate(rows):
        if kind == "fail":
            mask = ~ok
            name = "CRC failed"
            color, marker = FAIL_COLOR, "x"
        else:
            mask = ok & (decode.vcid == vc)
            name = f"VC{vc} {mission.vc_name(vc)}" if vc in mission.vc_names else f"VC{vc}"
            color, marker = vc_color(vc), "|"
        n = int(mask.sum())
        labels.append(f"{name} ({n})")
        if n:
            ax.plot(t[mask], np.full(n, y), marker, ls="none", color=color, ms=14 if marker == "|" else 7, mew=1.6)
            if kind == "vc":
                sus = mask & decode.suspect
                if sus.any():
                    ax.plot(t[sus], np.full(int(sus.sum()), y), "o", ls="none", mfc="none", mec="tab:orange",
                            ms=9, mew=1.2)
    other_scid = ok & (decode.scid >= 0) & (mission.scid is not None) & (decode.scid != mission.scid)
    ax.set_yticks(range(len(rows)), labels)
    ax.set_ylim(-0.7, len(rows) - 0.3)
    ax.set_ylabel("virtual channel (frames)")
    ax.grid(True, axis="x", alpha=0.3)
    for y in range(len(rows)):
        ax.axhline(y, color="0.85", lw=0.6, zorder=0)
    for tick, (kind, vc) in zip(ax.get_yticklabels(), rows):
        tick.set_color(FAIL_COLOR if kind == "fail" else vc_color(vc))
    utc_axis(ax, t[0], t[-1])
    pad = (t[-1] - t[0]) * 0.02 if t[-1] > t[0] else np.timedelta64(1, "s")
    ax.set_xlim(t[0] - pad, t[-1] + pad)
    extra = f", {int(other_scid.sum())} with SCID ≠ {mission.scid}" if other_scid.any() else ""
    n_susp = int((decode.suspect & ok).sum())
    if n_susp:
        extra += f", {n_susp} suspect (orange rings)"
    fig.suptitle(title or (f"Frames {span_text(t[0], t[-1])}: {decode.num_ok} decoded, "
                           f"{decode.num_failed} failed{extra}" + _subject(decode)))
    return finish(fig, path)
