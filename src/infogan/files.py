"""Writing infogan's files so that a crash or a full disk never leaves a torn, empty or half-new file.

Every file goes through `atomic_write`: a temporary NAME.PID.part in the same folder, flushed and
fsynced, then renamed over NAME. A failure removes the temporary file and keeps the previous NAME;
a full disk becomes one InfoGANError that names the file system and its free space. The metrics
log is appended line by line instead (`JsonLines`): a failed append is cut back to the previous end,
and a line torn by a kill -9 is repaired when the log is reopened and skipped by `read_json_lines`.
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from infogan.errors import InfoGANError

log = logging.getLogger(__name__)

NO_SPACE = (errno.ENOSPC, errno.EDQUOT)
# torch.save's zip writer reports a failed write as a RuntimeError with one of these, not as an OSError
TORCH_WRITE_FAILURES = ("file write failed", "No space left", "unexpected pos")


def partial_path(path: Path) -> Path:
    """The temporary file `atomic_write` fills before renaming it over `path` (one per process)."""
    return path.with_name(f"{path.name}.{os.getpid()}.part")


def fsync_directory(directory: Path) -> None:
    handle = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(handle)  # make a rename in this folder durable
    finally:
        os.close(handle)


@contextlib.contextmanager
def atomic_write(path: str | Path, mode: str = "wb", newline: str | None = None) -> Iterator[IO[Any]]:
    """A handle on a temporary file that replaces `path` when the block ends without an exception.

    The folder is created when missing. Any failure removes the temporary file and leaves `path` as
    it was; write failures (a full disk, no permission) become an InfoGANError naming `path`.
    """
    path = Path(path)
    partial = partial_path(path)
    existed = path.exists()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(partial, mode, newline=newline) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(partial, path)
        fsync_directory(path.parent)
    except BaseException as error:
        with contextlib.suppress(OSError):
            partial.unlink(missing_ok=True)
        if write_failed(error):
            raise write_error(error, path, existed) from None
        raise


def check_folder(folder: Path, name: str, writable: bool = True) -> None:
    """InfoGANError naming the setting `name` (a flag, an environment variable) unless `folder` is, or can
    be made in, a folder (that this process may write, with `writable`): checked before any work is done."""
    existing = next(p for p in (folder, *folder.parents) if p.exists())
    if not existing.is_dir():
        raise InfoGANError(f"{name}: cannot write into {folder}, as {existing} is a file")
    if writable and not os.access(existing, os.W_OK | os.X_OK):
        raise InfoGANError(f"{name}: cannot write into {folder}, as {existing} is not writable")


def write_text(path: str | Path, text: str) -> Path:
    """Write `text` to `path` atomically; returns the path."""
    with atomic_write(path, "w") as handle:
        handle.write(text)
    return Path(path)


def write_json(path: str | Path, value: Any) -> Path:
    """Write `value` as indented JSON to `path` atomically; returns the path."""
    return write_text(path, json.dumps(value, indent=2) + "\n")


def copy_file(source: Path, path: Path) -> Path:
    """Copy `source` to `path` atomically; returns the path."""
    with atomic_write(path) as handle, open(source, "rb") as original:
        shutil.copyfileobj(original, handle)
    return path


def parse_json(text: str | bytes) -> Any:
    """json.loads, with nesting too deep for Python's parser (a hostile file: RecursionError) raised as
    the ValueError of any other bad JSON, which every reader of infogan's files already handles."""
    try:
        return json.loads(text)
    except RecursionError:
        raise ValueError("nested too deeply") from None


def write_failed(error: BaseException) -> bool:
    """Whether `error` is the operating system (or torch's writer) refusing a write, not a bug."""
    if isinstance(error, OSError):
        return True
    return isinstance(error, RuntimeError) and any(text in str(error) for text in TORCH_WRITE_FAILURES)


def write_error(error: BaseException, path: Path, existed: bool) -> InfoGANError:
    """The one-line error of a failed write of `path`: a full disk names its file system and free space."""
    kept = "; the previous one is kept" if existed else ""
    if isinstance(error, RuntimeError) or getattr(error, "errno", None) in NO_SPACE:
        mount = mount_point(path)
        free = shutil.disk_usage(mount).free // 2**20
        return InfoGANError(f"No space left on {mount}: free {free} MB; writing {path} failed{kept}")
    reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
    return InfoGANError(f"cannot write {path} ({reason}): write somewhere you may write{kept}")


def mount_point(path: Path) -> Path:
    """The mount point of the file system that holds (or would hold) `path`."""
    path = Path(os.path.abspath(path))
    while not os.path.ismount(path) and path != path.parent:
        path = path.parent
    return path


class JsonLines:
    """An append-only log of JSON records, one a line, that a failed append leaves as it was."""

    def __init__(self, path: Path):
        self.path = path
        repair_torn_end(path)
        try:
            self.handle = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
        except OSError as error:
            raise write_error(error, path, path.exists()) from None

    def write(self, record: dict[str, Any]) -> None:
        data = (json.dumps(record) + "\n").encode()
        end = os.lseek(self.handle, 0, os.SEEK_END)
        try:
            written = 0
            while written < len(data):
                written += os.write(self.handle, data[written:])
        except OSError as error:
            with contextlib.suppress(OSError):
                os.ftruncate(self.handle, end)  # no torn line: the log ends with its last whole record
            raise write_error(error, self.path, True) from None

    def close(self) -> None:
        os.close(self.handle)


def repair_torn_end(path: Path) -> None:
    """Make a log that a kill or a full disk cut mid-line end on a whole line again, with a warning:
    a complete last record gets its newline, a fragment is cut off, so new records start on a fresh line."""
    if not path.is_file():
        return
    data = path.read_bytes()
    if not data or data.endswith(b"\n"):
        return
    start = data.rfind(b"\n") + 1
    try:
        parse_json(data[start:])
    except ValueError:
        torn = len(data) - start
        log.warning("%s ended in a torn line (%d bytes, from a kill or a full disk): removed it", path, torn)
        with open(path, "r+b") as handle:
            handle.truncate(start)
        return
    with open(path, "ab") as handle:
        handle.write(b"\n")


def read_json_lines(path: Path) -> list[dict[str, Any]]:
    """The records of a JSON-lines log; lines that are not a JSON object (torn by a kill or a full
    disk, or a fragment an older infogan appended onto) are skipped with a warning."""
    records, torn = [], []
    for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = parse_json(line)
        except ValueError:
            record = None
        if isinstance(record, dict):
            records.append(record)
        else:
            torn.append(number)
    if torn:
        log.warning("skipped %d torn line(s) of %s (line %s)", len(torn), path, ", ".join(map(str, torn[:5])))
    return records
