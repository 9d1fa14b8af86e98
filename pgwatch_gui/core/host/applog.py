"""The window's log: the standard `logging` module into a rotating file.

    handler = setup_logging()      # once, at start-up of the window
    log_dir()                      # where it is (Help > Open log folder)

The file is `pgwatch-gui.log` in the user log folder (platformdirs; e.g.
~/.local/state/pgwatch-gui/log on Linux), or in $PGWATCH_LOG_DIR when set. It keeps
LOG_BYTES per file and LOG_BACKUPS older files. The folder is 0700 and the files
0600 (errors may quote what they were about). Every unexpected exception lands there
with its traceback: uncaught ones in the main thread and in other threads, the asyncio
loop's (which logs through `logging`), and supervised tasks' failures.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import sys
import threading
import warnings
from pathlib import Path

from pgwatch_gui.core.host.private_files import private_dir, private_opener, tighten_tree

APP_NAME = "pgwatch-gui"
LOG_FILE = "pgwatch-gui.log"
LOG_BYTES = 1_000_000
LOG_BACKUPS = 3
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

log = logging.getLogger("pgwatch_gui")


def log_dir() -> Path:
    env = os.environ.get("PGWATCH_LOG_DIR")
    if env:
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_log_dir(APP_NAME, appauthor=False))


def log_path() -> Path:
    return log_dir() / LOG_FILE


class PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """Each file it opens (the first, and the new one after a rollover) is made 0600
    whatever the umask."""

    def _open(self):
        return open(self.baseFilename, self.mode, encoding=self.encoding,
                    errors=self.errors, opener=private_opener)


def secure_log_dir(folder: Path | None = None) -> Path:
    """Create the log folder 0700 and take others' bits off what it holds; on Linux the
    platform's folder is ~/.local/state/pgwatch-gui/log, and pgwatch-gui there is ours
    too (~/.local/state is shared by design and left alone)."""
    folder = folder if folder is not None else log_dir()
    if folder.parent.name == APP_NAME and not os.environ.get("PGWATCH_LOG_DIR"):
        private_dir(folder.parent)
    private_dir(folder)
    tighten_tree(folder, depth=1)
    return folder


def setup_logging(level: int = logging.INFO) -> logging.Handler | None:
    """Log to the rotating file (and hook uncaught exceptions into it).

    Returns the handler, or None when the folder cannot be written (then a line on
    stderr says so and the program goes on without a log file).
    """
    path = log_path()
    try:
        secure_log_dir(path.parent)
        handler: logging.Handler = PrivateRotatingFileHandler(
            path, maxBytes=LOG_BYTES, backupCount=LOG_BACKUPS, encoding="utf-8")
    except OSError as exc:
        print(f"pgwatch-gui: warning: no log file ({exc.strerror or exc}: {path})",
              file=sys.stderr)
        return None
    handler.setFormatter(logging.Formatter(FORMAT))
    root = logging.getLogger()
    root.addHandler(handler)
    if root.level == logging.NOTSET or root.level > level:
        root.setLevel(level)
    _hook_uncaught()
    log.info("pgwatch-gui started (pid %d)", os.getpid())
    return handler


def quiet_library_warnings(*, to_log: bool = False) -> None:
    """Warnings that libraries raise (asyncssh's CryptographyDeprecationWarnings at import,
    say) are for their developers, not for a user's terminal: they are dropped, or with
    `to_log` (the window) written to the log. Our own warnings still show, and `-W` or
    PYTHONWARNINGS set by the user win over this."""
    if sys.warnoptions:
        return
    warnings.filterwarnings("ignore" if not to_log else "default",
                            module=r"(?!pgwatch_gui(\.|$))")
    if to_log:
        logging.captureWarnings(True)


def remove_logging(handler: logging.Handler | None) -> None:
    if handler is not None:
        logging.getLogger().removeHandler(handler)
        handler.close()


def _hook_uncaught() -> None:
    if getattr(sys.excepthook, "_pgwatch", False):
        return
    previous = sys.excepthook

    def excepthook(tp, value, tb):
        if not issubclass(tp, KeyboardInterrupt):
            log.critical("uncaught exception", exc_info=(tp, value, tb))
        previous(tp, value, tb)

    excepthook._pgwatch = True  # type: ignore[attr-defined]
    sys.excepthook = excepthook

    previous_thread = threading.excepthook

    def thread_hook(args):
        log.critical("uncaught exception in thread %s",
                     args.thread.name if args.thread else "?",
                     exc_info=(args.exc_type, args.exc_value, args.exc_traceback))
        previous_thread(args)

    threading.excepthook = thread_hook
