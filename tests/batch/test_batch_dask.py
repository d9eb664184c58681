"""``heradecode batch`` on a real Dask cluster on loopback: ``dask scheduler`` and two ``dask worker`` processes.

These tests never skip: ``distributed`` is a dependency, and a cluster that cannot start fails them.
"""

import json
import time

import pytest

from heradecode.batch import Batch, BatchEvents, BatchOptions, DaskRunner
from heradecode.cli import main
from tests.batch.helpers import ARCHIVED, CORRUPT, LONG, NOISE, SLOW, DaskCluster, decoded_frames, expected_frames, \
    folder_files, report_rows

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    with DaskCluster(tmp_path_factory.mktemp("dask"), n_workers=2) as c:
        yield c


def _same_products(a, b):
    assert sorted(report_rows(a)) == sorted(report_rows(b))
    for name, row in report_rows(a).items():
        assert row["status"] == report_rows(b)[name]["status"]
        if (a / name).exists():
            assert folder_files(a / name) == folder_files(b / name), name


def test_external_cluster_golden_lists_bad_ones_reported_and_same_as_local_pool(cluster, batch_inputs, local_batch,
                                                                               tmp_path, capsys):
    out = tmp_path / "out"
    rc = main(["batch", str(batch_inputs), "--out", str(out), "--scheduler", cluster.address, "--segment-s", "2",
               "--quiet"])
    assert rc == 1
    rows = report_rows(out)
    for name in (*ARCHIVED, LONG):
        assert rows[name]["status"] == "ok" and decoded_frames(out, name) == expected_frames(name), rows[name]
    assert rows[CORRUPT]["status"] == "failed" and "not valid JSON" in rows[CORRUPT]["reason"]
    assert rows[NOISE]["status"] == "failed" and "no signal found" in rows[NOISE]["reason"]
    printed = capsys.readouterr().out
    assert "dask, 2 workers" in printed and "2 failed" in printed
    _same_products(out, local_batch[1])
    # kilobytes through the scheduler, not samples: tasks name a path and offsets; results carry the frames
    report = json.loads((out / "batch.json").read_text())
    frames = sum(r["frames"] for r in report["recordings"])
    assert report["task_bytes"] / report["tasks"] < 2000
    assert report["result_bytes"] < 4000 * frames + 20000 * len(report["recordings"])
    samples = sum(f.stat().st_size for f in batch_inputs.glob("*.sigmf-data"))
    assert report["task_bytes"] + report["result_bytes"] < samples / 50


def test_cluster_local_gives_the_same_products(batch_inputs, local_batch, tmp_path, capsys):
    out = tmp_path / "out"
    rc = main(["batch", str(batch_inputs), "--out", str(out), "--cluster", "local", "--workers", "2",
               "--segment-s", "2", "--quiet"])
    assert rc == 1
    assert "Dask dashboard at http://127.0.0.1:" in capsys.readouterr().err
    _same_products(out, local_batch[1])


def test_a_worker_killed_mid_batch_loses_and_repeats_nothing(slow_inputs, tmp_path):
    with DaskCluster(tmp_path / "dask", n_workers=2) as cluster:
        runner = DaskRunner(cluster.address)
        names = cluster.workers()
        killed = []

        def kill_busy_worker(job):
            if job.name != SLOW or killed:
                return
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and not killed:
                for addr, keys in runner.client.processing().items():
                    if any(str(k).startswith("decode_segment_task") for k in keys):
                        cluster.kill(names[addr])
                        killed.append(names[addr])
                        break
                time.sleep(0.05)

        paths = [slow_inputs / "hera_low_sim.sigmf-meta", slow_inputs / "hera_high_sim_0x.sigmf-meta",
                 slow_inputs / f"{SLOW}.sigmf-meta"]
        out = tmp_path / "out"
        Batch(paths, out, BatchOptions(segment_s=2.0), events=BatchEvents(on_plan=kill_busy_worker)).run(runner)
        assert killed, "no worker was busy with a segment"
        assert len(cluster.workers()) == 1
    rows = report_rows(out)
    for name in (*ARCHIVED, SLOW):
        assert rows[name]["status"] == "ok", rows[name]
        assert decoded_frames(out, name) == expected_frames(name)  # every frame once, in order


def test_resume_on_the_cluster_decodes_only_what_was_missing(cluster, batch_inputs, tmp_path):
    out = tmp_path / "out"
    paths = [batch_inputs / "hera_low_sim.sigmf-meta", batch_inputs / "hera_high_sim_0x.sigmf-meta"]

    def stop(job):
        if job.status == "ok":
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        Batch(paths, out, events=BatchEvents(on_recording=stop)).run(DaskRunner(cluster.address))
    before = report_rows(out)
    missing = sorted(n for n, r in before.items() if r["status"] != "ok")
    assert len(missing) == 1
    planned = []
    Batch(paths, out, resume=True, events=BatchEvents(on_plan=lambda j: planned.append(j.name))).run(
        DaskRunner(cluster.address))
    assert planned == missing
    rows = report_rows(out)
    assert sorted(r["status"] for r in rows.values()) == ["ok", "skipped"]
    for name in ARCHIVED:
        assert decoded_frames(out, name) == expected_frames(name)
