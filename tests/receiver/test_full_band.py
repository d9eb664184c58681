"""--full-band / ReceiverConfig.max_rate_out_sps: the decimated rate is not capped, so at 322.56 kbaud a 6.144 Msps
recording is demodulated undecimated (all the band the chips occupy), and decodes the same frames."""

from heradecode.cli import main
from heradecode.io import open_recording
from heradecode.receiver import ReceiverConfig, plan_front_end
from heradecode.receiver import carrier as carrier_module
from heradecode.sim import SimParams, simulate, simulated_frames
from tests.helpers import HIGH


def _recording(tmp_path):
    params = SimParams.preset("high", samp_rate=6.144e6, frames_path=str(HIGH), first_frame=40, num_frames=4,
                              lead_in_s=0.05, ebn0_db=4.0, carrier_offset_hz=-30e3, datatype="ci16_le", seed=21)
    simulate(params, tmp_path / "rec")
    return tmp_path / "rec.sigmf-meta", [bytes(f) for f in simulated_frames(params)]


def test_full_band_plan_and_cli(tmp_path, monkeypatch, capsys):
    meta, sent = _recording(tmp_path)
    rec = open_recording(meta)
    capped = plan_front_end(rec, ReceiverConfig(mode="high"))
    full = plan_front_end(rec, ReceiverConfig(mode="high", max_rate_out_sps=None))
    assert (capped.decimation.factor, full.decimation.factor) == (2, 1)
    assert full.decimation.passband_hz == 3.072e6  # the whole recorded band

    caps = []
    real = carrier_module.plan_decimation
    monkeypatch.setattr(carrier_module, "plan_decimation",
                        lambda *a, **kw: caps.append(kw.get("max_rate_out_sps")) or real(*a, **kw))
    for opts, name in (([], "capped"), (["--full-band"], "full")):
        assert main(["decode", str(meta), "--mode", "high", "--carrier-offset", "-30000", "--quiet",
                     "--out", str(tmp_path / name), *opts]) == 0
        capsys.readouterr()
        frames = (tmp_path / name / "frames.u8").read_bytes()
        assert [frames[i:i + 1113] for i in range(0, len(frames), 1113)] == sent
    assert caps[0] == 3.2e6 and caps[-1] is None
