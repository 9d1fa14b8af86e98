"""How the program ends (cli/ending.py exit_process): without the interpreter's teardown,
and with nothing pending lost: atexit handlers, threads still running, the last flush."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

from pgwatch_gui import __version__
from pgwatch_gui.cli.ending import EXIT_PIPE
from tests.conftest import cli_env


def program(body: str, *args: str, **env: str) -> subprocess.CompletedProcess:
    """Run `body`, then the program (console_main) with `args`, in a new interpreter."""
    code = textwrap.dedent(body) + textwrap.dedent(f"""
        import sys
        sys.argv = ["pgwatch-gui", *{list(args)!r}]
        from pgwatch_gui.cli import console_main
        console_main()
        """)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, env=cli_env(**env))


def test_the_program_ends_without_the_interpreters_teardown_but_runs_atexit():
    r = program("""
        import atexit
        class Late:
            def __del__(self):
                print("torn down", flush=True)
        late = Late()
        atexit.register(lambda: print("atexit ran"))  # printed, and flushed after
        """, "--version")
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == [f"pgwatch-gui {__version__}", "atexit ran"]


def test_a_thread_still_running_is_waited_for():
    r = program("""
        import threading, time
        def later():
            time.sleep(0.5)
            print("thread done", flush=True)
        threading.Thread(target=later).start()
        """, "--version")
    assert r.returncode == 0, r.stderr
    assert "thread done" in r.stdout


def test_python_dash_m_ends_with_mains_code():
    r = subprocess.run([sys.executable, "-m", "pgwatch_gui", "listen"], capture_output=True,
                       text=True, timeout=60, env=cli_env())
    assert r.returncode == 2 and "give at least one -c/--channel" in r.stderr


def test_a_reader_gone_before_the_last_flush_ends_with_141_and_nothing_said(tmp_path):
    """stdout buffered (a pipe, PYTHONUNBUFFERED unset): the output is still in the buffer
    when main() returns, and its reader is gone. The normal exit said "Exception ignored
    ... BrokenPipeError" and gave 120."""
    env = cli_env(PGWATCH_CONFIG_DIR=str(tmp_path))
    env.pop("PYTHONUNBUFFERED", None)
    for args in (["--help"], ["--version"], ["listen", "--help"]):
        r, w = os.pipe()
        os.close(r)
        try:
            done = subprocess.run([sys.executable, "-m", "pgwatch_gui", *args], stdout=w,
                                  stderr=subprocess.PIPE, text=True, timeout=60, env=env)
        finally:
            os.close(w)
        assert done.returncode == EXIT_PIPE, (args, done.returncode, done.stderr)
        assert done.stderr == "", (args, done.stderr)
