"""Blind and wide carrier acquisition on recordings (issue #12, item 1).

(a) every archived recording decodes to its golden list with no Doppler profile and no options,
    the mode detected; (b) a Doppler profile 60 kHz off the truth with a 5 Hz/s rate error decodes
    without options and the offset is reported in one warning; a 6.144 Msps recording with an LO
    offset, the launch-day Doppler and a DC spike stronger than the carrier (112 kHz or 10 kHz
    away from it) decodes blind; the GNU Radio demodulator finds the carrier by itself.
"""

import json
import os
import re
import warnings

import numpy as np
import pytest

from heradecode.io import open_recording
from heradecode.io.dopplerfile import DopplerProfile, read_doppler_profile
from heradecode.receiver import (CarrierOffsetWarning, ReceiverConfig, clear_carrier_cache, decode_recording,
                                 detect_mode, find_carrier)
from tests.helpers import HERA_DOPPLER, HIGH, SIM_DIR, frame_hashes, golden
from tests.receiver.helpers import ARCHIVED, doppler_of


def _truth(name: str) -> dict:
    return json.loads((SIM_DIR / f"{name}.truth.json").read_text())["params"]


def _decode(rec, config, doppler=None) -> list[str]:
    frames = b""
    for cbs, _ in decode_recording(rec, config, doppler=doppler):
        frames += b"".join(cb.frame for cb in cbs if cb.crc_ok)
    return frame_hashes(frames)


@pytest.mark.parametrize("name,meta,mode", ARCHIVED)
def test_archived_recording_decodes_without_doppler_or_options(name, meta, mode):
    clear_carrier_cache()
    rec = open_recording(SIM_DIR / meta)
    assert detect_mode(rec) == mode
    assert _decode(rec, ReceiverConfig(mode=mode)) == golden(name)
    fix = find_carrier(rec)
    truth = _truth(name)
    true_hz = truth["carrier_offset_hz"] + float(doppler_of(name).freq_at(fix.unix_time))
    assert fix.blind and fix.freq_hz == pytest.approx(true_hz, abs=5.0)
    assert "blind search" in fix.describe() and len(fix.describe().splitlines()) == 1


@pytest.mark.parametrize("name,meta,mode", ARCHIVED)
def test_doppler_profile_60_khz_off_with_a_5_hz_s_rate_error(name, meta, mode, tmp_path):
    clear_carrier_cache()
    rec = open_recording(SIM_DIR / meta)
    t0 = rec.sample_unix_time(0)
    truth = doppler_of(name)  # what the simulator applied; its LO offset is stated in the metadata
    t = truth.unix_time
    wrong = DopplerProfile(t, truth.freq_hz + 60e3 + 5.0 * (t - t0))
    wrong.write(tmp_path / "wrong.txt")
    prof = read_doppler_profile(tmp_path / "wrong.txt")
    with pytest.warns(CarrierOffsetWarning) as caught:
        assert detect_mode(rec, doppler=prof) == mode
        assert _decode(rec, ReceiverConfig(mode=mode), doppler=prof) == golden(name)
    ours = [w for w in caught if issubclass(w.category, CarrierOffsetWarning)]
    assert len(ours) == 1 and len(str(ours[0].message).splitlines()) == 1  # said once, in one line
    fix = find_carrier(rec, doppler=prof)
    assert fix.far_from_prediction
    assert fix.offset_error_hz == pytest.approx(-60e3, abs=5.0)
    assert fix.rate_error_hz_s == pytest.approx(-5.0, abs=1.5)
    assert re.search(r"carrier found -(600\d\d|599\d\d) Hz and -[3-6]\.\d Hz/s away from the predicted carrier",
                     str(ours[0].message))


def test_a_close_prediction_gives_no_warning():
    clear_carrier_cache()
    rec = open_recording(SIM_DIR / "hera_low_sim.sigmf-meta")
    right = doppler_of("hera_low_sim")  # the recording states its +1.5 kHz receiver offset itself
    with warnings.catch_warnings():
        warnings.simplefilter("error", CarrierOffsetWarning)
        fix = find_carrier(rec, doppler=right)
    assert not fix.far_from_prediction and abs(fix.offset_error_hz) < 5.0


def test_a_prediction_outside_the_band_falls_back_to_the_whole_band():
    clear_carrier_cache()
    rec = open_recording(SIM_DIR / "hera_low_sim.sigmf-meta")
    config = ReceiverConfig(mode="low", carrier_offset_hz=1.0e6)  # e.g. a wrong centre frequency
    with pytest.warns(CarrierOffsetWarning, match="away from the predicted carrier"):
        assert _decode(rec, config) == golden("hera_low_sim")
    assert find_carrier(rec, config).offset_error_hz == pytest.approx(-1.0e6 + 324.0, abs=20.0)


@pytest.mark.slow
@pytest.mark.parametrize("lo_offset_hz", [137e3, 35e3])  # the carrier at +112 kHz, or +10 kHz beside the spike
def test_6_msps_recording_with_lo_offset_and_dc_spike_decodes_blind(tmp_path, lo_offset_hz):
    from heradecode.sim import SimParams, simulate, simulated_frames

    real = read_doppler_profile(HERA_DOPPLER)
    start = "2024-10-07T16:40:00Z"
    t0 = float(np.datetime64(start.rstrip("Z"), "ns").astype(np.int64)) / 1e9
    sel = (real.unix_time >= t0 - 2) & (real.unix_time <= t0 + 4)
    params = SimParams.preset("high", samp_rate=6.144e6, frames_path=str(HIGH), first_frame=100, duration_s=1.6,
                              start_time=start, ebn0_db=3.0, datatype="ci16_le", seed=5, carrier_offset_hz=lo_offset_hz,
                              doppler=[(float(a), float(b)) for a, b in zip(real.unix_time[sel], real.freq_hz[sel])])
    simulate(params, tmp_path / "rec")
    data = np.memmap(tmp_path / "rec.sigmf-data", dtype="<i2", mode="r+")
    data[0::2] += np.int16(200)  # a DC offset on I of both channels: the SDR's spike at 0 Hz, 8 dB above the carrier
    data.flush()
    del data
    clear_carrier_cache()
    rec = open_recording(tmp_path / "rec.sigmf-meta")
    fix = find_carrier(rec)
    true_hz = lo_offset_hz + float(real.freq_at(fix.unix_time))
    assert fix.blind and fix.freq_hz == pytest.approx(true_hz, abs=5.0)
    assert fix.rate_hz_s == pytest.approx(float(real.freq_at(fix.unix_time + 0.5) - real.freq_at(fix.unix_time - 0.5)),
                                          abs=2.0)
    assert fix.search.dc_masked and fix.search.has_data
    assert detect_mode(rec) == "high"
    got = []
    for cbs, _ in decode_recording(rec, ReceiverConfig(mode="high")):
        got += [cb.frame for cb in cbs if cb.crc_ok]
    assert got == [bytes(f) for f in simulated_frames(params)] and len(got) >= 12


@pytest.mark.gnuradio
def test_gnu_radio_demodulator_searches_the_whole_band_on_raw_samples(tmp_path):
    """sigmf_source -> biphase_demod (window 0: blind) -> asm_sync -> turbo_decoder -> tm_sink, no Doppler source."""
    try:
        from gnuradio import gr
    except ImportError as exc:
        if os.environ.get("HERADECODE_REQUIRE_GNURADIO"):
            raise
        pytest.skip(f"GNU Radio is not importable ({exc})")
    import heradecode.gr as hg

    meta = SIM_DIR / "hera_high_sim_0x.sigmf-meta"
    info = hg.recording_info(str(meta))
    tb = gr.top_block()
    src = hg.sigmf_source(str(meta), 2)
    dem = hg.biphase_demod(info.samp_rate, 322560.0, 2, 0.0, 0.0)
    sync, dec, sink = hg.asm_sync(), hg.turbo_decoder(), hg.tm_sink(str(tmp_path))
    for ch in range(2):
        tb.connect((src, ch), (dem, ch))
    tb.connect(dem, sync)
    tb.msg_connect((sync, "codeblocks"), (dec, "in"))
    tb.msg_connect((dec, "out"), (sink, "frames"))
    tb.msg_connect((dec, "failed"), (sink, "failed"))
    tb.run()
    assert dem.acquisition is not None and dem.acquisition.detected
    assert dem.acquisition.freq_hz == pytest.approx(_truth("hera_high_sim")["carrier_offset_hz"]
                                                    + float(doppler_of("hera_high_sim").freq_at(info.start_unix_time)),
                                                    abs=10.0)
    assert frame_hashes((tmp_path / "frames.u8").read_bytes()) == golden("hera_high_sim")


def test_plan_front_end_is_the_receivers_plan():
    """The public plan (as a notebook calls it) is the one the Receiver uses: stated offset, fix, decimation."""
    from heradecode.receiver import Receiver, plan_front_end

    clear_carrier_cache()
    rec = open_recording(SIM_DIR / "hera_high_sim_0x.sigmf-meta")
    prof = doppler_of("hera_high_sim")
    fix = find_carrier(rec, doppler=prof)
    plan = plan_front_end(rec, ReceiverConfig(mode="high"), doppler=prof, carrier_fix=fix)
    assert plan.offset_hz == -20000.0  # nominal downlink = centre, plus the recording's stated receiver offset
    assert not fix.far_from_prediction
    assert -48000 < plan.expected_hz[0] <= plan.expected_hz[1] < -46000 and plan.pre_shift_hz == -47000.0
    assert Receiver(rec, ReceiverConfig(mode="high"), doppler=prof, carrier_fix=fix).plan == plan
