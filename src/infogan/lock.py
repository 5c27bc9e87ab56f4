"""The lock that keeps two infogan processes out of one folder: FOLDER/.lock holds the holder's PID and
host. A run folder is locked while it trains, a sweep's folder while the sweep runs. A lock left by a
killed process (its PID no longer runs on this host) is taken over with a warning.
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
import socket
from collections.abc import Iterator
from pathlib import Path

from infogan.errors import InfoGANError
from infogan.files import parse_json

log = logging.getLogger(__name__)

LOCK = ".lock"


@contextlib.contextmanager
def locked_folder(folder: Path) -> Iterator[None]:
    """Hold FOLDER/.lock for the block, creating the folder (--out) if need be; refuse when a live process
    holds it. On the way out the lock goes, and so do the folders this call created if nothing was written
    in them."""
    if folder.exists() and not folder.is_dir():
        raise InfoGANError(f"--out {folder} is a file, not a folder: choose another --out")
    created = missing_folders(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise InfoGANError(f"cannot make the folder --out {folder} ({error.strerror}): choose another --out") from None
    try:
        take_lock(folder / LOCK)
        try:
            yield
        finally:
            (folder / LOCK).unlink(missing_ok=True)
    finally:
        for made in created:
            with contextlib.suppress(OSError):  # not empty: the block wrote into it
                made.rmdir()


def missing_folders(folder: Path) -> list[Path]:
    """`folder` and its parents that do not exist yet, deepest first."""
    folder = Path(os.path.abspath(folder))
    return [path for path in (folder, *folder.parents) if not path.exists()]


def take_lock(lock: Path) -> None:
    """Create `lock` holding this process's PID and host; a stale one (dead PID, this host) is replaced."""
    owner = json.dumps({"pid": os.getpid(), "host": socket.gethostname()})
    for _ in range(2):  # a second try after removing a stale lock
        try:
            handle = os.open(lock, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            holder = lock_holder(lock)
            if holder is not None:
                raise InfoGANError(
                    f"{lock.parent} is in use by infogan process {holder} (its {LOCK}): wait for it to end "
                    f"or stop it; if it is gone, delete {lock}"
                ) from None
            continue
        except OSError as error:
            raise InfoGANError(f"cannot write in {lock.parent} ({error.strerror}): choose another --out") from None
        with os.fdopen(handle, "w") as file:
            file.write(owner)
        return
    raise InfoGANError(f"could not take {lock}: another process keeps taking it")


def lock_holder(lock: Path) -> str | None:
    """ "PID on HOST" of a lock's live holder; None (after removing it, with a warning) for a stale lock."""
    try:
        owner = parse_json(lock.read_text())
        pid, host = int(owner["pid"]), str(owner["host"])
    except FileNotFoundError:
        return None  # released meanwhile
    except (OSError, ValueError, KeyError, TypeError):
        pid, host = None, socket.gethostname()  # torn by a crash between creating and writing it
    if host != socket.gethostname():
        return f"{pid} on {host}"  # another machine's process cannot be checked from here
    if pid is not None and pid > 0 and pid_alive(pid):
        return f"{pid} on {host}"
    log.warning("taking over the stale lock %s of process %s, which no longer runs", lock, pid)
    lock.unlink(missing_ok=True)
    return None


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError as error:
        return error.errno == errno.EPERM  # it runs, as another user
    return True
