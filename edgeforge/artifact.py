"""The artifact: the one contract between the model side and the hardware side.

An artifact is one ``.npz`` file per trained scheme instance: integer arrays
(``<name>.npy`` members) plus a JSON manifest (``manifest.json`` member) that
names the scheme, the format version, each array's dtype, shape and bit-width,
the scheme's configuration, scales, provenance and a content hash.

Loading never unpickles, and :func:`validate` rejects a malformed artifact with
one :class:`ArtifactError` naming the field and the value.
"""

from __future__ import annotations

import hashlib
import copy
import io
import json
import os
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .jsonfile import dumps
from .paths import check_output_file

__all__ = ["FORMAT", "FORMAT_VERSION", "ArtifactError", "ArraySpec", "Artifact", "save", "load",
           "validate", "check", "frozen"]

FORMAT = "edgeforge-artifact"
FORMAT_VERSION = 1
MANIFEST_MEMBER = "manifest.json"
# A fixed timestamp keeps the same artifact byte-identical wherever it is written.
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)


class ArtifactError(ValueError):
    """A malformed artifact. ``field`` names the offending manifest field or array."""

    def __init__(self, field: str, message: str):
        self.field = field
        super().__init__(f"{field}: {message}")


@dataclass(frozen=True)
class ArraySpec:
    """What a scheme expects of one array: container dtype, shape, and value bit-width."""
    dtype: str
    shape: tuple[int, ...]
    bits: int
    signed: bool

    @property
    def min(self) -> int:
        return -(1 << (self.bits - 1)) if self.signed else 0

    @property
    def max(self) -> int:
        return (1 << (self.bits - 1)) - 1 if self.signed else (1 << self.bits) - 1

    def to_json(self) -> dict:
        return {"dtype": self.dtype, "shape": list(self.shape), "bits": self.bits,
                "signed": self.signed}


@dataclass
class Artifact:
    """A trained scheme instance: integer arrays plus what is needed to read them.

    Build one with the scheme's exporter (e.g. ``edgeforge.models.hklut``), then
    :func:`save`; :func:`load` returns it validated.
    """
    scheme: str
    config: dict
    arrays: dict[str, np.ndarray]
    scales: dict = field(default_factory=dict)
    provenance: dict = field(default_factory=dict)
    path: Path | None = None

    @property
    def content_hash(self) -> str:
        """SHA-256 over the scheme, config and every array (name, dtype, shape, bytes)."""
        h = hashlib.sha256()
        h.update(json.dumps({"scheme": self.scheme, "config": self.config}, sort_keys=True).encode())
        for name in sorted(self.arrays):
            a = np.ascontiguousarray(self.arrays[name])
            h.update(f"{name}:{a.dtype.str}:{a.shape}".encode())
            h.update(a.tobytes())
        return "sha256:" + h.hexdigest()

    @property
    def short_hash(self) -> str:
        return self.content_hash.split(":", 1)[1][:12]

    def specs(self) -> dict[str, ArraySpec]:
        from .schemes import get_scheme
        return get_scheme(self.scheme).array_specs(self.config)

    def manifest(self) -> dict:
        from .schemes import get_scheme
        scheme = get_scheme(self.scheme)
        return {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "scheme": self.scheme,
            "scheme_version": scheme.version,
            "config": self.config,
            "arrays": {name: spec.to_json() for name, spec in self.specs().items()},
            "scales": self.scales,
            "provenance": self.provenance,
            "content_hash": self.content_hash,
        }

    def storage_bytes(self) -> dict[str, int]:
        """Payload bytes per array at its declared bit-width (what hardware must store)."""
        return {name: int(np.prod(spec.shape)) * spec.bits // 8 for name, spec in self.specs().items()}


def save(artifact: Artifact, path: str | Path) -> Path:
    """Validate ``artifact`` and write it to ``path`` (byte-identical for identical content).

    Raises ``ValueError`` naming ``path`` when it is a folder or cannot be written.
    """
    if not isinstance(artifact, Artifact):
        raise TypeError(f"artifact must be an edgeforge Artifact, got {type(artifact).__name__}")
    check(artifact)
    path = check_output_file(path, "path")
    path.parent.mkdir(parents=True, exist_ok=True)
    manifest = dumps(artifact.manifest(), what="manifest", indent=2, sort_keys=True).encode()
    tmp = path.with_name(path.name + ".tmp")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(zipfile.ZipInfo(MANIFEST_MEMBER, _ZIP_DATE), manifest, zipfile.ZIP_DEFLATED)
        for name in sorted(artifact.arrays):
            buf = io.BytesIO()
            np.lib.format.write_array(buf, np.ascontiguousarray(artifact.arrays[name]),
                                      allow_pickle=False)
            zf.writestr(zipfile.ZipInfo(f"{name}.npy", _ZIP_DATE), buf.getvalue(),
                        zipfile.ZIP_DEFLATED)
    tmp.replace(path)
    artifact.path = path
    return path


def load(path: str | Path) -> Artifact:
    """Read and validate an artifact; raise :class:`ArtifactError` naming what is wrong."""
    if not isinstance(path, (str, os.PathLike)):
        raise ArtifactError("path", f"expected a file path (str or os.PathLike), got "
                            f"{type(path).__name__} {path!r}")
    path = Path(path)
    if not path.is_file():
        raise ArtifactError("path", f"no artifact file at {str(path)!r}")
    try:
        with zipfile.ZipFile(path) as zf:
            names = zf.namelist()
            if MANIFEST_MEMBER not in names:
                raise ArtifactError("manifest", f"{str(path)!r} has no {MANIFEST_MEMBER} member; "
                                    "it is an .npz but not an edgeforge artifact")
            try:
                manifest = json.loads(zf.read(MANIFEST_MEMBER))
            except (json.JSONDecodeError, UnicodeDecodeError) as e:
                raise ArtifactError("manifest", f"{MANIFEST_MEMBER} is not valid JSON ({e})") from None
            arrays = {}
            for member in names:
                if not member.endswith(".npy"):
                    continue
                with zf.open(member) as f:
                    try:
                        arrays[member[:-4]] = np.lib.format.read_array(f, allow_pickle=False)
                    except ValueError as e:
                        raise ArtifactError(member[:-4], f"array cannot be read without "
                                            f"unpickling or is corrupt ({e})") from None
    except (zipfile.BadZipFile, EOFError, zlib.error) as e:
        raise ArtifactError("file", f"{str(path)!r} is not a readable .npz archive "
                            f"(truncated or not a zip file: {e})") from None
    return validate(manifest, arrays, path=path)


def _require(manifest: dict, key: str, kind: type | tuple[type, ...]):
    if key not in manifest:
        raise ArtifactError(key, "missing from the manifest")
    value = manifest[key]
    kinds = kind if isinstance(kind, tuple) else (kind,)
    # JSON true/false are Python bools, which are ints: a version of `true` is not 1.
    if not isinstance(value, kind) or (isinstance(value, bool) and bool not in kinds):
        raise ArtifactError(key, f"expected {getattr(kind, '__name__', kind)}, got {value!r}")
    return value


def validate(manifest: dict, arrays: dict[str, np.ndarray], path: Path | None = None) -> Artifact:
    """Check a manifest and its arrays against the scheme's expectations; return the Artifact."""
    from .schemes import SCHEMES, get_scheme

    if not isinstance(manifest, dict):
        raise ArtifactError("manifest", f"expected a JSON object, got {type(manifest).__name__}")
    fmt = _require(manifest, "format", str)
    if fmt != FORMAT:
        raise ArtifactError("format", f"expected {FORMAT!r}, got {fmt!r}")
    version = _require(manifest, "format_version", int)
    if version != FORMAT_VERSION:
        raise ArtifactError("format_version", f"this edgeforge reads version {FORMAT_VERSION}, "
                            f"got {version!r}")
    scheme_name = _require(manifest, "scheme", str)
    if scheme_name not in SCHEMES:
        raise ArtifactError("scheme", f"unknown scheme {scheme_name!r}; known: {sorted(SCHEMES)}")
    scheme = get_scheme(scheme_name)
    scheme_version = _require(manifest, "scheme_version", int)
    if scheme_version != scheme.version:
        raise ArtifactError("scheme_version", f"scheme {scheme_name!r} is at version "
                            f"{scheme.version}, got {scheme_version!r}")
    config = scheme.check_config(_require(manifest, "config", dict))
    declared = _require(manifest, "arrays", dict)
    expected = scheme.array_specs(config)
    for name, spec in expected.items():
        if name not in declared:
            raise ArtifactError(f"arrays.{name}", "missing from the manifest")
        if declared[name] != spec.to_json():
            raise ArtifactError(f"arrays.{name}", f"expected {spec.to_json()}, "
                                f"got {declared[name]!r}")
        if name not in arrays:
            raise ArtifactError(name, "array missing from the file")
    for name in sorted(set(declared) | set(arrays)):
        if name not in expected:
            raise ArtifactError(f"arrays.{name}", f"unexpected array for scheme {scheme_name!r} "
                                f"with this config (expected {sorted(expected)})")
    for name, spec in expected.items():
        check_array(name, arrays[name], spec)
    artifact = Artifact(scheme=scheme_name, config=config, arrays=dict(arrays),
                        scales=_require(manifest, "scales", dict) if "scales" in manifest else {},
                        provenance=(_require(manifest, "provenance", dict)
                                    if "provenance" in manifest else {}), path=path)
    stored = _require(manifest, "content_hash", str)
    if stored != artifact.content_hash:
        raise ArtifactError("content_hash", f"stored {stored!r} does not match the content "
                            f"({artifact.content_hash!r}): the file was altered")
    return artifact


def check_array(name: str, array: np.ndarray, spec: ArraySpec) -> None:
    """Raise ArtifactError unless ``array`` has the spec's dtype, shape and value range."""
    if not isinstance(array, np.ndarray):
        raise ArtifactError(name, f"expected a numpy array, got {type(array).__name__}")
    if array.dtype != np.dtype(spec.dtype):
        raise ArtifactError(name, f"expected dtype {spec.dtype}, got {array.dtype}")
    if tuple(array.shape) != tuple(spec.shape):
        raise ArtifactError(name, f"expected shape {tuple(spec.shape)}, got {tuple(array.shape)}")
    if array.size:
        lo, hi = int(array.min()), int(array.max())
        if lo < spec.min or hi > spec.max:
            kind = "signed" if spec.signed else "unsigned"
            raise ArtifactError(name, f"values span [{lo}, {hi}], outside [{spec.min}, {spec.max}] "
                                f"of its {spec.bits}-bit {kind} range")


def check(artifact: Artifact) -> Artifact:
    """Validate an in-memory artifact the way :func:`load` validates a file."""
    return validate(artifact.manifest(), artifact.arrays, path=artifact.path)


def frozen(artifact: Artifact) -> Artifact:
    """A validated copy of ``artifact`` whose arrays are read-only: what a design holds.

    A design reads its artifact when it builds the Verilog and again each time it runs
    the golden model. Were it to hold the caller's object, an artifact changed after
    loading (an array replaced by one outside its bit-width, a value edited in place,
    even after the Verilog was written) would give a design and a golden model that no
    longer agree, or one that silently stores wrong values. The copy is checked as
    :func:`load` checks a file, and cannot be changed in place.

    Raises
    ------
    TypeError
        If ``artifact`` is not an :class:`Artifact`.
    ArtifactError
        For whatever :func:`validate` refuses, naming the field or array.
    """
    if not isinstance(artifact, Artifact):
        raise TypeError(f"artifact must be an edgeforge Artifact, got {type(artifact).__name__}")
    if getattr(artifact, "_frozen", False):
        return artifact
    check(artifact)
    arrays = {}
    for name, array in artifact.arrays.items():
        array = np.array(array, copy=True)
        array.flags.writeable = False
        arrays[name] = array
    out = Artifact(scheme=artifact.scheme, config=copy.deepcopy(artifact.config), arrays=arrays,
                   scales=copy.deepcopy(artifact.scales),
                   provenance=copy.deepcopy(artifact.provenance), path=artifact.path)
    out._frozen = True
    return out
