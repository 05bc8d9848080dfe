"""Writing files safely.

* :func:`atomic_write` — a temporary file in the target's folder, then one ``os.replace``, so
  a reader (or an interrupted run) never sees a half-written file. The file gets the
  permissions an ordinary ``open(path, "w")`` would give it (``0o666`` less the umask), not
  ``mkstemp``'s private ``0o600``.
* :func:`writable_folder` — a folder checked before any work that writes there (no space,
  read-only, not a folder, permission: a :class:`FolderError` naming the folder, the cause and
  the environment variable that chose it); :func:`folder_error` turns such a fault met while
  writing into the same error.
"""
from __future__ import annotations

import errno
import os
import tempfile
from pathlib import Path


def umask() -> int:
    """The process's umask: from ``/proc`` where it is shown (Linux), which changes nothing;
    otherwise read by setting it and putting it back at once."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except OSError:
        pass
    mask = os.umask(0o077)
    os.umask(mask)
    return mask


def atomic_write(path, write) -> Path:
    """Call ``write(tmp_path)`` and move the result onto ``path``; the temporary file is removed on error."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=path.suffix or ".tmp")
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, 0o666 & ~umask())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    return path


def atomic_write_text(path, text: str) -> Path:
    return atomic_write(path, lambda tmp: Path(tmp).write_text(text))


# ------------------------------------------------------------------------ folders to write to
class FolderError(OSError):
    """A folder tacr must write to cannot be written: the message names the folder, the cause
    (no space left, read-only, not a folder, permission) and the variable that set it."""

    def __str__(self) -> str:
        return str(self.strerror)


_CAUSES = {errno.ENOSPC: "no space is left on its device", errno.EDQUOT: "the disk quota is used up",
           errno.EROFS: "it is on a read-only file system", errno.EACCES: "permission denied",
           errno.EPERM: "permission denied", errno.ENOTDIR: "it is not a folder (a file is in the way)",
           errno.EEXIST: "a file of that name is in the way (not a folder)"}
#: What torch's zip writer says when a write fails (a full disk among the causes).
_TORCH_WRITE_FAILED = ("unexpected pos", "PytorchStreamWriter failed", "file write failed")


def _named(folder, variable: str | None, what: str) -> str:
    return f"the {what} {str(folder)!r}" + (f" (set by ${variable})" if variable else "")


def _fix(variable: str | None, code: int) -> str:
    other = f"set {variable} to another folder" if variable else "choose another folder"
    return f"free space there, or {other}" if code in (errno.ENOSPC, errno.EDQUOT) else other


def folder_error(exc: BaseException, folder, variable: str | None = None, what: str = "folder") -> FolderError | None:
    """The clear error of a fault writing under ``folder`` (``raise folder_error(exc, ...) from
    exc``): an OSError of no space, quota, read-only, permission or not-a-folder, or torch's
    RuntimeError of a failed write ("unexpected pos") on a full disk. None for any other fault
    (re-raise it as it is). ``variable``: the environment variable that chose the folder."""
    if isinstance(exc, OSError) and exc.errno in _CAUSES:
        code = exc.errno
        cause = _CAUSES[code]
    elif isinstance(exc, RuntimeError) and any(s in str(exc) for s in _TORCH_WRITE_FAILED):
        free = _free_bytes(folder)
        code = errno.ENOSPC if free is not None and free < (1 << 20) else errno.EIO
        cause = _CAUSES[code] if code == errno.ENOSPC else f"a write failed ({str(exc).splitlines()[0][:120]})"
    else:
        return None
    return FolderError(code, f"cannot write to {_named(folder, variable, what)}: {cause}; {_fix(variable, code)}")


def _existing(path: Path) -> Path:
    """``path`` or its nearest ancestor that exists."""
    while not os.path.lexists(path) and path != path.parent:
        path = path.parent
    return path


def _free_bytes(folder) -> int | None:
    try:
        st = os.statvfs(_existing(Path(folder)))
    except (OSError, AttributeError):
        return None
    return st.f_bavail * st.f_frsize


def writable_folder(path, variable: str | None = None, what: str = "folder", *, create: bool = True,
                    min_free: int = 1 << 20) -> Path:
    """``path`` as a folder tacr can write to, checked before any work that would write there:
    created when ``create`` (else its nearest existing ancestor is checked), a folder, not
    read-only, writable, with at least ``min_free`` bytes free, and a probe file written and
    removed. Otherwise a :class:`FolderError` naming the folder, the cause and ``variable``."""
    path = Path(path).expanduser()
    try:
        if create:
            path.mkdir(parents=True, exist_ok=True)
        place = _existing(path)
        if not place.is_dir():
            where = "it is a file, not a folder" if place == path else f"{str(place)!r} above it is a file, not a folder"
            raise FolderError(errno.ENOTDIR, f"cannot write to {_named(path, variable, what)}: {where}; "
                                             f"{_fix(variable, errno.ENOTDIR)}")
        st = os.statvfs(place) if hasattr(os, "statvfs") else None
        if st is not None and st.f_flag & getattr(os, "ST_RDONLY", 1):
            raise OSError(errno.EROFS, "read-only file system", str(place))
        if not os.access(place, os.W_OK | os.X_OK):
            raise OSError(errno.EACCES, "permission denied", str(place))
        if st is not None and st.f_bavail * st.f_frsize < min_free:
            free = st.f_bavail * st.f_frsize
            raise FolderError(errno.ENOSPC, f"cannot write to {_named(path, variable, what)}: no space is left on its "
                                            f"device ({free:,} bytes free); {_fix(variable, errno.ENOSPC)}")
        fd, probe = tempfile.mkstemp(dir=place, prefix=".tacr-write-test-")
        try:
            os.write(fd, b"\0")
            os.fsync(fd)
        finally:
            os.close(fd)
            os.remove(probe)
    except FolderError:
        raise
    except OSError as exc:
        err = folder_error(exc, path, variable, what)
        if err is None:
            raise
        raise err from exc
    return path
