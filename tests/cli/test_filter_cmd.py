"""`pgwatch-gui filter`: the window's filter over JSON Lines, lines out unchanged."""

from __future__ import annotations

import io
import json
import subprocess
import sys

import pytest

from pgwatch_gui.core.filtering.engine import FilterSpec, compile_filter
from pgwatch_gui.core.filtering.facets import FacetCache
from pgwatch_gui.core.stream.events import Event, make_gap
from pgwatch_gui.core.stream.jsonl import event_to_json
from pgwatch_gui.core.stream.recording import read_jsonl
from tests.conftest import cli_env, run_cli

EVENTS = [
    Event(1, 1.0, "p", "shop", 10, json.dumps({"op": "INSERT", "schema": "public",
                                                "table": "orders", "id": 1})),
    Event(2, 2.0, "p", "shop", 10, json.dumps({"op": "DELETE", "schema": "public",
                                                "table": "orders", "id": 2})),
    Event(3, 3.0, "p", "audit", 11, json.dumps({"op": "DELETE", "table": "log", "id": 3}),
          own=True),
    make_gap(4, "p", 3.0, 4.0, "test"),
    Event(5, 5.0, "p", "audit", 11, "plain Text \x1b with \ud800 odd bits"),
    Event(6, 6.0, "p", "shop", 10, json.dumps({"op": "UPDATE", "schema": "shop",
                                                "table": "items", "key": {"id": 6},
                                                "row": {"status": "shipped"}})),
]
TEXT = "".join(event_to_json(e) + "\n" for e in EVENTS)


def seqs(out: str) -> list[int]:
    return [json.loads(x)["seq"] for x in out.splitlines()]


@pytest.mark.parametrize(("args", "spec"), [
    ([], FilterSpec()),
    (["--text", "shop"], FilterSpec(text="shop")),
    (["--text", "TEXT", "--case-sensitive"], FilterSpec(text="TEXT", case_sensitive=True)),
    (["--text", "^pl.*bits$", "--regex"], FilterSpec(text="^pl.*bits$", regex=True)),
    (["--where", "op = DELETE"], FilterSpec(fields="op = DELETE")),
    (["--text", "shop", "--where", "op = DELETE"], FilterSpec(text="shop", fields="op = DELETE")),
    (["--channel", "audit"], FilterSpec(channels=frozenset({"audit"}))),
    (["--op", "delete", "--op", "update"], FilterSpec(ops=frozenset({"DELETE", "UPDATE"}))),
    (["--op", "none"], FilterSpec(ops=frozenset({"(none)"}))),
    (["--table", "public.orders"], FilterSpec(tables=frozenset({"public.orders"}))),
    (["--hide-own"], FilterSpec(hide_own=True)),
    (["--where", "row.status = shipped or key.id = 2"],
     FilterSpec(fields="row.status = shipped or key.id = 2")),
])
def test_filter_is_the_window_engine_and_lines_come_out_unchanged(args, spec):
    r = run_cli("filter", *args, input=TEXT)
    assert r.returncode == 0 and r.stderr == ""
    events, _ = read_jsonl(io.StringIO(TEXT))
    expected = [events[i].seq for i in compile_filter(spec).select(events, 0, FacetCache())]
    assert seqs(r.stdout) == expected
    lines = TEXT.splitlines(keepends=True)
    assert set(r.stdout.splitlines(keepends=True)) <= set(lines)  # byte for byte
    assert 4 in seqs(r.stdout)  # a gap always passes


def test_files_and_stdin_and_bad_lines(tmp_path):
    a = tmp_path / "a.jsonl"
    a.write_text(TEXT[: TEXT.index("\n") + 1] + "not json\n[1]\n\n", encoding="utf-8")
    r = run_cli("filter", str(a), "-", "--op", "DELETE", input=TEXT)
    assert r.returncode == 0
    assert seqs(r.stdout) == [2, 3, 4]
    assert r.stderr.count("\n") == 1 and "left out 2 line(s)" in r.stderr


@pytest.mark.parametrize("args", [["--where", "op = = DELETE"], ["--where", "or"],
                                  ["--text", "([", "--regex"], ["--op", "MERGE"],
                                  ["/nonexistent/file.jsonl"]])
def test_malformed_input_exits_2_with_one_line(args):
    r = run_cli("filter", *args, input="")
    assert r.returncode == 2
    assert r.stderr.count("\n") == 1 and "Traceback" not in r.stderr


def test_listen_output_pipes_into_filter(pg_dsn):
    import psycopg

    from tests.cli.test_listen_notify import start_listen

    p = start_listen("--dsn", pg_dsn, "-c", "shop", "--count", "3", "--timeout", "30")
    with psycopg.connect(pg_dsn, autocommit=True) as c:
        for op in ("INSERT", "DELETE", "UPDATE"):
            c.execute("SELECT pg_notify('shop', %s)", (json.dumps({"op": op, "table": "t"}),))
    out, _ = p.communicate(timeout=30)
    r = run_cli("filter", "--where", "op = DELETE", input=out)
    assert [json.loads(x)["op"] for x in r.stdout.splitlines()] == ["DELETE"]


@pytest.mark.parametrize("buffered", [True, False])
def test_filter_into_a_full_disk_ends_with_one_line_and_1(buffered):
    """As listen, changes, history and audit say it (cli.md, exit codes); before: a
    traceback."""
    env = {k: v for k, v in cli_env().items() if k != "PYTHONUNBUFFERED"}
    if not buffered:
        env["PYTHONUNBUFFERED"] = "1"
    with open("/dev/full", "w") as sink:
        r = subprocess.run([sys.executable, "-m", "pgwatch_gui", "filter", "--text", "shop"],
                           input=TEXT * 2000, stdout=sink, stderr=subprocess.PIPE, text=True,
                           env=env, timeout=60)
    assert r.returncode == 1, r.stderr
    assert r.stderr.strip() == \
        "pgwatch-gui: error: cannot write the output: No space left on device"
