"""Simulator: what it writes the reader returns; determinism; levels; fades; polarization; CLI; bad input."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from heradecode.cli import main
from heradecode.errors import UserError
from heradecode.fec.crc import crc16
from heradecode.io import open_recording
from heradecode.io.recording import parse_utc
from heradecode.sim import SimParams, iter_samples, plan_truth, read_truth, simulate, simulated_frames
from heradecode.sim.cadu import CADU_SYMBOLS

from tests.helpers import LOW_1

FULL_SCALE = {"ci8": 128.0, "ci16_le": 32768.0, "cf32_le": 1.0}


def small(**kw) -> SimParams:
    """A fast recording: low rate at 256 ksps, 2 generated frames."""
    base = dict(samp_rate=256e3, num_frames=2, lead_in_s=0.01, tail_s=0.01, ebn0_db=6.0, seed=3,
                start_time="2024-10-07T16:30:00.123456789Z")
    base.update(kw)
    return SimParams.preset("low", **base)


@pytest.mark.parametrize("datatype", ["ci8", "ci16_le", "cf32_le"])
@pytest.mark.parametrize("layout", ["interleaved", "pair"])
def test_round_trip_values_timestamps_metadata(tmp_path, datatype, layout):
    params = small(datatype=datatype, layout=layout)
    truth = simulate(params, tmp_path / "rt")
    meta = tmp_path / ("rt.sigmf-meta" if layout == "interleaved" else "rt_0y.sigmf-meta")
    rec = open_recording(meta)
    # metadata
    assert rec.num_channels == 2 and rec.channel_names == ("X", "Y")
    assert rec.datatype == datatype
    assert rec.samp_rate == params.samp_rate and rec.center_freq_hz == params.center_freq_hz
    assert rec.num_samples == truth.num_samples
    assert rec.metadata["heradecode:truth"] == "rt.truth.json"
    # timestamps: to the nanosecond
    assert rec.start_time == np.datetime64("2024-10-07T16:30:00.123456789", "ns")
    assert rec.sample_time(256_000) == rec.start_time + np.timedelta64(1, "s")
    # values: exactly what the generator produced, scaled to full scale 1.0
    gen = np.concatenate([c for _, c in iter_samples(params)], axis=0).astype(np.float64) / FULL_SCALE[datatype]
    want = (gen[..., 0] + 1j * gen[..., 1]).T.astype(np.complex64)
    np.testing.assert_array_equal(rec.read(), want)
    # annotations = truth table, one per codeblock
    cb = truth.codeblocks
    assert len(rec.annotations) == truth.num_codeblocks == 2
    for a, row in zip(rec.annotations, cb):
        assert a.start_sample == row["start_sample"] and a.num_samples == row["num_samples"]
        assert a.fields["heradecode:frame_index"] == row["index"]
        assert a.fields["heradecode:frame_crc16"] == row["crc16"]
    frames = simulated_frames(truth.params)
    assert [crc16(f.tobytes()) for f in frames] == list(cb["crc16"])
    assert np.array_equal(read_truth(meta).codeblocks, cb)  # the recording names its sidecar
    if layout == "pair":
        assert (tmp_path / "rt.sigmf-collection").is_file()
        assert open_recording(tmp_path / "rt.sigmf-collection").paths == rec.paths


def test_codeblock_positions_follow_the_symbol_clock(tmp_path):
    params = small(clock_offset_ppm=500.0, timing_offset_sym=0.25, num_frames=3, ebn0_db=None)
    truth = simulate(params, tmp_path / "pos")
    cb = truth.codeblocks
    rate = params.symbol_rate * (1 + 500e-6)
    lead = truth.lead_in_symbols
    for k, row in enumerate(cb):
        # symbol 0 = first ASM symbol sits at u = 0; u(τ) = rate·τ + 0.25 − lead
        t = (k * CADU_SYMBOLS + lead - 0.25) / rate
        assert row["sample_position"] == pytest.approx(t * params.samp_rate, abs=1e-6)
        assert row["start_sample"] == round(t * params.samp_rate)
    assert np.all(np.diff(cb["start_sample"]) == cb["num_samples"][:-1])
    # the recording ends within a symbol of the tail's end
    end = (3 * CADU_SYMBOLS + lead + truth.tail_symbols - 0.25) / rate
    assert truth.num_samples / params.samp_rate == pytest.approx(end, abs=1 / rate + 1 / params.samp_rate)


def test_deterministic_and_independent_of_chunk_size(tmp_path):
    params = small(doppler=[(1728318000.0, -500.0), (1728320000.0, 1500.0)], pol_rotation_deg_s=5.0,
                   fades=[(0.1, 0.0), (0.2, -math.inf), (0.3, 0.0)])
    simulate(params, tmp_path / "a", chunk_len=1 << 18)
    simulate(params, tmp_path / "b", chunk_len=977)
    a = (tmp_path / "a.sigmf-data").read_bytes()
    assert a == (tmp_path / "b.sigmf-data").read_bytes()
    simulate(small(seed=4), tmp_path / "c")
    assert a != (tmp_path / "c.sigmf-data").read_bytes()
    # resolved random values are recorded; regenerating from the sidecar gives the same bytes
    truth = read_truth(tmp_path / "a.truth.json")
    assert 0 <= truth.params.carrier_phase_rad < 2 * math.pi and 0 <= truth.params.timing_offset_sym < 1
    simulate(truth.params, tmp_path / "d")
    assert a == (tmp_path / "d.sigmf-data").read_bytes()


def test_noise_level_and_independence(tmp_path):
    """Signal switched off by a full drop-out: each channel's noise has variance N0·fs, X and Y independent."""
    params = small(datatype="cf32_le", fades=[(0.0, -math.inf)], num_frames=1, ebn0_db=2.0)
    truth = simulate(params, tmp_path / "n")
    x = open_recording(tmp_path / "n.sigmf-meta").read().astype(np.complex128)
    m = params.mod_index_rad
    # N0 from the Eb/N0 definition: Eb = A² sin²m / Rb, Rb = Rs·8920/35696
    rb = params.symbol_rate * 8920 / 35696
    n0 = truth.amplitude_fs**2 * math.sin(m) ** 2 / (rb * 10 ** (2.0 / 10))
    var = np.mean(np.abs(x) ** 2, axis=1)
    np.testing.assert_allclose(var, n0 * params.samp_rate, rtol=0.01)
    assert truth.n0_fs2_per_hz == pytest.approx(n0, rel=1e-12)
    assert abs(np.mean(x[0] * np.conj(x[1]))) < 0.01 * var[0]
    assert abs(np.mean(x[0].real * x[0].imag)) < 0.01 * var[0]


def test_fades_and_dropouts(tmp_path):
    fades = [(0.0, 0.0), (0.2, 0.0), (0.2001, -6.0), (0.4, -6.0), (0.4001, -math.inf), (0.6, -math.inf),
             (0.6001, 0.0)]
    params = small(datatype="cf32_le", ebn0_db=None, fades=fades, num_frames=2)
    simulate(params, tmp_path / "f")
    x = open_recording(tmp_path / "f.sigmf-meta").read()
    fs = params.samp_rate
    p = np.sum(np.abs(x) ** 2, axis=0)
    full = p[int(0.05 * fs):int(0.19 * fs)].mean()
    faded = p[int(0.21 * fs):int(0.39 * fs)].mean()
    assert faded / full == pytest.approx(10 ** (-6 / 10), rel=0.02)
    assert np.all(p[int(0.401 * fs):int(0.599 * fs)] == 0)
    assert p[int(0.61 * fs):int(0.8 * fs)].mean() == pytest.approx(full, rel=0.02)


def test_polarization_model(tmp_path):
    params = small(datatype="cf32_le", ebn0_db=None, pol_angle_deg=30.0, pol_rotation_deg_s=10.0,
                   pol_phase_deg=40.0)
    simulate(params, tmp_path / "p")
    x = open_recording(tmp_path / "p.sigmf-meta").read().astype(np.complex128)
    tau = np.arange(x.shape[1]) / params.samp_rate
    theta = np.radians(30.0 + 10.0 * tau)
    # Y = tan θ·e^{jψ}·X, sample by sample
    np.testing.assert_allclose(x[1], np.tan(theta) * np.exp(1j * np.radians(40.0)) * x[0], atol=2e-6)


def test_carrier_follows_doppler_and_offset(tmp_path):
    """With m small enough to see the carrier, its phase advances by 2π·∫(f_off + fd) — continuous."""
    t0 = parse_utc("2024-10-07T16:30:00.123456789Z").astype("datetime64[ns]").astype(np.int64) / 1e9
    dop = [(t0 - 10, 0.0), (t0 + 10, 2000.0)]  # 100 Hz/s ramp, 1000 Hz at the start
    params = small(datatype="cf32_le", ebn0_db=None, doppler=dop, carrier_offset_hz=3000.0, carrier_phase_rad=0.5,
                   mod_index_rad=0.2, pol_angle_deg=0.0)
    simulate(params, tmp_path / "d")
    x = open_recording(tmp_path / "d.sigmf-meta").read()[0].astype(np.complex128)
    fs = params.samp_rate
    tau = np.arange(x.size) / fs
    phase = 0.5 + 2 * np.pi * (3000.0 * tau + 1000.0 * tau + 0.5 * 100.0 * tau**2)
    # wipe the carrier: what is left is cos m + j d sin m, whose mean is cos m
    z = np.mean(x * np.exp(-1j * phase)) / (abs(x).mean())
    assert abs(np.angle(z)) < 0.01
    assert z.real == pytest.approx(math.cos(0.2), rel=0.01)


def test_duration_mode_cycles_frames_and_cuts_the_last_codeblock(tmp_path):
    n_file = 56  # frames in LOW_1
    params = SimParams.preset("low", samp_rate=256e3, frames_path=str(LOW_1), first_frame=54, duration_s=2.5,
                              ebn0_db=None, seed=1)
    resolved, table, n = plan_truth(params)
    assert n == round(2.5 * 256e3)
    # 2.5 s holds 4.1 codeblocks after the 0.05 s lead-in: 4 complete, the 5th cut off and not annotated
    assert len(table) == 4
    assert list(table["source_frame"]) == [54, 55, 0, 1]
    frames = np.fromfile(LOW_1, dtype=np.uint8).reshape(n_file, 1113)
    assert list(table["crc16"]) == [crc16(frames[i].tobytes()) for i in (54, 55, 0, 1)]


def test_generated_frames_are_used_without_a_frame_file(tmp_path):
    truth = simulate(small(num_frames=3), tmp_path / "g")
    frames = simulated_frames(truth.params)
    assert frames.shape == (3, 1113)
    assert all(((int(f[0]) << 8 | int(f[1])) >> 4) & 0x3FF == 181 for f in frames)


@pytest.mark.parametrize(
    "overrides, message",
    [
        (dict(samp_rate=100e3), "below the bi-phase-L chip rate"),
        (dict(datatype="ci32_le"), "cannot write datatype"),
        (dict(layout="stacked"), "layout must be"),
        (dict(mod_index_rad=2.0), "modulation index"),
        (dict(frame_length=1000), "k=8920"),
        (dict(carrier_offset_hz=200e3), "outside"),
        (dict(timing_offset_sym=1.5), "timing offset"),
        (dict(fades=[(1.0, 0.0), (0.5, -3.0)]), "fade times"),
        (dict(frames_path="/nonexistent/frames.u8"), "frame file not found"),
        (dict(rms_level_fs=0.9), "rms level"),
        (dict(oversample=0), "oversample must be"),
        (dict(oversample=2.5), "oversample must be"),
    ],
)
def test_bad_parameters(tmp_path, overrides, message):
    with pytest.raises(UserError, match=message):
        simulate(small(**overrides), tmp_path / "bad")


def test_frame_file_of_wrong_size(tmp_path):
    f = tmp_path / "odd.u8"
    f.write_bytes(b"\0" * 1000)
    with pytest.raises(UserError, match="whole number of 1113-byte frames"):
        simulate(small(frames_path=str(f)), tmp_path / "bad")


def test_cli_simulate(tmp_path, capsys):
    fades = tmp_path / "fades.txt"
    fades.write_text("# t dB\n0 0\n0.1 -3\n0.2 off\n")
    code = main(["simulate", str(tmp_path / "cli"), "--mode", "low", "--samp-rate", "256000", "--num-frames", "1",
                 "--ebn0", "7", "--datatype", "ci8", "--layout", "pair", "--doppler-rate", "-50", "--pol-angle", "10",
                 "--fades", str(fades), "--seed", "5", "--frames", str(LOW_1), "--oversample", "2"])
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    assert out["codeblocks"] == 1
    truth = read_truth(tmp_path / "cli.truth.json")
    p = truth.params
    assert (p.mode, p.samp_rate, p.ebn0_db, p.datatype, p.layout, p.pol_angle_deg, p.seed, p.oversample) == (
        "low", 256000.0, 7.0, "ci8", "pair", 10.0, 5, 2)
    assert p.fades == [(0.0, 0.0), (0.1, -3.0), (0.2, -math.inf)]
    assert p.doppler[1][1] - p.doppler[0][1] == pytest.approx(-50 * (p.doppler[1][0] - p.doppler[0][0]))
    # regenerate from the sidecar: same bytes
    assert main(["simulate", str(tmp_path / "again"), "--params", str(tmp_path / "cli.truth.json")]) == 0
    capsys.readouterr()
    assert (tmp_path / "again_0x.sigmf-data").read_bytes() == (tmp_path / "cli_0x.sigmf-data").read_bytes()
    # bad input: one line, exit 2
    assert main(["simulate", str(tmp_path / "x"), "--samp-rate", "1000"]) == 2
    err = capsys.readouterr().err
    assert "chip rate" in err and err.count("\n") == 1
    assert main(["simulate", str(tmp_path / "x"), "--fades", "1;2"]) == 2


def _data_power_share(tmp_path, name: str, **kw) -> float:
    """Noise-free data power in the samples over the data power sent, sin^2 m (carrier removed by its mean)."""
    params = small(datatype="cf32_le", ebn0_db=None, pol_angle_deg=0.0, num_frames=None, duration_s=0.25, **kw)
    simulate(params, tmp_path / name)
    x = open_recording(tmp_path / f"{name}.sigmf-meta").read()[0].astype(np.complex128)
    c = np.mean(x)  # the carrier line: A cos m, at a fixed phase (no Doppler, no offset)
    data = (x * np.conj(c) / abs(c)).imag  # the chips are in quadrature with the carrier
    return float(np.mean(data**2) / abs(c) ** 2 / math.tan(params.mod_index_rad) ** 2)


def test_oversampling_band_limits_the_chips_like_a_channel_filter(tmp_path):
    from heradecode.dsp.decimate import manchester_loss_db

    fs, rs = 256e3, 60.2375e3  # 2.1 samples per chip: the band keeps little of the chips' edges
    # integrate and dump: the samples keep 1 - R/fs of the symbol energy (chip edges inside samples)
    dump = _data_power_share(tmp_path, "dump")
    assert dump == pytest.approx(1 - rs / fs, abs=0.01)
    # band-limited: what lies inside the band (flat to 0.45 fs, 6 dB down at 0.5 fs), and nothing folded in
    band = _data_power_share(tmp_path, "band", oversample=4)
    inside = (10 ** (-manchester_loss_db(0.45 * fs, rs) / 10), 10 ** (-manchester_loss_db(0.55 * fs, rs) / 10))
    assert inside[0] - 0.01 < band < inside[1] + 0.01
    assert abs(band - dump) > 0.03  # another model, measurably
    # deterministic, chunk-size independent, and the truth (codeblock positions) is the same as without it
    a, b = small(oversample=4), small(oversample=4)
    ta = simulate(a, tmp_path / "a", chunk_len=1 << 18)
    tb = simulate(b, tmp_path / "b", chunk_len=1000)
    assert (tmp_path / "a.sigmf-data").read_bytes() == (tmp_path / "b.sigmf-data").read_bytes()
    np.testing.assert_array_equal(ta.codeblocks, simulate(small(), tmp_path / "c").codeblocks)
    assert read_truth(tmp_path / "a.truth.json").params.oversample == 4
