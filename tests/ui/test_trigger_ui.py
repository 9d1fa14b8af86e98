"""The trigger manager in the window: tables dock, trigger dialog, SQL console (qtbot)."""

from __future__ import annotations

import json
import os

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QLabel

from pgwatch_gui.core.pg.connection import make_conninfo
from pgwatch_gui.core.triggers import manage as triggers
from pgwatch_gui.core.triggers.spec import TriggerSpec
from pgwatch_gui.ui.common.hub import ConnectionHub
from pgwatch_gui.ui.inspector.dock import Inspector
from pgwatch_gui.ui.triggers.form import VISIBILITY_WARNING
from pgwatch_gui.ui.triggers.tables import TablesBrowser
from tests.core.trigger_helpers import NOTHING_LEFT, call, install, pgwatch_leftovers
from tests.seed_triggers import SEED_000, SEED_001
from tests.ui.waiting import run_until

SHOTS = "/tmp/shots/issue5"


def shot(widget, name):
    os.makedirs(SHOTS, exist_ok=True)
    widget.grab().save(os.path.join(SHOTS, name))


@pytest.fixture
def shop(db):
    db.execute('CREATE TABLE "Order Items" (id int PRIMARY KEY, sku text, qty int, '
               "secret text)")
    db.execute("CREATE TABLE customers (id int PRIMARY KEY, name text, password_hash text)")
    db.execute("CREATE SCHEMA archive")
    for t in ("a", "b", "c"):
        db.execute(f"CREATE TABLE archive.{t} (id int PRIMARY KEY, v text)")
    db.execute(SEED_000 + SEED_001)
    return db


@pytest.fixture
def hub_on(qloop, pg_dsn):
    hub = ConnectionHub()
    hub.open("shop", make_conninfo(pg_dsn), [])
    yield hub
    qloop.run_until_complete(hub.close_all())


@pytest.fixture
def browser(qloop, qtbot, hub_on, shop):
    b = TablesBrowser(hub_on)
    qtbot.addWidget(b)
    b.resize(520, 560)
    b.show()
    run_until(qloop, lambda: b.snapshot is not None)
    return b


def marks(browser):
    out = {}
    for i in range(browser.tree.topLevelItemCount()):
        parent = browser.tree.topLevelItem(i)
        for j in range(parent.childCount()):
            it = parent.child(j)
            out[(parent.text(0), it.text(0))] = it.text(2)
    return out


def open_dialog(qloop, browser, *tables):
    browser.dialog = None
    browser.select(*tables)
    browser.install_selected()
    run_until(qloop, lambda: browser.dialog is not None)
    return browser.dialog


def test_tree_marks_ours_and_other_notify_tables(qloop, browser, pg_dsn):
    m = marks(browser)
    assert m[("public", "my_table")] == "● my_trigger → channel_name"
    assert m[("public", "Notification")] == \
        "● user_notification_trigger → user_notifications_<user_id>"
    assert m[("public", "customers")] == ""
    install(pg_dsn, TriggerSpec("public", "customers", channel="crm"))
    browser.refresh()
    run_until(qloop, lambda: marks(browser)[("public", "customers")] != "")
    assert marks(browser)[("public", "customers")] == "● pgwatch → crm (keys)"
    assert "1 with a pgwatch trigger · 3 with another notify trigger" in browser.status.text()
    shot(browser, "tables_browser.png")


def test_dialog_preview_save_install_then_listen(qloop, qtbot, browser, hub_on, pg_dsn,
                                                 shop, tmp_path):
    events = []
    hub_on.events_arrived.connect(events.extend)
    dlg = open_dialog(qloop, browser, ("public", "Order Items"))
    qtbot.addWidget(dlg)
    form = dlg.form
    assert form.columns == ["id", "sku", "qty", "secret"]
    form.event_boxes["DELETE"].setChecked(False)
    form.channel_edit.setText("orders feed")
    form.mode_buttons["row"].setChecked(True)
    form.exclude_list.item(3).setCheckState(Qt.Checked)
    example = json.loads(form.example.toPlainText())
    assert example["op"] == "UPDATE" and set(example["row"]) == {"id", "sku", "qty"}
    assert any(lbl.text() == VISIBILITY_WARNING for lbl in dlg.findChildren(QLabel))
    assert form.problem_text() is None and dlg.preview_btn.isEnabled()
    shot(dlg, "trigger_dialog_form.png")

    dlg.preview_btn.click()
    run_until(qloop, lambda: dlg.plan is not None)
    expected = call(pg_dsn, triggers.plan_install, form.specs())
    # the preview, Copy and Save as migration give the script --dry-run prints
    assert dlg.sql_view.toPlainText() == expected.script
    assert expected.script.endswith("BEGIN;\n" + expected.sql + "COMMIT;\n")
    assert '"secret"' not in expected.sql.split("COMMENT ON TRIGGER")[0]
    shot(dlg, "trigger_dialog_preview.png")

    path = tmp_path / "mig.sql"
    dlg.save_migration(str(path))
    assert path.read_text() == expected.script
    dlg.copy_sql()
    assert QGuiApplication.clipboard().text() == expected.script

    asked = []
    dlg.ask = lambda q, answer: (asked.append(q), answer(True))
    dlg.install_btn.click()
    run_until(qloop, lambda: "orders feed" in hub_on.listener("shop").channels)
    assert asked == ["Installed. Listen on channel 'orders feed' now?"]
    shop.execute("INSERT INTO \"Order Items\" VALUES (1, 'X-1', 2, 'pw')")
    run_until(qloop, lambda: any(e.channel == "orders feed" for e in events))
    ev = next(e for e in events if e.channel == "orders feed")
    assert ev.decoded.shape == "pgwatch" and ev.table == "Order Items" and ev.key == {"id": 1}
    assert "pw" not in ev.payload
    # two identical updates in one transaction: both arrive, told apart by "seq"
    with shop.transaction():
        for _ in range(2):
            shop.execute("UPDATE \"Order Items\" SET qty = 3 WHERE id = 1")
    run_until(qloop, lambda: sum(e.channel == "orders feed" for e in events) == 3)
    upd = [e for e in events if e.channel == "orders feed"][1:]
    assert [e.decoded.op for e in upd] == ["UPDATE", "UPDATE"]
    assert [e.decoded.value["seq"] for e in upd] == [1, 2]
    inspector = Inspector()
    qtbot.addWidget(inspector)
    inspector.show_event(upd[1])
    assert '"seq": 2' in inspector.json_view.toPlainText()
    assert inspector.title.text() == "UPDATE public.Order Items"
    run_until(qloop, lambda: "pgwatch" in marks(browser)[("public", "Order Items")])


def test_when_is_checked_by_the_server(qloop, qtbot, browser):
    dlg = open_dialog(qloop, browser, ("public", "customers"))
    qtbot.addWidget(dlg)
    for e in ("INSERT", "DELETE"):
        dlg.form.event_boxes[e].setChecked(False)
    dlg.form.when_edit.setText("NEW.nmae <> OLD.name")
    dlg.form.when_check.click()
    run_until(qloop, lambda: dlg.form.when_status.text() not in ("", "checking..."))
    assert "column new.nmae does not exist" in dlg.form.when_status.text()
    shot(dlg, "trigger_dialog_bad_when.png")
    dlg.form.when_edit.setText("NEW.name IS DISTINCT FROM OLD.name")
    dlg.form.when_check.click()
    run_until(qloop, lambda: dlg.form.when_status.text() == "OK")
    # what CREATE TRIGGER would refuse, Check refuses: NEW in a DELETE trigger
    dlg.form.event_boxes["DELETE"].setChecked(True)
    dlg.form.when_edit.setText("NEW.name <> 'x'")
    dlg.form.when_check.click()
    run_until(qloop, lambda: dlg.form.when_status.text() not in ("", "checking..."))
    assert "DELETE trigger's WHEN condition cannot reference NEW values" in \
        dlg.form.when_status.text()
    dlg.form.event_boxes["DELETE"].setChecked(False)
    dlg.form.when_edit.setText("")
    dlg.form.event_boxes["UPDATE"].setChecked(False)
    assert "at least one event" in dlg.form.problem.text()
    assert not dlg.preview_btn.isEnabled()


def test_install_on_every_table_of_a_schema_with_progress(qloop, qtbot, browser, shop, pg_dsn):
    shop.execute("CREATE FUNCTION archive.f() RETURNS trigger LANGUAGE plpgsql "
                 "AS $$BEGIN RETURN NULL; END$$")
    shop.execute("CREATE TRIGGER pgwatch_notify AFTER INSERT ON archive.b "
                 "FOR EACH ROW EXECUTE FUNCTION archive.f()")
    browser.dialog = None
    browser.install_schema("archive")
    run_until(qloop, lambda: browser.dialog is not None)
    dlg = browser.dialog
    qtbot.addWidget(dlg)
    assert len(dlg.tables) == 3 and dlg.per_table
    dlg.form.channel_edit.setText("archive")
    # the preview of all tables fails on b (a foreign trigger has our name): say so
    dlg.preview_btn.click()
    run_until(qloop, lambda: dlg.status.text() not in ("", "Reading the tables..."))
    assert "did not install" in dlg.status.text()
    shop.execute("DROP TRIGGER pgwatch_notify ON archive.b")
    dlg.preview_btn.click()
    run_until(qloop, lambda: dlg.plan is not None)
    shop.execute("CREATE TRIGGER pgwatch_notify AFTER INSERT ON archive.b "
                 "FOR EACH ROW EXECUTE FUNCTION archive.f()")  # appears meanwhile
    dlg.ask = lambda q, answer: answer(False)
    dlg.install_btn.click()
    run_until(qloop, lambda: dlg.progress.value() == 3 and not dlg.work.busy)
    assert dlg.failures and dlg.failures[0].startswith("archive.b:")
    assert dlg.progress.text() == "3 of 3 tables (1 failed)"
    shot(dlg, "trigger_dialog_schema_progress.png")
    installed = {i.table for i in call(pg_dsn, triggers.list_installed)}
    assert installed == {"a", "c"}


def test_remove_and_remove_all_ask_first(qloop, browser, pg_dsn, shop):
    install(pg_dsn, TriggerSpec("public", "customers"), TriggerSpec("archive", "a"))
    browser.refresh()
    run_until(qloop, lambda: browser.snapshot is not None and len(browser.snapshot.installed) == 2)
    browser.select(("public", "customers"))
    questions = []
    browser.ask = lambda q: questions.append(q) or False
    browser.remove_selected()
    assert len(call(pg_dsn, triggers.list_installed)) == 2  # said no
    browser.ask = lambda q: questions.append(q) or True
    browser.remove_selected()
    run_until(qloop, lambda: len(browser.snapshot.installed) == 1)
    browser.remove_all()
    run_until(qloop, lambda: not browser.snapshot.installed)
    assert "public.customers" in questions[0] and "every notify trigger" in questions[-1]
    assert pgwatch_leftovers(shop) == NOTHING_LEFT


def test_the_dock_shows_leftover_functions_and_remove_all_drops_them(qloop, browser, pg_dsn,
                                                                    shop):
    """A dropped table leaves its function: the dock lists it under the tables and
    Remove all... (enabled although no table has a trigger any more) drops it."""
    shop.execute("CREATE TABLE doomed (id int PRIMARY KEY)")
    install(pg_dsn, TriggerSpec("public", "doomed", channel="d"),
            TriggerSpec("public", "customers", channel="crm"))
    shop.execute("DROP TABLE doomed")
    shop.execute("DROP TRIGGER pgwatch_notify ON customers")  # by hand
    browser.refresh()
    run_until(qloop, lambda: browser.snapshot is not None and len(browser.snapshot.leftovers) == 2)
    top = browser.tree.topLevelItem(browser.tree.topLevelItemCount() - 1)
    assert top.text(0) == "⚠ Leftover functions (2)"
    rows = sorted((top.child(i).text(0), top.child(i).text(2)) for i in range(top.childCount()))
    assert [r[0] for r in rows] == ["public.customers", "public.doomed"]
    assert rows[0][1].startswith('made for public.customers, whose trigger is gone · '
                                 'pgwatch."public.customers#')
    assert rows[1][1].startswith("made for public.doomed, which no longer exists · ")
    assert "2 leftover functions (Remove all... drops them)" in browser.status.text()
    assert browser.remove_all_btn.isEnabled() and not browser.snapshot.installed
    shot(browser, "tables_leftovers_dock.png")
    browser.resize(1280, 720)
    shot(browser, "tables_leftovers_1280x720.png")
    browser.resize(1920, 1080)
    shot(browser, "tables_leftovers_1920x1080.png")
    browser.tree.setCurrentItem(top.child(0))
    assert browser.selected_tables() == [] and not browser.remove_btn.isEnabled()
    questions, said = [], []
    browser.ask = lambda q: questions.append(q) or True
    original = browser.set_status
    browser.set_status = lambda text, error=False: (said.append(text), original(text, error))
    browser.remove_all()
    run_until(qloop, lambda: not browser.snapshot.leftovers)
    assert "and 2 leftover functions that no trigger uses any more" in questions[0]
    assert "Removed from 0 table(s) and 2 leftover functions." in said
    assert pgwatch_leftovers(shop) == NOTHING_LEFT
    assert not browser.remove_all_btn.isEnabled()


def test_a_partitioned_table_says_how_many_partitions_its_trigger_reaches(qloop, browser,
                                                                          pg_dsn, shop):
    shop.execute("CREATE TABLE m (id int PRIMARY KEY) PARTITION BY RANGE (id)")
    shop.execute("CREATE TABLE m1 PARTITION OF m FOR VALUES FROM (0) TO (10)")
    shop.execute("CREATE TABLE m2 PARTITION OF m FOR VALUES FROM (10) TO (20)")
    install(pg_dsn, TriggerSpec("public", "m", channel="m"))
    browser.refresh()
    run_until(qloop, lambda: ("public", "m") in marks(browser) and "pgwatch" in
              marks(browser)[("public", "m")])
    assert marks(browser)[("public", "m")] == "● pgwatch → m (keys, +2 partitions)"
    assert ("public", "m1") not in marks(browser)  # partitions are not listed


def test_show_dialog_has_spec_and_function(qloop, qtbot, browser, pg_dsn):
    install(pg_dsn, TriggerSpec("public", "customers", channel="crm", exclude=("password_hash",)))
    browser.refresh()
    run_until(qloop, lambda: browser.snapshot is not None and browser.snapshot.installed)
    browser.select(("public", "customers"))
    browser.show_selected()
    dlg = browser.dialog
    qtbot.addWidget(dlg)
    run_until(qloop, lambda: "CREATE OR REPLACE FUNCTION" in dlg.text.toPlainText())
    text = dlg.text.toPlainText()
    shot(dlg, "show_trigger.png")
    assert '"exclude": [\n    "password_hash"' in text and "CREATE TRIGGER pgwatch_notify" in text


def test_dialog_changes_an_installed_trigger_and_builds_per_row_specs(qloop, qtbot, browser,
                                                                      pg_dsn):
    install(pg_dsn, TriggerSpec("public", "customers", channel="crm", payload="row",
                                exclude=("password_hash",)))
    browser.refresh()
    run_until(qloop, lambda: browser.snapshot is not None and browser.snapshot.installed)
    dlg = open_dialog(qloop, browser, ("public", "customers"))
    qtbot.addWidget(dlg)
    form = dlg.form
    assert form.channel_edit.text() == "crm" and form.mode() == "row"
    assert form.exclude_list.item(2).checkState() == Qt.Checked
    form.channel_per_row.setChecked(True)
    assert "prefix" in form.problem.text() or "channel" in form.problem.text()
    form.prefix_edit.setText("customer_")
    form.channel_column.setCurrentText("id")
    (spec,) = form.specs()
    assert (spec.channel, spec.channel_column, spec.exclude) == ("customer_", "id",
                                                                 ("password_hash",))
    assert form.problem_text() is None


def test_when_that_is_not_one_expression_is_red_under_the_field(qloop, qtbot, browser, shop):
    from tests.core.test_trigger_when import DROP_VICTIM

    dlg = open_dialog(qloop, browser, ("public", "customers"))
    qtbot.addWidget(dlg)
    dlg.form.event_boxes["DELETE"].setChecked(False)
    dlg.form.when_edit.setText(DROP_VICTIM)
    assert dlg.form.when_status.text().startswith("Not one SQL expression")
    assert "#cf222e" in dlg.form.when_status.styleSheet()
    assert not dlg.preview_btn.isEnabled()
    assert "WHEN condition" in dlg.form.problem_text()
    dlg.form.when_edit.setText("NEW.name <> 'a;b'")
    assert dlg.form.when_status.text() == "" and dlg.preview_btn.isEnabled()


def test_install_straight_from_the_form_and_the_dock_follows(qloop, qtbot, browser, pg_dsn):
    dlg = open_dialog(qloop, browser, ("public", "Order Items"))
    qtbot.addWidget(dlg)
    form = dlg.form
    assert form.channel_edit.text() == "order_items"  # suggested from the table
    form.event_boxes["UPDATE"].setChecked(False)
    ops = [form.example_op.itemText(i) for i in range(form.example_op.count())]
    assert ops == ["INSERT", "DELETE"]
    assert json.loads(form.example.toPlainText())["op"] != "UPDATE"
    assert dlg.install_btn.isVisible() and dlg.install_btn.isEnabled()
    assert dlg.plan is None
    dlg.ask = lambda q, answer: answer(False)
    dlg.install_btn.click()  # no Preview SQL... first
    run_until(qloop, lambda: dlg.install_done)
    assert dlg.sql_view.toPlainText() == dlg.plan.script  # what ran was shown
    installed = {i.table: i.spec for i in call(pg_dsn, triggers.list_installed)}
    assert installed["Order Items"].channel == "order_items"
    assert installed["Order Items"].events == ("INSERT", "DELETE")
    # the Tables dock shows it without Refresh
    run_until(qloop, lambda: "pgwatch" in marks(browser)[("public", "Order Items")])
