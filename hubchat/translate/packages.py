"""Argos Translate packages (``.argosmodel``): check, install, list.

An ``.argosmodel`` is a zip of one directory holding ``metadata.json`` (``from_code``,
``to_code``, ``package_version`` …), ``model/`` (a CTranslate2 model) and a tokenizer
(``sentencepiece.model`` or ``bpe.model``).  Installing and reading metadata go through
argostranslate itself; inference does not (see :mod:`hubchat.translate.engine`).

argostranslate chooses its packages directory once, at import: ``argostranslate/settings.py``
reads ``ARGOS_PACKAGES_DIR`` (else ``~/.local/share/argos-translate/packages``) into
``settings.package_data_dir``.  We set that variable before the first import, and afterwards
name the directory explicitly: ``install_from_path`` extracts into
``settings.package_data_dir``, so it is pointed at the configured directory (under a lock)
for each install, and ``get_installed_packages(path=[dir])`` lists one directory.
Importing argostranslate also creates its own data, config and cache directories under the
home directory; nothing is downloaded.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import threading
import zipfile
from pathlib import Path, PurePosixPath
from types import ModuleType
from typing import Any

from packaging.version import InvalidVersion, Version

from hubchat.errors import BadRequest

SUPPORTED_PAIRS = frozenset({("lus", "en"), ("en", "lus")})
TOKENIZER_FILES = ("sentencepiece.model", "bpe.model")

_install_lock = threading.Lock()


class PackageError(BadRequest):
    """A file that is not a usable Argos package for this hub."""

    code = "invalid_package"


@dataclasses.dataclass(frozen=True)
class PackageInfo:
    from_code: str
    to_code: str
    package_version: str
    path: Path
    size_bytes: int
    tokenizer: str  # "sentencepiece" | "bpe"
    target_prefix: str
    fingerprint: str  # sha256 of model.bin and tokenizer, first 12 hex digits

    @property
    def direction(self) -> str:
        return f"{self.from_code}-{self.to_code}"

    @property
    def model_version(self) -> str:
        """Names the exact weights: the cache and stored translations are keyed by it."""
        return f"{self.direction}@{self.package_version}+{self.fingerprint}"

    def as_dict(self) -> dict[str, Any]:
        return {"direction": self.direction, "package_version": self.package_version,
                "model_version": self.model_version, "size_bytes": self.size_bytes,
                "tokenizer": self.tokenizer, "path": str(self.path)}


def argos_package_module(packages_dir: Path) -> ModuleType:
    """``argostranslate.package``, imported with ``ARGOS_PACKAGES_DIR`` set if this is the first import."""
    packages_dir.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("ARGOS_PACKAGES_DIR", str(packages_dir.resolve()))
    import argostranslate.package

    module: ModuleType = argostranslate.package
    return module


def check_archive(path: Path) -> dict[str, Any]:
    """The metadata of a package file, or PackageError saying what is wrong with it."""
    if not zipfile.is_zipfile(path):
        raise PackageError(f"{path}: not a zip archive (.argosmodel)")
    with zipfile.ZipFile(path) as archive:
        names = [PurePosixPath(n) for n in archive.namelist()]
        tops = {n.parts[0] for n in names if n.parts}
        if len(tops) != 1 or any(n.is_absolute() or ".." in n.parts for n in names):
            raise PackageError(f"{path}: expected one top-level directory")
        top = tops.pop()
        present = {str(n) for n in names}
        if f"{top}/metadata.json" not in present:
            raise PackageError(f"{path}: no {top}/metadata.json")
        if f"{top}/model/model.bin" not in present:
            raise PackageError(f"{path}: no CTranslate2 model ({top}/model/model.bin)")
        if not any(f"{top}/{t}" in present for t in TOKENIZER_FILES):
            raise PackageError(f"{path}: no tokenizer (sentencepiece.model or bpe.model)")
        try:
            metadata = json.loads(archive.read(f"{top}/metadata.json"))
        except ValueError as exc:
            raise PackageError(f"{path}: metadata.json is not JSON: {exc}") from exc
    pair = (metadata.get("from_code"), metadata.get("to_code"))
    if pair not in SUPPORTED_PAIRS:
        raise PackageError(f"{path}: translates {pair[0]}→{pair[1]}; this hub uses lus→en and en→lus")
    _version(str(metadata.get("package_version", "")), path)
    metadata["_top"] = top
    return dict(metadata)


def install(archive: Path, packages_dir: Path) -> PackageInfo:
    """Install ``archive`` into ``packages_dir``, replacing any package of the same direction."""
    metadata = check_archive(archive)
    module = argos_package_module(packages_dir)
    from argostranslate import settings as argos_settings

    with _install_lock:
        for old in installed(packages_dir):
            if (old.from_code, old.to_code) == (metadata["from_code"], metadata["to_code"]):
                shutil.rmtree(old.path)
        stale = packages_dir / metadata["_top"]
        if stale.exists():
            shutil.rmtree(stale)
        previous = argos_settings.package_data_dir
        argos_settings.package_data_dir = packages_dir
        try:
            module.install_from_path(archive)
        finally:
            argos_settings.package_data_dir = previous
    return describe(packages_dir / metadata["_top"])


def installed(packages_dir: Path) -> list[PackageInfo]:
    """Usable lus↔en packages in ``packages_dir``: the newest version of each direction."""
    if not packages_dir.is_dir():
        return []
    module = argos_package_module(packages_dir)
    newest: dict[str, PackageInfo] = {}
    for package in module.get_installed_packages(path=[packages_dir]):
        if (package.from_code, package.to_code) not in SUPPORTED_PAIRS:
            continue
        try:
            info = describe(Path(package.package_path))
        except PackageError:
            continue
        current = newest.get(info.direction)
        if current is None or _version(info.package_version) > _version(current.package_version):
            newest[info.direction] = info
    return [newest[d] for d in sorted(newest)]


def describe(package_path: Path) -> PackageInfo:
    metadata = json.loads((package_path / "metadata.json").read_text(encoding="utf-8"))
    model_bin = package_path / "model" / "model.bin"
    tokenizers = [package_path / t for t in TOKENIZER_FILES if (package_path / t).exists()]
    if not model_bin.exists() or not tokenizers:
        raise PackageError(f"{package_path}: incomplete package")
    return PackageInfo(
        from_code=str(metadata["from_code"]), to_code=str(metadata["to_code"]),
        package_version=str(metadata.get("package_version", "0")), path=package_path,
        size_bytes=sum(f.stat().st_size for f in package_path.rglob("*") if f.is_file()),
        tokenizer="sentencepiece" if tokenizers[0].name == "sentencepiece.model" else "bpe",
        target_prefix=str(metadata.get("target_prefix", "")),
        fingerprint=_fingerprint([model_bin, tokenizers[0]]),
    )


def signature(packages_dir: Path) -> tuple[tuple[str, int, int], ...]:
    """Cheap change detector: (entry, size, mtime) of each package's metadata and weights."""
    if not packages_dir.is_dir():
        return ()
    marks = []
    for entry in sorted(packages_dir.iterdir()):
        for name in ("metadata.json", "model/model.bin"):
            file = entry / name
            if file.exists():
                stat = file.stat()
                marks.append((f"{entry.name}/{name}", stat.st_size, stat.st_mtime_ns))
    return tuple(marks)


def _fingerprint(files: list[Path]) -> str:
    digest = hashlib.sha256()
    for file in files:
        with file.open("rb") as handle:
            while chunk := handle.read(1 << 20):
                digest.update(chunk)
    return digest.hexdigest()[:12]


def _version(text: str, path: Path | None = None) -> Version:
    try:
        return Version(text or "0")
    except InvalidVersion as exc:
        raise PackageError(f"{path or 'package'}: package_version {text!r} is not a version") from exc
