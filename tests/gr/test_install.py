"""gr-install and the GRC block definitions (no GNU Radio needed)."""

import re

import pytest
import yaml

import heradecode.gr
from heradecode.cli import main
from heradecode.gr.install import block_files, grc_blocks_dir
from tests.helpers import REPO


def test_every_block_has_a_definition():
    ids = {f.name.removesuffix(".block.yml") for f in block_files()}
    assert ids == {f"heradecode_{name}" for name in heradecode.gr.BLOCKS}


@pytest.mark.parametrize("path", block_files(), ids=lambda p: p.name)
def test_block_definition_is_consistent(path):
    doc = yaml.safe_load(path.read_text())
    name = path.name.removesuffix(".block.yml")
    assert doc["id"] == name and doc["category"] == "[heradecode]" and doc["file_format"] == 1
    make = doc["templates"]["make"]
    assert make.startswith(f"heradecode.gr.{name.removeprefix('heradecode_')}(")
    assert doc["templates"]["imports"] == "import heradecode.gr"
    params = {p["id"] for p in doc["parameters"]}
    used = set(re.findall(r"\$\{\s*(\w+)", make))
    assert used == params, f"make template and parameters differ: {used ^ params}"
    assert doc["documentation"].strip()


def test_gr_install_copies_the_definitions(tmp_path, capsys):
    assert main(["gr-install", "--dest", str(tmp_path)]) == 0
    copied = sorted(p.name for p in (tmp_path / "heradecode").iterdir())
    assert copied == [f.name for f in block_files()] and len(copied) == 6
    assert "installed 6 heradecode blocks" in capsys.readouterr().out


def test_gr_install_prints_the_blocks_path(capsys):
    assert main(["gr-install", "--print-path"]) == 0
    assert capsys.readouterr().out.strip() == str(grc_blocks_dir())


def test_flowgraphs_match_their_generator(tmp_path):
    import runpy

    gen = runpy.run_path(str(REPO / "flowgraphs" / "make_flowgraphs.py"))
    assert gen["main"]([str(tmp_path)]) == 0
    for name in ("hera_low_rate", "hera_high_rate"):
        made = (tmp_path / f"{name}.grc").read_text()
        assert made == (REPO / "flowgraphs" / f"{name}.grc").read_text(), f"{name}.grc was edited by hand"
        doc = yaml.safe_load(made)
        assert doc["options"]["parameters"]["generate_options"] == "no_gui"
        used = {b["id"] for b in doc["blocks"]}
        assert {"heradecode_sigmf_source", "heradecode_doppler_source", "blocks_multiply_xx",
                "heradecode_biphase_demod", "heradecode_asm_sync", "heradecode_turbo_decoder",
                "heradecode_tm_sink"} <= used
