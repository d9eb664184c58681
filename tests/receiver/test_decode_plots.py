"""``heradecode decode --plots``: every plot of a decode, the soft-symbol one included."""

import numpy as np
import pytest

from heradecode.cli import main
from heradecode.io import open_recording
from heradecode.ccsds.codeblock import esn0_from_soft
from heradecode.receiver import ReceiverConfig, soft_symbol_sample
from tests.helpers import HERA_DOPPLER, REPO

LOW = REPO / "recordings" / "sim" / "hera_low_sim.sigmf-meta"


def test_soft_symbol_sample_is_the_demodulated_signal():
    from heradecode.io.dopplerfile import read_doppler_profile

    rec = open_recording(LOW)
    soft = soft_symbol_sample(rec, ReceiverConfig(mode="low"), doppler=read_doppler_profile(HERA_DOPPLER),
                              n_symbols=20_000)
    assert soft.shape == (20_000,) and soft.dtype == np.float32
    # the archived recording is at Eb/N0 5 dB, i.e. Es/N0 about -1 dB for rate 1/4
    assert esn0_from_soft(soft[5000:]) == pytest.approx(-1.0, abs=1.5)


@pytest.mark.slow
def test_decode_plots_include_soft_symbols(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["decode", str(LOW), "--doppler", str(HERA_DOPPLER), "--out", str(out), "--quiet", "--plots"]) == 0
    import matplotlib.image

    for png in ("spectrum.png", "carrier.png", "soft_symbols.png", "codeblocks.png", "frames_timeline.png"):
        assert (out / png).stat().st_size > 20_000, png
        img = matplotlib.image.imread(out / png)
        assert img.shape[0] >= 300 and img.shape[1] >= 600, png  # readable size
        assert float(img[..., :3].std()) > 0.05, f"{png} looks blank"
    assert np.load(out / "soft_symbols.npy").size == 50_000
    assert "soft_symbols.png" in capsys.readouterr().out
