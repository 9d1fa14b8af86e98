"""Lines into a regular file (cli/output.py FileWriter): written on a thread of their own,
the same bytes in the same order as the loop's own writes, all of them in the file before
the process ends, and a write that fails (a full disk) ends the command with one line."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import textwrap
import threading

import pytest

from pgwatch_gui.cli.ending import EXIT_FAILED
from pgwatch_gui.cli.output import FileWriter, LinePrinter
from pgwatch_gui.core.stream.events import new_event
from tests.conftest import cli_env


def batches(n: int = 40, per: int = 250) -> list[list]:
    return [[new_event(b * per + i, 1_700_000_000.0 + b, "", "orders", 42,
                       f'{{"v":1,"op":"INSERT","table":"t","key":{{"id":{b * per + i}}}}}',
                       False, 40) for i in range(per)] for b in range(n)]


def test_a_regular_file_is_written_by_a_thread_with_the_same_bytes_in_order(tmp_path):
    expected = io.StringIO()
    plain = LinePrinter("jsonl", out=expected)
    path = tmp_path / "out.jsonl"
    with open(path, "w") as f:
        f.write("before\n")  # text the stream holds already goes first
        printer = LinePrinter("jsonl", out=f)
        for batch in batches():
            plain.print_batch(batch)
            assert printer.print_batch(batch) is False
        assert printer._file is not None  # the file's own writer thread
        printer.close()
        assert printer.failed is None
    assert path.read_text() == "before\n" + expected.getvalue()
    assert not any(t.name == "output-writer" for t in threading.enumerate())


def test_a_pipe_is_not_given_a_thread():
    r, w = os.pipe()
    with os.fdopen(r, "rb") as reader, os.fdopen(w, "w") as writer:
        printer = LinePrinter("jsonl", out=writer)
        printer.print_batch(batches(1, 2)[0])
        assert printer._file is None
        writer.close()
        assert len(reader.read().splitlines()) == 2


def test_a_write_that_fails_on_the_thread_fails_the_printer(tmp_path):
    path = tmp_path / "ro"
    path.write_text("")
    with open(path) as f:  # a regular file this process may not write: EBADF
        printer = LinePrinter("jsonl", out=f)
        done = False
        for batch in batches(20):
            if printer.print_batch(batch):
                done = True
                break
        printer.close()
    assert printer.failed is not None
    assert done or printer.done


def test_what_was_handed_over_is_in_the_file_when_the_process_ends(tmp_path):
    """No close(): the exit (os._exit after atexit, cli/ending.py) still writes it all."""
    path = tmp_path / "out"
    code = textwrap.dedent("""
        import sys
        from pgwatch_gui.cli.output import FileWriter
        from pgwatch_gui.cli.ending import exit_process
        w = FileWriter.for_stream(sys.stdout)
        assert w is not None
        for i in range(200):
            w.write(b"x" * 100_000 + b"\\n")
        exit_process(0)
        """)
    with open(path, "wb") as out:
        r = subprocess.run([sys.executable, "-c", code], stdout=out, stderr=subprocess.PIPE,
                           text=True, timeout=60, env=cli_env())
    assert r.returncode == 0, r.stderr
    assert path.stat().st_size == 200 * 100_001


def test_a_writer_waits_when_too_much_is_pending(tmp_path, monkeypatch):
    monkeypatch.setattr(FileWriter, "MAX_PENDING", 10)
    with open(tmp_path / "f", "wb") as f:
        w = FileWriter(f.fileno())
        for _ in range(50):
            w.write(b"y" * 1000)
            assert w._pending <= 1000 + 10 + 1000
        w.close()
    assert (tmp_path / "f").stat().st_size == 50_000


@pytest.mark.parametrize("buffered", [True, False])
@pytest.mark.parametrize("out", ["/dev/full"])
def test_listen_into_a_full_disk_ends_with_one_line_and_1(pg_dsn, out, buffered):
    """Before: a traceback per batch on stderr, the lines lost, and exit 0 at --timeout.
    Then, with stdout buffered (as it is for a user, without PYTHONUNBUFFERED), exit 120:
    the line the failed write left in the buffer failed again at the exit's flush."""
    import psycopg

    env = {k: v for k, v in cli_env().items() if k != "PYTHONUNBUFFERED"}
    if not buffered:
        env["PYTHONUNBUFFERED"] = "1"
    with open(out, "w") as sink:
        cmd = subprocess.Popen([sys.executable, "-m", "pgwatch_gui", "listen", "--dsn", pg_dsn,
                                "-c", "full", "--timeout", "20"],
                               stdout=sink, stderr=subprocess.PIPE, text=True, env=env)
        assert cmd.stderr.readline().startswith("listening on")
        with psycopg.connect(pg_dsn, autocommit=True) as c:
            c.execute("SELECT pg_notify('full', 'x')")
        cmd.wait(15)
    err = cmd.stderr.read()
    assert cmd.returncode == EXIT_FAILED, err
    assert err.strip() == "pgwatch-gui: error: cannot write the output: No space left on device"
