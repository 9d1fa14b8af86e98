"""A WHEN condition is exactly one SQL expression: the issue's payloads are refused by
install, dry-run and check, and nothing of them ever reaches the server."""

from __future__ import annotations

import pytest

from pgwatch_gui.core.triggers import manage as triggers
from pgwatch_gui.core.triggers.manage import check_when
from pgwatch_gui.core.triggers.spec import SpecError, TriggerSpec, check_spec
from pgwatch_gui.core.triggers.when import when_problem
from tests.conftest import run_cli
from tests.core.trigger_helpers import call

DROP_VICTIM = ("true) EXECUTE FUNCTION pg_catalog.suppress_redundant_updates_trigger(); "
               "DROP TABLE victim; CREATE TRIGGER zz AFTER INSERT ON t FOR EACH ROW "
               "EXECUTE FUNCTION pg_catalog.suppress_redundant_updates_trigger() WHEN (true")
WITH_COMMIT = "true) EXECUTE FUNCTION f(); COMMIT; CREATE TABLE made_by_check (x int); --"


@pytest.fixture
def tables(db):
    db.execute("CREATE TABLE t (id int PRIMARY KEY, status text, note text)")
    db.execute("CREATE TABLE victim (id int)")
    return db


def _state(db):
    return (db.execute("SELECT to_regclass('public.victim') IS NOT NULL").fetchone()[0],
            db.execute("SELECT to_regclass('public.made_by_check') IS NOT NULL").fetchone()[0],
            db.execute("SELECT count(*) FROM pg_trigger WHERE NOT tgisinternal").fetchone()[0])


@pytest.mark.parametrize("text", [
    DROP_VICTIM, WITH_COMMIT, "true; DROP TABLE victim", "true) OR (false", "x -- c",
    "x /* c */", "(true", "'open", 'NEW."open'])
def test_what_is_not_one_expression(text):
    assert when_problem(text) is not None
    with pytest.raises(SpecError, match="WHEN condition"):
        check_spec(TriggerSpec("public", "t", when=text), ["id", "status", "note"])


@pytest.mark.parametrize("text", [
    "NEW.status IS DISTINCT FROM OLD.status", "NEW.note <> 'a;b -- c /* d'",
    "NEW.note = E'it\\'s; (fine'", "NEW.note = $x$ ) ; $x$", '"NEW"."status" = \'x\'',
    "(NEW.id > 1) AND (OLD.id < 5)"])
def test_what_is_one_expression(text):
    assert when_problem(text) is None


def test_install_dry_run_and_check_refuse_the_payloads(tables, pg_dsn):
    for text in (DROP_VICTIM, WITH_COMMIT):
        spec = TriggerSpec("public", "t", channel="c", events=("update",), when=text)

        async def go(conn, spec=spec):
            with pytest.raises(triggers.TriggerError, match="WHEN condition"):
                await triggers.plan_install(conn, [spec])

        call(pg_dsn, go)
    assert _state(tables) == (True, False, 0)


def test_the_server_parses_one_expression_over_the_row(tables, pg_dsn):
    async def go(conn):
        return (await check_when(conn, "public", "t", "NEW.status <> OLD.status"),
                await check_when(conn, "public", "t", "NEW.nope > 1"),
                await check_when(conn, "public", "t", "NEW.id"),
                await check_when(conn, "public", "t", "true) FROM t, (SELECT 1"))

    ok, unknown, not_bool, escape = call(pg_dsn, go)
    assert ok is None
    assert "nope" in unknown
    assert "boolean" in not_bool
    assert escape is not None
    assert _state(tables) == (True, False, 0)


def test_cli_exits_2_with_one_line(tables, pg_dsn):
    for extra in ((), ("--dry-run",)):
        r = run_cli("trigger", "install", "--dsn", pg_dsn, "--table", "t", "--events", "update",
                    "--when", DROP_VICTIM, *extra)
        assert r.returncode == 2, r.stderr
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and "WHEN condition" in lines[0], r.stderr
        assert "DROP TABLE" not in r.stdout
    assert _state(tables) == (True, False, 0)
