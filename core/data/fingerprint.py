"""SHA-256 fingerprints of the files a dataset was loaded from, for the audit receipt.

``Dataset.fingerprint()`` hashes the interactions after loading (it keys caches); a
reviewer signing a receipt wants the *files* hashed, so that anyone can re-hash their
copy with ordinary tools (``sha256sum``) and compare. A folder is hashed file by file
(every regular, non-hidden file below it, in sorted order); the combined fingerprint is
the SHA-256 of the ``<sha256>  <relative path>`` lines, as ``sha256sum`` prints them.
The built-in demo has no files: its fingerprint hashes the generated interactions.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from core.data.paths import REAL_DATASETS, real_dataset_path
from core.errors import DatasetError

_CHUNK = 1 << 20


@dataclass(frozen=True)
class FileHash:
    path: str  # relative to the hashed folder (the file's name for a single file)
    sha256: str
    size: int


@dataclass(frozen=True)
class DataFingerprint:
    """What a receipt records of the data: every file's hash and one combined hash."""

    source: str
    sha256: str
    files: tuple[FileHash, ...]

    def as_dict(self) -> dict:
        return {
            "source": self.source,
            "sha256": self.sha256,
            "files": [{"path": f.path, "sha256": f.sha256, "size": f.size} for f in self.files],
        }


def resolve_data_path(path: str) -> Path | None:
    """The file or folder ``path`` names (a real dataset's short name too); None for the demo."""
    text = str(path).strip()
    if text == "demo":
        return None
    where = Path(text).expanduser()
    if not where.exists() and text in REAL_DATASETS:
        where = real_dataset_path(text)
    if not where.exists():
        raise DatasetError("no such file or folder", str(where))
    return where


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(_CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


def _files(where: Path) -> list[tuple[str, Path]]:
    if where.is_file():
        return [(where.name, where)]
    found = [
        p
        for p in where.rglob("*")
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(where).parts)
    ]
    return sorted((p.relative_to(where).as_posix(), p) for p in found)


def fingerprint_data(path: str) -> DataFingerprint:
    """Hash the dataset files at ``path`` (a folder, a file, a real dataset's name or "demo")."""
    where = resolve_data_path(path)
    if where is None:
        from core.data.loaders import load_dataset

        ds = load_dataset("demo")
        h = hashlib.sha256()
        for arr in (ds.users, ds.items, ds.ratings, ds.timestamps):
            h.update(arr.tobytes())
        return DataFingerprint("demo", h.hexdigest(), ())
    files = tuple(FileHash(rel, file_sha256(p), p.stat().st_size) for rel, p in _files(where))
    if not files:
        raise DatasetError("no files to fingerprint", str(where))
    listing = "".join(f"{f.sha256}  {f.path}\n" for f in files)
    return DataFingerprint(str(where), hashlib.sha256(listing.encode("utf-8")).hexdigest(), files)


def changed_files(recorded: dict, current: DataFingerprint) -> list[str]:
    """Names of files that differ between a recorded fingerprint (``as_dict`` form) and ``current``:
    changed, missing or new."""
    before = {f["path"]: f["sha256"] for f in recorded.get("files", [])}
    after = {f.path: f.sha256 for f in current.files}
    return sorted(p for p in before.keys() | after.keys() if before.get(p) != after.get(p))
