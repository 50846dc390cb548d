"""Strict JSON: no NaN or Infinity in anything edgeforge writes, and the error names where it is."""

import json
import math

import pytest

from edgeforge import save
from edgeforge.jsonfile import dumps, write
from edgeforge.schemes.smoke import default_artifact


def test_finite_data_is_written_as_json_writes_it():
    data = {"b": [1, 2.5, {"c": None}], "a": "x"}
    assert dumps(data, what="t", indent=2, sort_keys=True) == json.dumps(data, indent=2,
                                                                          sort_keys=True)


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_non_finite_value_is_refused_naming_its_path(value, tmp_path):
    with pytest.raises(ValueError, match=rf"^report: runs\[1\]\.psnr is {value!r}, which JSON "
                                         rf"cannot hold"):
        dumps({"runs": [{"psnr": 1.0}, {"psnr": value}]}, what="report")
    target = tmp_path / "r.json"
    with pytest.raises(ValueError, match=r"r\.json: psnr is"):
        write(target, {"psnr": value})
    assert not target.exists()


def test_other_json_errors_keep_their_own_message():
    loop = []
    loop.append(loop)
    with pytest.raises(ValueError, match="Circular reference"):
        dumps(loop, what="x")


def test_artifact_with_infinite_provenance_is_not_saved(tmp_path):
    art = default_artifact()
    art.provenance["psnr"] = -math.inf
    with pytest.raises(ValueError, match=r"^manifest: provenance\.psnr is -inf"):
        save(art, tmp_path / "a.npz")
    assert not (tmp_path / "a.npz").exists()
