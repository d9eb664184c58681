"""The receiver on simulated Hera recordings (6.144 Msps, dual polarization, ci16) with the real
launch-day Doppler profile and one impairment at a time: every frame must come out, no false frame."""

import numpy as np
import pytest

from heradecode.io import open_recording
from heradecode.io.dopplerfile import DopplerProfile, read_doppler_profile
from heradecode.receiver import ReceiverConfig, decode_recording
from heradecode.sim import SimParams, simulate, simulated_frames
from tests.helpers import HERA_DOPPLER, HIGH

REAL = read_doppler_profile(HERA_DOPPLER)
EBN0_DB = 3.0  # moderate: about 2.7 dB above the turbo code's threshold


def _profile_points(start_unix: float, duration_s: float) -> list[tuple[float, float]]:
    sel = (REAL.unix_time >= start_unix - 2) & (REAL.unix_time <= start_unix + duration_s + 2)
    return [(float(t), float(f)) for t, f in zip(REAL.unix_time[sel], REAL.freq_hz[sel])]


def _run(tmp_path, *, start="2024-10-07T16:40:00Z", duration_s=2.0, decoder_profile=None, workers=1,
         **overrides):
    t0 = float(np.datetime64(start.rstrip("Z"), "ns").astype(np.int64)) / 1e9
    params = SimParams.preset("high", samp_rate=6.144e6, frames_path=str(HIGH), first_frame=100,
                              duration_s=duration_s, start_time=start, ebn0_db=EBN0_DB,
                              doppler=_profile_points(t0, duration_s), datatype="ci16_le", seed=11,
                              **overrides)
    simulate(params, tmp_path / "rec")
    sent = [bytes(r) for r in simulated_frames(params)]
    rec = open_recording(tmp_path / "rec.sigmf-meta")
    profile = decoder_profile(t0) if decoder_profile else DopplerProfile(*np.array(params.doppler).T)
    got = []
    for cbs, _ in decode_recording(rec, ReceiverConfig(mode="high"), doppler=profile, workers=workers):
        got += [cb for cb in cbs if cb.crc_ok]
    return sent, [cb.frame for cb in got], rec


def test_doppler_profile_error_of_kilohertz_with_drift(tmp_path):
    def wrong(t0):  # the decoder's profile is 2.5 kHz off and drifts by a further 4 Hz/s
        t = REAL.unix_time
        return DopplerProfile(t, REAL.freq_hz + 2500.0 + 4.0 * (t - t0))
    sent, got, _ = _run(tmp_path, decoder_profile=wrong)
    assert got == sent and len(sent) >= 16


def test_polarization_rotating_through_90_degrees(tmp_path):
    sent, got, _ = _run(tmp_path, duration_s=2.5, pol_angle_deg=0.0, pol_rotation_deg_s=40.0, pol_phase_deg=30.0)
    assert got == sent and len(sent) >= 20


@pytest.mark.parametrize("ppm", [50.0, -50.0])
def test_symbol_clock_offset(tmp_path, ppm):
    sent, got, _ = _run(tmp_path, clock_offset_ppm=ppm)
    assert got == sent


def test_one_polarization_carries_noise_only(tmp_path):
    sent, got, _ = _run(tmp_path, pol_angle_deg=0.0, pol_rotation_deg_s=0.0)
    assert got == sent


def test_five_second_dropout_reacquires_and_loses_nothing_after(tmp_path):
    fades = [(1.5, 0.0), (1.5001, float("-inf")), (6.5, float("-inf")), (6.5001, 0.0)]
    params_duration = 8.5
    sent, got, rec = _run(tmp_path, duration_s=params_duration, fades=fades)
    # codeblocks wholly outside the drop-out must all be decoded; those touching it are lost
    period = (35696 + 128) / 322560.0
    lead = 0.05
    starts = lead + period * np.arange(len(sent))
    clear = [f for f, s in zip(sent, starts) if s + period < 1.5 or s > 6.5]
    assert all(f in got for f in clear)
    assert set(got) <= set(sent)
    assert len(clear) >= 25


def test_two_workers_give_the_same_frames(tmp_path):
    sent, got, _ = _run(tmp_path, duration_s=2.0, workers=2)
    assert got == sent


def test_band_limited_recording_like_an_sdr_channel_filter(tmp_path):
    # the chips low-pass filtered to the recording's band (oversampled simulation) rather than integrated
    # over each sample: the receiver's matched filter is made for band-limited samples
    sent, got, _ = _run(tmp_path, oversample=4)
    assert got == sent and len(sent) >= 16
