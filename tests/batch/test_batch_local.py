"""``heradecode batch`` on the local process pool: products, failures, resume, a worker process dying."""

import json
import os
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest

from heradecode.batch import Batch, BatchEvents, BatchOptions, LocalRunner, find_recordings, input_checksum
from heradecode.cli import main
from tests.batch.helpers import ARCHIVED, CORRUPT, LONG, NOISE, SLOW, decoded_frames, expected_frames, folder_files, \
    report_rows, worker_env
from tests.helpers import SIM_DIR

pytestmark = pytest.mark.slow


def test_find_recordings_pairs_folders_and_globs(batch_inputs, tmp_path):
    found = find_recordings([batch_inputs])
    names = sorted(p.name for p in found)
    assert names == sorted(["hera_high_sim_0x.sigmf-meta", "hera_low_sim.sigmf-meta", f"{LONG}.sigmf-meta",
                            f"{CORRUPT}.sigmf-meta", f"{NOISE}.sigmf-meta"])  # the _0y partner is not listed
    globbed = find_recordings([str(batch_inputs / "hera_*_sim*.sigmf-meta")])
    assert sorted(p.name for p in globbed) == ["hera_high_sim_0x.sigmf-meta", "hera_low_sim.sigmf-meta"]
    assert find_recordings([tmp_path / "missing.sigmf-meta"]) == [tmp_path / "missing.sigmf-meta"]


def test_input_checksum_sees_metadata_size_mtime_and_edges(tmp_path):
    for f in SIM_DIR.glob("hera_high_sim_0*"):
        (tmp_path / f.name).write_bytes(f.read_bytes())
    meta, data = tmp_path / "hera_high_sim_0x.sigmf-meta", tmp_path / "hera_high_sim_0y.sigmf-data"
    base = input_checksum(meta)
    assert input_checksum(tmp_path / "hera_high_sim_0x.sigmf-data") == base  # the same recording
    st = data.stat()
    raw = bytearray(data.read_bytes())
    raw[-1] ^= 1  # the last MiB is hashed
    data.write_bytes(bytes(raw))
    os.utime(data, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert input_checksum(meta) != base
    raw[-1] ^= 1
    raw[len(raw) // 2] ^= 1  # the middle is not (documented: cheap), but the mtime is
    data.write_bytes(bytes(raw))
    os.utime(data, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert input_checksum(meta) == base
    os.utime(data, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    assert input_checksum(meta) != base


def test_good_recordings_give_their_golden_lists_and_bad_ones_are_reported(local_batch):
    rc, out = local_batch
    assert rc == 1  # some recordings failed
    rows = report_rows(out)
    for name in (*ARCHIVED, LONG):
        assert rows[name]["status"] == "ok", rows[name]
        assert decoded_frames(out, name) == expected_frames(name)
        assert rows[name]["frames"] == len(expected_frames(name))
    assert rows[LONG]["segments"] == 2  # cut at a seam, nothing lost or repeated there
    assert rows[CORRUPT]["status"] == "failed" and "json" in rows[CORRUPT]["reason"].lower(), rows[CORRUPT]
    assert rows[NOISE]["status"] == "failed" and "no signal found" in rows[NOISE]["reason"].lower(), rows[NOISE]
    table = pd.DataFrame(json.loads((out / "batch.json").read_text())["recordings"])
    assert {"name", "status", "reason", "frames", "seconds"} <= set(table.columns) and len(table) == 5


@pytest.mark.parametrize("name,meta,workers", [("hera_low_sim", "hera_low_sim.sigmf-meta", "1"),
                                                ("hera_high_sim", "hera_high_sim_0x.sigmf-meta", "1"),
                                                (LONG, f"{LONG}.sigmf-meta", "2")])  # two segments
def test_product_folder_equals_heradecode_decode(local_batch, tmp_path, name, meta, workers):
    _, out = local_batch
    ref = tmp_path / name
    assert report_rows(out)[name]["recording"].endswith(meta)
    assert main(["decode", report_rows(out)[name]["recording"], "--out", str(ref), "--quiet",
                 "--workers", workers]) == 0
    assert folder_files(out / name) == folder_files(ref), name


def _archived_paths(batch_inputs):
    return [batch_inputs / "hera_low_sim.sigmf-meta", batch_inputs / "hera_high_sim_0x.sigmf-meta"]


def test_resume_after_an_interrupted_batch_decodes_only_what_was_missing(batch_inputs, tmp_path):
    out = tmp_path / "out"
    paths = _archived_paths(batch_inputs)

    def stop(job):
        if job.status == "ok":
            raise KeyboardInterrupt

    first = Batch(paths, out, resume=False, events=BatchEvents(on_recording=stop))
    with pytest.raises(KeyboardInterrupt):
        first.run(LocalRunner(2))
    rows = report_rows(out)
    done = [n for n, r in rows.items() if r["status"] == "ok"]
    left = [n for n, r in rows.items() if r["status"] != "ok"]
    assert len(done) == 1 and len(left) == 1 and rows[left[0]]["status"] == "interrupted"
    kept = folder_files(out / done[0])
    stamp = (out / done[0] / "decode.json").stat().st_mtime_ns
    planned = []
    second = Batch(paths, out, resume=True, events=BatchEvents(on_plan=lambda job: planned.append(job.name)))
    report = second.run(LocalRunner(2))
    assert planned == left  # only what was missing is decoded again
    rows = report_rows(out)
    assert rows[done[0]]["status"] == "skipped" and rows[left[0]]["status"] == "ok"
    assert folder_files(out / done[0]) == kept and (out / done[0] / "decode.json").stat().st_mtime_ns == stamp
    for name in ARCHIVED:
        assert decoded_frames(out, name) == expected_frames(name)
    assert report["interrupted"] is False
    # resumed again: nothing left to do, and the rows still say how each was decoded
    planned.clear()
    Batch(paths, out, resume=True, events=BatchEvents(on_plan=lambda job: planned.append(job.name))).run(
        LocalRunner(1))
    assert planned == [] and {r["decoded_status"] for r in report_rows(out).values()} == {"ok"}
    # a batch over one of them into the same folder keeps the other's row
    Batch(paths[:1], out, resume=True).run(LocalRunner(1))
    assert list(report_rows(out)) == [paths[0].name.split(".")[0]]
    assert sorted(report_rows(out, earlier=True)) == sorted(ARCHIVED)
    # other parameters: decoded again
    planned.clear()
    third = Batch(paths, out, BatchOptions(max_iterations=8), resume=True,
                  events=BatchEvents(on_plan=lambda job: planned.append(job.name)))
    third.run(LocalRunner(2))
    assert sorted(planned) == sorted(ARCHIVED)


def test_a_killed_pool_process_is_replaced_and_its_segments_decoded_again(slow_inputs, tmp_path):
    out = tmp_path / "out"
    runner = LocalRunner(2)
    killed = []

    def kill_one(job):
        if job.name == SLOW and not killed:
            time.sleep(0.5)  # the segments are running
            pid = next(iter(runner.pool._processes))
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)

    paths = [*_archived_paths(slow_inputs), slow_inputs / f"{SLOW}.sigmf-meta"]
    report = Batch(paths, out, BatchOptions(segment_s=2.0), events=BatchEvents(on_plan=kill_one)).run(runner)
    assert killed and report["pool_restarts"] >= 1
    for name in (*ARCHIVED, SLOW):
        assert report_rows(out)[name]["status"] == "ok"
        assert decoded_frames(out, name) == expected_frames(name)


def test_ctrl_c_stops_cleanly_and_keeps_finished_recordings(slow_inputs, tmp_path):
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "heradecode", "batch", str(slow_inputs / "hera_low_sim.sigmf-meta"),
           str(slow_inputs / f"{SLOW}.sigmf-meta"), "--out", str(out), "--workers", "1", "--quiet"]
    p = subprocess.Popen(cmd, env=worker_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if report_rows(out)["hera_low_sim"]["status"] == "ok":
                break
        except (OSError, ValueError, KeyError):
            pass
        time.sleep(0.1)
    p.send_signal(signal.SIGINT)
    stdout, stderr = p.communicate(timeout=60)
    assert p.returncode == 130, stderr
    assert "Traceback" not in stderr and "interrupted" in stderr
    rows = report_rows(out)
    assert rows["hera_low_sim"]["status"] == "ok" and rows[SLOW]["status"] == "interrupted"
    assert decoded_frames(out, "hera_low_sim") == expected_frames("hera_low_sim")


def test_user_mistakes_are_one_line(tmp_path, capsys):
    assert main(["batch", str(tmp_path / "nothing*.sigmf-meta"), "--mission", "voyager"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "unknown mission" in err[0]
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["batch", str(empty), "--out", str(tmp_path / "o")]) == 2
    assert "no recordings found" in capsys.readouterr().err
    assert main(["batch", str(SIM_DIR), "--scheduler", "nowhere", "--out", str(tmp_path / "o")]) == 2
    assert "tcp://HOST:PORT" in capsys.readouterr().err


def test_with_a_doppler_file_the_folder_equals_decode_with_it(tmp_path):
    dop = SIM_DIR.parent / "hera" / "hera_doppler.txt"
    meta = SIM_DIR / "hera_high_sim_0x.sigmf-meta"
    out, ref = tmp_path / "out", tmp_path / "ref"
    assert main(["batch", str(meta), "--doppler", str(dop), "--out", str(out), "--workers", "1", "--quiet"]) == 0
    assert main(["decode", str(meta), "--doppler", str(dop), "--out", str(ref), "--quiet"]) == 0
    got, want = folder_files(out / "hera_high_sim"), folder_files(ref)
    assert {"doppler.json", "residuals.csv"} <= set(want)
    assert got == want
    assert decoded_frames(out, "hera_high_sim") == expected_frames("hera_high_sim")


def test_with_an_archive_every_decoded_recording_is_ingested(tmp_path, capsys):
    from heradecode.archive.access import SYSTEM
    from heradecode.archive.catalogue import init_archive
    from heradecode.archive.ingest import open_catalogue
    from heradecode.archive.query import run_query

    arc = tmp_path / "arc"
    init_archive(arc)
    metas = [SIM_DIR / "hera_low_sim.sigmf-meta", SIM_DIR / "hera_high_sim_0x.sigmf-meta"]
    assert main(["batch", *map(str, metas), "--out", str(tmp_path / "out"), "--workers", "2", "--archive", str(arc),
                 "--quiet"]) == 0
    with open_catalogue(arc).connect() as conn:
        items = {row["recording"]: row for row in run_query(conn, SYSTEM, "items").rows}
    assert len(items) == 2
    for name in ARCHIVED:
        row = next(r for rec, r in items.items() if rec.startswith(name))
        assert row["n_frames"] == len(expected_frames(name)) == len(decoded_frames(tmp_path / "out", name))
