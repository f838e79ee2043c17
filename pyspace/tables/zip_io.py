"""Zip import of a data table: the Data panel's "Download <table>.zip" taken back.

The zip holds one CSV at its top level (every column; a media cell holds the path of a file
in the zip, a link cell row ids, as CSV import reads them), the media files, and optionally
csv_io.MEDIA_MANIFEST with each file's content type and exact name (without it a file's name
is its path's last part and its content type is guessed from that name).

A hostile zip is refused whole, before any row is written: an entry whose name leaves the
zip's folder (`..`, an absolute path, a backslash or a drive), more than ZIP_MAX_ENTRIES
entries, more than TABLES_MAX_BYTES uncompressed in all (counted while reading, never from
the zip's own headers alone), a CSV over TABLES_CSV_MAX_BYTES, a media file over
TABLES_MEDIA_MAX_BYTES, or a CSV cell naming a file the zip doesn't hold.

Between preview and apply the uploaded zip is kept under the instance folder
(`table-imports/<table id>-<random token>.zip`), so the form carries only the token; it is
removed once its rows are imported, and any kept zip is removed after UPLOAD_KEEP_SECONDS.
A table keeps one zip at most (a new preview replaces the last), so a flood of previews
holds no more disk than one upload per table, each bounded by MAX_CONTENT_LENGTH.
"""

import json
import mimetypes
import os
import re
import secrets
import time
import zipfile
import zlib
from pathlib import Path
from typing import IO, Any

from flask import current_app

from ..models import DataTable
from .columns import MediaValue, media_value
from .csv_io import MEDIA_MANIFEST, CsvPlan, plan_import
from .rows import media_max_bytes

ZIP_MAX_ENTRIES = 10_000
MANIFEST_MAX_BYTES = 4 * 1024 * 1024
UPLOAD_KEEP_SECONDS = 3600
UPLOAD_DIR = "table-imports"
_TOKEN = re.compile(r"[A-Za-z0-9_-]{32}")


class ZipRefusedError(Exception):
    """The zip can't be imported; the message says why (nothing was written)."""


# --- the kept upload --------------------------------------------------------------------------


def _upload_dir() -> Path:
    folder = Path(current_app.instance_path) / UPLOAD_DIR
    folder.mkdir(mode=0o700, exist_ok=True)
    return folder


def _upload_path(table: DataTable, token: str) -> Path | None:
    if not _TOKEN.fullmatch(token or ""):
        return None
    return _upload_dir() / f"{table.id}-{token}.zip"


def remove_expired() -> None:
    """Remove kept zips older than UPLOAD_KEEP_SECONDS (a preview never applied)."""
    oldest = time.time() - UPLOAD_KEEP_SECONDS
    for path in _upload_dir().glob("*.zip"):
        try:
            if path.stat().st_mtime < oldest:
                path.unlink()
        except FileNotFoundError:
            pass  # another request removed it first


def keep_upload(table: DataTable, stream: IO[bytes]) -> str:
    """Keep an uploaded zip until it is applied (or expires), in place of any zip kept for
    this table before; its token."""
    remove_expired()
    for older in _upload_dir().glob(f"{table.id}-*.zip"):
        older.unlink(missing_ok=True)
    token = secrets.token_urlsafe(24)
    path = _upload_path(table, token)
    assert path is not None
    with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as out:
        while chunk := stream.read(1024 * 1024):
            out.write(chunk)
    return token


def kept_upload(table: DataTable, token: str) -> Path | None:
    """The zip kept under `token` for this table, or None (never kept, applied or expired)."""
    remove_expired()
    path = _upload_path(table, token)
    return path if path is not None and path.is_file() else None


def forget_upload(table: DataTable, token: str) -> None:
    path = _upload_path(table, token)
    if path is not None:
        path.unlink(missing_ok=True)


# --- reading the zip --------------------------------------------------------------------------


def _unsafe_name(name: str) -> bool:
    """Whether an entry's name could leave the folder it would be unpacked into."""
    if not name or "\\" in name or "\x00" in name or name.startswith("/"):
        return True
    parts = name.split("/")
    return ".." in parts or ":" in parts[0]


class _Reader:
    """Reads members of an opened zip, each bounded, all together at most `budget` bytes."""

    def __init__(self, archive: zipfile.ZipFile, budget: int) -> None:
        self.archive = archive
        self.left = budget
        self.budget = budget

    def read(self, info: zipfile.ZipInfo, most: int, what: str) -> bytes:
        if info.file_size > most:
            raise ZipRefusedError(
                f"{what} is {info.file_size:,} bytes; at most {most:,} bytes are taken."
            )
        if info.file_size > self.left:
            raise self._too_big()
        try:
            with self.archive.open(info) as member:
                data = member.read(min(most, self.left) + 1)
        except (zipfile.BadZipFile, zlib.error, EOFError, RuntimeError, NotImplementedError):
            raise ZipRefusedError(
                f"The zip's entry {info.filename!r} can't be read (damaged, encrypted or "
                "compressed in a way not supported)."
            ) from None
        if len(data) > most:
            raise ZipRefusedError(
                f"{what} is over {most:,} bytes; at most {most:,} bytes are taken."
            )
        if len(data) > self.left:
            raise self._too_big()
        self.left -= len(data)
        return data

    def _too_big(self) -> ZipRefusedError:
        return ZipRefusedError(
            f"The zip unpacks to more than {self.budget:,} bytes, more than a widget's tables "
            "may hold."
        )


def _entries(archive: zipfile.ZipFile) -> dict[str, zipfile.ZipInfo]:
    infos = archive.infolist()
    if len(infos) > ZIP_MAX_ENTRIES:
        raise ZipRefusedError(f"The zip holds {len(infos):,} entries; at most {ZIP_MAX_ENTRIES:,}.")
    entries: dict[str, zipfile.ZipInfo] = {}
    declared = 0
    for info in infos:
        if _unsafe_name(info.filename):
            raise ZipRefusedError(
                f"The zip holds an entry named {info.filename[:200]!r}, which points outside "
                "its folder."
            )
        if info.is_dir():
            continue
        if info.filename in entries:
            raise ZipRefusedError(f"The zip holds {info.filename[:200]!r} twice.")
        entries[info.filename] = info
        declared += info.file_size
    budget = int(current_app.config["TABLES_MAX_BYTES"])
    if declared > budget:
        raise ZipRefusedError(
            f"The zip unpacks to {declared:,} bytes; at most {budget:,} (what a widget's "
            "tables may hold)."
        )
    return entries


def _manifest(reader: _Reader, entries: dict[str, zipfile.ZipInfo]) -> dict[str, Any]:
    info = entries.get(MEDIA_MANIFEST)
    if info is None:
        return {}
    try:
        manifest = json.loads(reader.read(info, MANIFEST_MAX_BYTES, MEDIA_MANIFEST))
    except (UnicodeDecodeError, ValueError):
        raise ZipRefusedError(f"The zip's {MEDIA_MANIFEST} is not valid JSON.") from None
    if not isinstance(manifest, dict):
        raise ZipRefusedError(f"The zip's {MEDIA_MANIFEST} must map file paths to their details.")
    return manifest


def plan_zip(table: DataTable, path: Path) -> CsvPlan:
    """Read the zip at `path` for `table`, checking every entry and cell (ZipRefusedError for a zip
    that can't be imported; row errors in the plan, as CSV import has them). Nothing is
    written."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError):
        raise ZipRefusedError("The file is not a zip.") from None
    with archive:
        entries = _entries(archive)
        reader = _Reader(archive, int(current_app.config["TABLES_MAX_BYTES"]))
        csvs = [name for name in entries if "/" not in name and name.lower().endswith(".csv")]
        if len(csvs) != 1:
            raise ZipRefusedError(
                "The zip must hold one CSV file at its top level (like the Data panel's "
                f"export), not {len(csvs)}."
            )
        csv_most = int(current_app.config["TABLES_CSV_MAX_BYTES"])
        try:
            text = reader.read(entries[csvs[0]], csv_most, csvs[0]).decode("utf-8")
        except UnicodeDecodeError:
            raise ZipRefusedError(f"{csvs[0]} is not UTF-8 text.") from None
        manifest = _manifest(reader, entries)
        media_most = media_max_bytes()

        def media(cell: str) -> MediaValue:
            info = entries.get(cell)
            if info is None or cell == MEDIA_MANIFEST or cell in csvs:
                raise ValueError(f"{cell[:200]!r} is not a file in the zip.")
            try:
                data = reader.read(info, media_most, cell[:200])
            except ZipRefusedError as refused:
                raise ValueError(str(refused)) from None
            details = manifest.get(cell)
            details = details if isinstance(details, dict) else {}
            name = details.get("name", cell.rsplit("/", 1)[-1])
            kind = details.get("content_type") or mimetypes.guess_type(str(name))[0]
            return media_value(kind, name, data)

        return plan_import(table, text, media)
