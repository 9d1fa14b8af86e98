"""A run of one subcommand imports only that subcommand's module (cli/__init__.py
parse_args), and reads its arguments exactly as the whole program's parser does."""

from __future__ import annotations

import subprocess
import sys

import pytest

from pgwatch_gui.cli import build_parser, parse_args
from tests.conftest import cli_env


def test_listen_imports_no_other_subcommand():
    code = ("import sys\nfrom pgwatch_gui.cli import main\ncode = main(['listen'])\n"
            "print(code, sorted(m for m in sys.modules if m.endswith('_cmd')))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       timeout=60, env=cli_env())
    assert r.returncode == 0, r.stderr
    assert r.stdout.split(" ", 1) == ["2", "['pgwatch_gui.cli.listen_cmd']\n"]
    assert "give at least one -c/--channel" in r.stderr


@pytest.mark.parametrize("argv", [
    ["listen", "-c", "orders", "--count", "3", "--fields", "channel,payload"],
    ["--dsn", "listen", "listen", "-c", "x"],  # a value that names a subcommand
    ["-c", "listen"],  # the window, on a channel called listen
    ["-c", "listen", "notify", "-c", "n", "-p", "hi"],  # the first name is a value
    ["changes", "--table", "public.orders", "--count", "5"],
    ["trigger", "list"],
    [],
])
def test_the_arguments_are_read_as_the_whole_parser_reads_them(argv):
    assert vars(parse_args(argv)) == vars(build_parser().parse_args(argv))


def test_a_usage_error_is_said_once_by_the_whole_parser(capsys):
    with pytest.raises(SystemExit) as raised:
        parse_args(["listen", "--bogus"])
    assert raised.value.code == 2
    err = capsys.readouterr().err
    assert err.count("error:") == 1 and "unrecognized arguments: --bogus" in err, err
