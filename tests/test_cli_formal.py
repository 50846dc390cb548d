"""``edgeforge formal``: list, run and refuse."""

import pytest

from edgeforge.cli import build_parser, main
from edgeforge.sim.formal.sby import sby_missing_reason


def test_formal_has_help(capsys):
    with pytest.raises(SystemExit) as e:
        build_parser().parse_args(["formal", "--help"])
    assert e.value.code == 0 and "usage: edgeforge formal" in capsys.readouterr().out


def test_formal_list_names_every_check_and_runs_nothing(tmp_path, capsys):
    assert main(["formal", "--list", "--slow", "-o", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "hklut.rules" in out and "k-induction" in out and "BMC" in out
    assert not any(tmp_path.iterdir())


def test_formal_refuses_an_unknown_check_in_one_line(capsys):
    assert main(["formal", "nope"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: check must be one of [") and err.rstrip().endswith("got 'nope'")


@pytest.mark.skipif(sby_missing_reason() is not None, reason=str(sby_missing_reason()))
def test_formal_runs_a_check_and_keeps_its_files(tmp_path, capsys):
    assert main(["formal", "argmin.tree", "-o", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "argmin.tree" in out and "PASS" in out
    assert (tmp_path / "argmin.tree" / "argmin.tree.il").exists()
    assert (tmp_path / "argmin.tree" / "argmin.tree.sby").exists()
