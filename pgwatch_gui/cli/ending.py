"""How a command ends: its exit status, the signals that stop it, a reader that went away.

The exit statuses every subcommand keeps (docs/guide/cli.md, "Exit codes"):

- 0   done: what was asked (--count reached, --timeout passed, the input read)
- 1   it ran but could not finish what was asked (what it made could not be removed,
      a password with nowhere to go, nothing found to import)
- 2   bad usage or input, a connection that failed or was refused, a refusal by the
      server
- 129 SIGHUP (the terminal went away), 130 SIGINT (Ctrl-C), 143 SIGTERM
- 141 the reader of its output went away (`| head`): what a program killed by SIGPIPE
      reports, without dying of it

A command that holds something on the server (the publication and slot of `changes`,
the LISTEN session) releases it before it exits with any of these.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import os
import select
import signal
import sys
import threading
from typing import NoReturn

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_SIGHUP = 129
EXIT_SIGINT = 130
EXIT_PIPE = 141
EXIT_SIGTERM = 143

# Ended from outside (a signal, the reader gone): what is left in stdout's buffer is dropped.
STOPPED = frozenset({EXIT_SIGHUP, EXIT_SIGINT, EXIT_PIPE, EXIT_SIGTERM})

# How often a streaming command looks whether the reader of its stdout is still there.
READER_CHECK_INTERVAL = 0.2

_CODES = {signal.SIGINT: EXIT_SIGINT, signal.SIGTERM: EXIT_SIGTERM}
if hasattr(signal, "SIGHUP"):
    _CODES[signal.SIGHUP] = EXIT_SIGHUP


class Terminated(BaseException):
    """SIGTERM or SIGHUP in a command that runs without an event loop of its own: raised
    in the main thread, like KeyboardInterrupt for Ctrl-C, so `finally` blocks run."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


def _taken_over(sig: int) -> bool:
    """Whether this process may handle `sig`: not when it was started ignoring it
    (`nohup`, a background job of a script), which a program should respect."""
    return signal.getsignal(sig) not in (signal.SIG_IGN, None)


def raise_on_termination() -> None:
    """SIGTERM and SIGHUP raise Terminated in the main thread (for synchronous commands;
    a streaming command takes them over while it runs, see Ending)."""
    if threading.current_thread() is not threading.main_thread():
        return
    for sig, code in _CODES.items():
        if sig != signal.SIGINT and _taken_over(sig):
            signal.signal(sig, lambda _s, _f, code=code: _raise(code))


def _raise(code: int) -> None:
    raise Terminated(code)


def end_now(sig: int) -> None:
    """End the process the default way for `sig` (asked twice, or stuck)."""
    signal.signal(sig, signal.SIG_DFL)
    os.kill(os.getpid(), sig)


def reader_gone(fd: int | None = None) -> bool:
    """True when `fd` (stdout) is a pipe or socket whose reading end is closed.

    poll() reports POLLERR (or POLLHUP) for it without anything being written, so a
    command that has nothing to print still notices `head` has exited. Regular files
    and terminals never report it; where poll() does not exist (Windows), False.
    """
    if not hasattr(select, "poll"):
        return False
    if fd is None:
        try:
            fd = sys.stdout.fileno()
        except (AttributeError, OSError, ValueError):
            return False
    poller = select.poll()
    poller.register(fd, 0)  # errors and hang-ups are reported whatever is asked for
    try:
        events = poller.poll(0)
    except OSError:
        return False
    return any(ev & (select.POLLERR | select.POLLHUP | select.POLLNVAL) for _, ev in events)


def quiet_stdout(stream=None) -> None:
    """After the reader went away, or a write failed for good (a full disk): stdout (or
    `stream`) goes to the null device, so that what is stuck in its buffer is dropped
    and the flush at exit neither prints "Exception ignored ... BrokenPipeError" nor
    fails again (which would make the exit status 120)."""
    with contextlib.suppress(AttributeError, OSError, ValueError):
        _to_null((sys.stdout if stream is None else stream).fileno())


def say(text: str) -> None:
    """A line on stderr; a stderr that went away (`2>&1 | head`) is not an error."""
    with contextlib.suppress(OSError, ValueError):
        print(text, file=sys.stderr, flush=True)


class _WriteStopped(BaseException):
    """A signal came while a write was blocked on a reader that reads nothing."""


class Ending:
    """The end of a streaming command (`listen`, `changes`) on its event loop.

    `finish(code)` sets `done` once; the first reason wins. While installed, SIGINT,
    SIGTERM and SIGHUP finish with 130, 143 and 129, and a stdout whose reader went away
    finishes with 141 within READER_CHECK_INTERVAL, even when nothing is being printed.

    The signals are Python handlers rather than the loop's, because a write to a pipe
    whose reader stalled blocks the loop itself: a signal then stops that write (what
    it was writing is dropped, nothing more is printed) and the command ends the orderly
    way all the same. A second signal ends the process at once, the default way.
    """

    def __init__(self, done: asyncio.Event | None = None, *,
                 interval: float = READER_CHECK_INTERVAL) -> None:
        self.done = done if done is not None else asyncio.Event()
        self.code: int | None = None
        self.interval = interval
        self.output_stopped = False
        self._previous: dict[int, object] = {}
        self._timer: asyncio.TimerHandle | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._asked = 0  # signals received
        self._writing = False

    def finish(self, code: int = EXIT_OK) -> None:
        if self.code is None:
            self.code = code
        self.done.set()

    @property
    def exit_code(self) -> int:
        return self.code if self.code is not None else EXIT_OK

    def install(self, *, watch_stdout: bool = True) -> Ending:
        loop = self._loop = asyncio.get_running_loop()
        if threading.current_thread() is threading.main_thread():
            for sig in _CODES:
                if _taken_over(sig):
                    self._previous[sig] = signal.signal(sig, self._on_signal)
        if watch_stdout and hasattr(select, "poll"):
            self._timer = loop.call_later(self.interval, self._check_reader)
        return self

    def close(self) -> None:
        """Give the signals back and stop watching stdout."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        for sig, previous in self._previous.items():
            with contextlib.suppress(Exception):
                signal.signal(sig, previous)  # type: ignore[arg-type]
        self._previous.clear()
        self._loop = None

    def print_batch(self, printer, batch: list) -> None:
        """`printer.print_batch(batch)` (a cli.output.LinePrinter), then finish once it
        is done: 0 when its count is reached, 141 when its reader went away, 1 when a
        write failed (the command says why: `write_failure`)."""
        if self.output_stopped:
            return
        self._writing = True
        try:
            done = printer.print_batch(batch)
        except _WriteStopped:
            self.output_stopped = True
            return
        finally:
            self._writing = False
        if done:
            self.finish(EXIT_PIPE if printer.gone else
                        EXIT_FAILED if printer.failed is not None else EXIT_OK)

    def _on_signal(self, sig: int, _frame) -> None:
        self._asked += 1
        if self._asked > 1 or self._loop is None:
            end_now(sig)  # asked twice: the orderly end takes too long for the user
            return
        self._loop.call_soon_threadsafe(self.finish, _CODES[sig])
        if self._writing:
            raise _WriteStopped

    def _check_reader(self) -> None:
        self._timer = None
        if reader_gone():
            self.finish(EXIT_PIPE)
            return
        if self._loop is not None:
            self._timer = self._loop.call_later(self.interval, self._check_reader)


def write_failure(printer) -> str | None:
    """What a streaming command says when a line could not be written (a full disk), once
    its printer is closed (every line handed over written); None when all went out."""
    printer.close()
    exc = printer.failed
    return None if exc is None else cannot_write(exc)


def cannot_write(exc: OSError) -> str:
    """The one line a command says when its output could not be written."""
    return f"cannot write the output: {exc.strerror or exc}"


def exit_process(code: int | None) -> NoReturn:
    """End the program with `code` once main() has returned, without the interpreter's
    finalization: tearing down some 400 modules and a last garbage collection cost about
    50 ms of CPU, a tenth of a 200,000-notification drain (docs/performance.md).

    Nothing pending is lost: atexit handlers run (logging.shutdown closes the log
    handlers, the demo server is released) and stdout and stderr are flushed. A thread
    that is not a daemon and still runs, a code that is not a number, or a process that
    loaded Qt (the window's objects are destroyed by the normal exit) take the normal
    exit, which waits and does what it always did. A reader of stdout that went away
    before the last flush ends it with 141 and nothing said, as `| head` expects (the
    normal exit would print "Exception ignored ... BrokenPipeError" and give 120)."""
    if not isinstance(code, int) or "PySide6" in sys.modules or _waited_for_threads():
        sys.exit(code)
    code = _flush_for_exit(code)
    atexit._run_exitfuncs()
    code = _flush_for_exit(code)
    os._exit(code)


def _waited_for_threads() -> bool:
    """Whether a thread the normal exit would wait for is still running."""
    main = threading.main_thread()
    return any(t is not main and not t.daemon and t.is_alive() for t in threading.enumerate())


def _flush_for_exit(code: int) -> int:
    """Flush stdout and stderr; the exit code that follows."""
    for stream, fd in ((sys.stdout, 1), (sys.stderr, 2)):
        if stream is None:
            continue
        try:
            stream.flush()
        except (BrokenPipeError, ConnectionResetError):
            _to_null(fd)  # what is left is dropped: its reader is gone
            if fd == 1 and code == EXIT_OK:
                code = EXIT_PIPE
        except (OSError, ValueError):  # a full disk, a closed stream
            return 120  # as the normal exit when its last flush fails
    return code


def _to_null(fd: int) -> None:
    with contextlib.suppress(OSError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, fd)
        os.close(devnull)
