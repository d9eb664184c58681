"""``heradecode plot`` and write_decode_plots end to end (through heradecode.cli.main)."""

from __future__ import annotations

import json
import shutil
import warnings

import numpy as np
import pytest

from tests.plot.helpers import assert_png_ok
from heradecode.cli import main
from heradecode.plot import PLOT_FILES, write_decode_plots

ALL_PNGS = {"spectrum.png", "carrier.png", "soft_symbols.png", "codeblocks.png", "frames_timeline.png"}


def test_cli_writes_every_plot(recording, decode_dir, tmp_path, capsys):
    out = tmp_path / "pngs"
    assert main(["plot", str(recording.meta), "--decode-dir", str(decode_dir), "--out", str(out)]) == 0
    printed = capsys.readouterr().out.split()
    assert {p.rsplit("/", 1)[-1] for p in printed} == ALL_PNGS == set(PLOT_FILES.values())
    for name in ALL_PNGS:
        assert_png_ok(out / name)


def test_cli_defaults_to_the_decode_dir_and_honours_which(decode_dir, capsys):
    assert main(["plot", "--decode-dir", str(decode_dir), "--which", "carrier,frames"]) == 0
    printed = capsys.readouterr().out.split()
    assert printed == [str(decode_dir / "carrier.png"), str(decode_dir / "frames_timeline.png")]
    assert not (decode_dir / "codeblocks.png").exists()


def test_cli_recording_only_writes_the_spectrum_to_the_current_dir(recording, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["plot", str(recording.meta), "--start", "0.1", "--duration", "0.2", "--zoom", "3000",
                 "--symbol-rate", "high"]) == 0
    assert capsys.readouterr().out.strip().endswith("spectrum.png")
    assert_png_ok(tmp_path / "spectrum.png")


def test_write_decode_plots_uses_the_doppler_profile_named_in_doppler_json(decode_dir, monkeypatch):
    import heradecode.plot.writer as writer

    seen = {}

    def spy(name):
        def plot(data, **kwargs):
            seen[name] = (data, kwargs)
            kwargs["path"].write_bytes(b"png")
        return plot

    for name in ("plot_carrier_track", "plot_soft_symbols", "plot_codeblocks", "plot_frames_timeline"):
        monkeypatch.setattr(writer, name, spy(name))
    written = write_decode_plots(decode_dir)
    assert [p.name for p in written] == ["carrier.png", "soft_symbols.png", "codeblocks.png", "frames_timeline.png"]
    assert all(p.parent == decode_dir for p in written)
    profile = seen["plot_carrier_track"][1]["doppler_profile"]
    assert profile is not None and profile.unix_time.size == 120  # profile.txt named by doppler.json
    # the receiver's Es/N0 (median over CRC-ok codeblocks of decode.json) is quoted beside the soft symbols
    log = seen["plot_codeblocks"][0]
    assert seen["plot_soft_symbols"][1]["esn0_db"] == pytest.approx(float(np.median(log.esn0_db[log.crc_ok])))
    assert seen["plot_soft_symbols"][0].shape == (50_000,)


def _run(argv, capsys) -> tuple[int, str, list[str]]:
    """Run the CLI; (exit code, stdout, warning texts) whether warnings are raised or printed as lines on stderr."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        code = main(argv)
    captured = capsys.readouterr()
    printed = [line for line in captured.err.splitlines() if ": warning: " in line]
    return code, captured.out, [str(w.message) for w in caught] + printed


def _fails(argv, capsys, match):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("heradecode plot: error:"), err
    assert match in err, err


def test_nothing_to_plot(capsys):
    _fails(["plot"], capsys, "give a RECORDING and/or --decode-dir")


def test_decode_dir_without_decode_json(tmp_path, capsys):
    _fails(["plot", "--decode-dir", str(tmp_path)], capsys, "has no decode.json")


def test_missing_decode_dir(tmp_path, capsys):
    _fails(["plot", "--decode-dir", str(tmp_path / "nope")], capsys, "not found")


def test_missing_recording(tmp_path, capsys):
    _fails(["plot", str(tmp_path / "nope.sigmf-meta")], capsys, "not found")


def test_plot_whose_input_is_missing(decode_dir, capsys):
    (decode_dir / "carrier.csv").unlink()
    _fails(["plot", "--decode-dir", str(decode_dir), "--which", "carrier"], capsys, "needs carrier.csv")
    _fails(["plot", "--decode-dir", str(decode_dir), "--which", "spectrum"], capsys, "needs a recording")


def test_unknown_plot_name(decode_dir, capsys):
    _fails(["plot", "--decode-dir", str(decode_dir), "--which", "waterfall"], capsys, "unknown plot waterfall")


def test_start_past_the_end(recording, tmp_path, capsys):
    _fails(["plot", str(recording.meta), "--start", "99", "--out", str(tmp_path)], capsys, "past the end")


def test_corrupt_decode_json(decode_dir, capsys):
    (decode_dir / "decode.json").write_text("{oops", encoding="utf-8")
    _fails(["plot", "--decode-dir", str(decode_dir)], capsys, "not valid JSON")


def test_empty_decode_log_without_carrier(decode_dir, capsys):
    (decode_dir / "decode.json").write_text(json.dumps({"codeblocks": []}), encoding="utf-8")
    (decode_dir / "carrier.csv").unlink()
    (decode_dir / "soft_symbols.npy").unlink()
    _fails(["plot", "--decode-dir", str(decode_dir)], capsys, "no plot written")


def test_bad_doppler_file(decode_dir, tmp_path, capsys):
    bad = tmp_path / "bad.txt"
    bad.write_text("1 2\nx y\n", encoding="utf-8")
    _fails(["plot", "--decode-dir", str(decode_dir), "--doppler", str(bad)], capsys, "not numbers")


def test_corrupt_soft_symbols_are_skipped_unless_asked_for(decode_dir, capsys):
    (decode_dir / "soft_symbols.npy").write_bytes(b"not an npy file")
    (decode_dir / "carrier.csv").unlink()
    code, out, warned = _run(["plot", "--decode-dir", str(decode_dir), "--which", "all"], capsys)
    assert code == 0 and any("soft_symbols.npy" in w for w in warned), warned
    assert "soft_symbols.png" not in out
    _fails(["plot", "--decode-dir", str(decode_dir), "--which", "symbols"], capsys, "not a readable .npy")


@pytest.mark.parametrize("option, value, match", [
    ("--duration", "-1", "--duration must be a positive number"),
    ("--zoom", "abc", "--zoom must be a number"),
    ("--fft-size", "100.5", "--fft-size must be a whole number"),
    ("--start", "-2", "--start must be a non-negative"),
    ("--symbol-rate", "medium", "--symbol-rate must be a number"),
    ("--carrier-offset", "x", "--carrier-offset must be a number"),
])
def test_bad_option_values(recording, tmp_path, capsys, option, value, match):
    _fails(["plot", str(recording.meta), "--out", str(tmp_path), f"{option}={value}"], capsys, match)


def test_truncated_recording_is_plotted_with_a_warning(recording, tmp_path, capsys):
    """Issue #11 finding 5: plot reads a truncated recording as decode does, with a warning, and never
    suggests an option that does not exist."""
    for ext in (".sigmf-meta", ".sigmf-data"):
        shutil.copy(recording.meta.with_suffix(ext), tmp_path / f"cut{ext}")
    data = tmp_path / "cut.sigmf-data"
    whole = recording.num_samples * 2 * 8  # two cf32 channels
    data.write_bytes(data.read_bytes()[: whole // 2] + b"\1\2\3")  # half the samples and 3 stray bytes
    out = tmp_path / "pngs"
    code, printed, warned = _run(["plot", str(tmp_path / "cut.sigmf-meta"), "--out", str(out)], capsys)
    assert code == 0, warned
    assert printed.split() == [str(out / "spectrum.png")]
    assert_png_ok(out / "spectrum.png")
    assert any("truncated" in w and "3 stray bytes" in w for w in warned), warned
    assert not any("--allow-truncated" in w for w in warned)
