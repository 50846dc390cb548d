"""Re-check a written design: do its files still say what its artifact and config generate?

``edgeforge generate`` writes ``<name>.v``, ``manifest.json``, ``<name>.f`` and
``<name>.core``; the manifest names the artifact (its content hash and the file it was
loaded from) and the hardware config. :func:`recheck_design` loads that artifact again,
regenerates the design from the config, and compares every file byte for byte, so that a
hand-edited Verilog file, a manifest that no longer matches its Verilog, or an artifact
changed since, is caught before anyone synthesises or ships the folder
(``edgeforge verify --design DIR``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from .artifact import Artifact, ArtifactError, load

__all__ = ["Recheck", "recheck_design"]


@dataclass
class Recheck:
    """What :func:`recheck_design` found.

    Members
    -------
    design : str
        The design's name (its top module).
    artifact : Path or None
        The artifact file it was regenerated from.
    mismatches : list of str
        One line per file that differs, or per hash that no longer matches; empty when the
        folder is exactly what the artifact and config generate.
    notes : list of str
        Differences that do not make the folder wrong (other tool versions here).
    """
    design: str
    artifact: Path | None
    mismatches: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.mismatches


def _first_difference(written: str, expected: str) -> str:
    a, b = written.splitlines(), expected.splitlines()
    for line, (x, y) in enumerate(zip(a, b), start=1):
        if x != y:
            return f"line {line}: written {x.strip()[:60]!r}, generated {y.strip()[:60]!r}"
    return f"written {len(a)} lines, generated {len(b)}"


def _read_manifest(folder: Path) -> dict:
    if not folder.is_dir():
        raise ValueError(f"design: {str(folder)!r} is not a folder; give the folder edgeforge "
                         f"generate wrote")
    path = folder / "manifest.json"
    if not path.is_file():
        raise ValueError(f"design: {str(folder)!r} holds no manifest.json; give the folder "
                         f"edgeforge generate wrote")
    try:
        manifest = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ValueError(f"design: {str(path)!r} is not valid JSON ({e})") from None
    for key, kind in (("top", str), ("config", dict), ("artifact", dict)):
        if not isinstance(manifest, dict) or not isinstance(manifest.get(key), kind):
            raise ValueError(f"design: {str(path)!r} has no {key!r} {kind.__name__}; it is not "
                             f"an edgeforge design manifest")
    return manifest


def recheck_design(folder, artifact: Artifact | str | Path | None = None) -> Recheck:
    """Regenerate the design a folder holds and compare its files with what is written.

    Parameters
    ----------
    folder : str or Path
        A folder :meth:`~edgeforge.design.Design.write_verilog` wrote.
    artifact : Artifact, str or Path, optional
        The artifact to regenerate from; by default the file the manifest names.

    Returns
    -------
    Recheck
        ``passed`` when every file is byte-identical to the regenerated one.

    Raises
    ------
    ValueError
        When the folder holds no readable design manifest, or no artifact can be found.
    ArtifactError
        When the artifact cannot be loaded.
    """
    from . import generate
    from .design import tool_versions
    from .hw.emit import design_file_texts
    from .schemes import get_scheme
    folder = Path(folder)
    manifest = _read_manifest(folder)
    named = manifest["artifact"].get("file")
    if artifact is None:
        if not named:
            raise ValueError("artifact: the manifest names no artifact file (the design was "
                             "generated from an artifact in memory); give the artifact")
        artifact = named
    art = artifact if isinstance(artifact, Artifact) else load(artifact)
    out = Recheck(design=manifest["top"], artifact=art.path)
    stored = manifest["artifact"].get("content_hash")
    if stored != art.content_hash:
        out.mismatches.append(f"artifact: {str(art.path)!r} has content hash "
                              f"{art.content_hash}, the manifest names {stored}: it is not the "
                              f"artifact this design was generated from")
        return out
    design = generate(art, **get_scheme(art.scheme).design_options(manifest["config"]))
    if design.name != manifest["top"]:
        out.mismatches.append(f"manifest.json: top {manifest['top']!r}, but the artifact and "
                              f"config generate {design.name!r}")
        return out
    if manifest.get("tools") != tool_versions():
        out.notes.append(f"tools: the design was generated with {manifest.get('tools')}, this "
                         f"edgeforge has {tool_versions()}; files may differ for that reason")
    regenerated = design.manifest()
    # The artifact may have moved (or been given here): where it was is not the design.
    regenerated["artifact"]["file"] = named
    for name, expected in design_file_texts(design.name, design.verilog, regenerated).items():
        path = folder / name
        if not path.is_file():
            out.mismatches.append(f"{name}: missing from {str(folder)!r}")
            continue
        written = path.read_text(errors="replace")
        if written != expected:
            out.mismatches.append(f"{name}: differs from what the artifact and config generate "
                                  f"({_first_difference(written, expected)})")
    return out

