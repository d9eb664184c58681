"""After gr-install, GNU Radio Companion's block library has heradecode's six blocks."""

import pytest

from heradecode.cli import main
from tests.gr.gnuradio_env import require_gnuradio

require_gnuradio()

from gnuradio import gr  # noqa: E402
from gnuradio.grc.core.platform import Platform  # noqa: E402

import heradecode.gr  # noqa: E402


@pytest.mark.gnuradio
def test_installed_blocks_load_in_grc(tmp_path, monkeypatch, capsys):
    assert main(["gr-install", "--dest", str(tmp_path)]) == 0
    monkeypatch.setenv("GRC_BLOCKS_PATH", str(tmp_path))
    platform = Platform(version=gr.version(), version_parts=(gr.major_version(), gr.api_version(),
                                                             gr.minor_version()), prefs=gr.prefs())
    platform.build_library()
    ours = {key for key in platform.blocks if key.startswith("heradecode_")}
    assert ours == {f"heradecode_{name}" for name in heradecode.gr.BLOCKS}
    demod = platform.blocks["heradecode_biphase_demod"]
    assert demod.label == "Bi-phase-L Demodulator" and demod.category == ["heradecode"]
