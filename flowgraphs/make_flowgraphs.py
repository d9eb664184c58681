#!/usr/bin/env python3
"""Write hera_low_rate.grc and hera_high_rate.grc (GNU Radio Companion 3.10 flowgraphs).

The two receivers differ only in symbol rate and default recording, so they are written from
one description here; open and edit the .grc files in GNU Radio Companion as usual, and run
this script again only to regenerate them from scratch (``tests/gr`` checks they match).

Usage: python3 flowgraphs/make_flowgraphs.py [OUT_DIR]
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

FLOWGRAPHS = {
    "hera_low_rate": dict(title="Hera low-rate telemetry decoder (60.2375 kbaud)", symbol_rate="60237.5",
                          recording="recordings/sim/hera_low_sim.sigmf-meta"),
    "hera_high_rate": dict(title="Hera high-rate telemetry decoder (322.56 kbaud)", symbol_rate="322560",
                           recording="recordings/sim/hera_high_sim_0x.sigmf-meta"),
}

BIG = str(1 << 17)  # output buffer (items) of the full-rate Multiply blocks: ~20 ms at 6.144 Msps per call
DESCRIPTION = ("Headless heradecode receiver: SigMF recording -> Doppler removal (profile phasor x stock "
               "Multiply) -> bi-phase-L demodulator (X/Y combining, PLL, timing) -> soft ASM sync -> "
               "CCSDS turbo decoder -> TM sink writing frames, virtual channels and packets.")


def _q(value: str) -> str:
    """A YAML single-quoted scalar."""
    return "'" + str(value).replace("'", "''") + "'"


def _block(name: str, block_id: str, params: dict[str, str], xy: tuple[int, int]) -> str:
    lines = [f"- name: {name}", f"  id: {block_id}", "  parameters:"]
    if block_id not in ("variable", "parameter", "import"):
        params = {"affinity": "", "alias": "", "maxoutbuf": "0", "minoutbuf": "0", **params}
    params = {"comment": "", **params}
    lines += [f"    {k}: {_q(v)}" for k, v in sorted(params.items())]
    lines += ["  states:", f"    coordinate: [{xy[0]}, {xy[1]}]", "    rotation: 0", "    state: enabled"]
    return "\n".join(lines)


def flowgraph(name: str, title: str, symbol_rate: str, recording: str) -> str:
    """The .grc text of one receiver."""
    options = {
        "author": "heradecode", "category": "[GRC Hier Blocks]", "cmake_opt": "", "comment": "",
        "copyright": "", "description": DESCRIPTION, "gen_cmake": "On", "gen_linking": "dynamic",
        "generate_options": "no_gui", "hier_block_src_path": ".:", "id": name, "max_nouts": "0",
        "output_language": "python", "placement": "(0,0)", "qt_qss_theme": "", "realtime_scheduling": "",
        "run": "True", "run_command": "{python} -u {filename}", "run_options": "run", "sizing_mode": "fixed",
        "thread_safe_setters": "", "title": title, "window_size": "(1000,1000)",
    }
    head = ["options:", "  parameters:"] + [f"    {k}: {_q(v)}" for k, v in sorted(options.items())]
    head += ["  states:", "    coordinate: [8, 8]", "    rotation: 0", "    state: enabled", "", "blocks:"]
    param = dict(hide="none", type="str")
    blocks = [
        _block("recording", "parameter", dict(param, label="SigMF recording", short_id="r", value=recording),
               (200, 8)),
        _block("doppler", "parameter", dict(param, label="Doppler profile (unix_time hz)", short_id="d",
                                            value="recordings/hera/hera_doppler.txt"), (376, 8)),
        _block("out_dir", "parameter", dict(param, label="Output directory", short_id="o",
                                            value=f"out/{name}"), (552, 8)),
        _block("symbol_rate", "parameter", dict(hide="none", type="eng_float", label="Symbol rate (baud)",
                                                short_id="s", value=symbol_rate), (728, 8)),
        _block("imports", "import", {"imports": "import heradecode.ccsds.mission"},
               (8, 112)),
        _block("info", "variable", {"value": "heradecode.gr.recording_info(recording)"}, (200, 112)),
        _block("samp_rate", "variable", {"value": "info.samp_rate"}, (376, 112)),
        _block("offset_hz", "variable", {"value": "heradecode.ccsds.mission.HERA.downlink_freq_hz - info.center_freq_hz"}, (552, 112)),
        _block("source", "heradecode_sigmf_source",
               dict(recording="recording", channels="2", samp_rate="0", center_freq_hz="0", start_unix_time="0"),
               (8, 216)),
        _block("doppler_phasor", "heradecode_doppler_source",
               dict(samp_rate="samp_rate", start_unix_time="info.start_unix_time", profile="doppler",
                    offset_hz="offset_hz"), (8, 376)),
        _block("mix_x", "blocks_multiply_xx", dict(type="complex", num_inputs="2", vlen="1", minoutbuf=BIG),
               (280, 216)),
        _block("mix_y", "blocks_multiply_xx", dict(type="complex", num_inputs="2", vlen="1", minoutbuf=BIG),
               (280, 312)),
        _block("demod", "heradecode_biphase_demod",
               dict(samp_rate="samp_rate", symbol_rate="symbol_rate", channels="2", start_unix_time="0",
                    acq_window_hz="25e3", pll_bandwidth_hz="15", decimation="0"), (448, 240)),
        _block("sync", "heradecode_asm_sync", dict(k="8920", inv_rate="4", threshold="6.0", derandomize="True"),
               (696, 248)),
        _block("turbo", "heradecode_turbo_decoder",
               dict(k="8920", inv_rate="4", max_iterations="10", algorithm="linear-log-map", keep_fecf="False"),
               (904, 232)),
        _block("tm", "heradecode_tm_sink", dict(out_dir="out_dir", scid="0xB5", frame_length="1113"), (1128, 240)),
    ]
    connections = [
        ("source", "0", "mix_x", "0"), ("doppler_phasor", "0", "mix_x", "1"),
        ("source", "1", "mix_y", "0"), ("doppler_phasor", "0", "mix_y", "1"),
        ("mix_x", "0", "demod", "0"), ("mix_y", "0", "demod", "1"),
        ("demod", "0", "sync", "0"), ("sync", "codeblocks", "turbo", "in"),
        ("turbo", "out", "tm", "frames"), ("turbo", "failed", "tm", "failed"),
    ]
    conn = ["", "connections:"] + [f"- [{a}, {_q(b)}, {c}, {_q(d)}]" for a, b, c, d in connections]
    tail = ["", "metadata:", "  file_format: 1", "  grc_version: 3.10.5.1", ""]
    return "\n".join(head + blocks + conn + tail)


def main(argv: list[str]) -> int:
    out = Path(argv[0]) if argv else HERE
    out.mkdir(parents=True, exist_ok=True)
    for name, spec in FLOWGRAPHS.items():
        (out / f"{name}.grc").write_text(flowgraph(name, **spec), encoding="utf-8")
        print(out / f"{name}.grc")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
