"""Channels found by reading hand-written trigger functions (no database needed)."""

from __future__ import annotations

from pgwatch_gui.core.triggers.discovery import DYNAMIC, FIXED, PREFIX, discover_channels, tokenize


def chans(src, args=()):
    notifies, found = discover_channels(src, args)
    return notifies, [(c.kind, c.name, c.column) for c in found]


def test_literal_pg_notify():
    assert chans("BEGIN PERFORM pg_notify('channel_name', NEW.message); RETURN NEW; END") == (
        True, [(FIXED, "channel_name", None)])


def test_comments_and_strings_do_not_fool_it():
    src = """BEGIN
      -- PERFORM pg_notify('commented_out', '');
      /* NOTIFY nope; /* nested */ still comment */
      RAISE NOTICE 'we notify users here';
      PERFORM pg_notify('real', 'it''s -- not a comment');
    END"""
    assert chans(src) == (True, [(FIXED, "real", None)])


def test_prefix_channel_through_a_variable():
    src = """DECLARE channel_name TEXT; BEGIN
      channel_name := 'user_notifications_' || NEW.user_id;
      PERFORM pg_notify(channel_name, json_build_object('id', NEW.id)::text); END"""
    assert chans(src) == (True, [(PREFIX, "user_notifications_", "user_id")])


def test_declared_default_cast_and_quoted_column():
    src = """DECLARE ch text DEFAULT 'x_' || coalesce(NEW."User Id"::text, '');
      BEGIN PERFORM pg_catalog.pg_notify((ch)::text, ''); END"""
    assert chans(src) == (True, [(PREFIX, "x_", "User Id")])


def test_notify_statement_folds_unquoted_names():
    assert chans('BEGIN NOTIFY Orders_Changed; NOTIFY "Mixed", \'x\'; END') == (
        True, [(FIXED, "orders_changed", None), (FIXED, "Mixed", None)])


def test_execute_strings_and_dollar_quotes():
    src = "BEGIN EXECUTE 'NOTIFY queue_a'; EXECUTE $q$SELECT pg_notify('queue_b', '')$q$; END"
    assert chans(src) == (True, [(FIXED, "queue_a", None), (FIXED, "queue_b", None)])


def test_trigger_arguments_and_dynamic_channels():
    src = """BEGIN PERFORM pg_notify(TG_ARGV[0], 'a');
      PERFORM pg_notify(TG_TABLE_NAME || '_changes', 'b');
      EXECUTE format('NOTIFY %I', TG_TABLE_NAME); END"""
    notifies, found = chans(src, ["from_args"])
    assert notifies
    assert found[0] == (FIXED, "from_args", None)
    assert [k for k, _, _ in found[1:]] == [DYNAMIC, DYNAMIC]


def test_branches_give_every_channel():
    src = """DECLARE ch text; BEGIN
      IF TG_OP = 'DELETE' THEN ch := 'gone'; ELSE ch := 'here'; END IF;
      PERFORM pg_notify(ch, ''); END"""
    assert chans(src) == (True, [(FIXED, "gone", None), (FIXED, "here", None)])


def test_not_a_notify_trigger():
    assert chans("BEGIN NEW.updated_at := now(); NEW.notify := true; RETURN NEW; END") == (
        False, [])


def test_tokenizer_survives_garbage():
    for src in ["'unterminated", "$a$ never closed", '"open', "/* open", "E'\\", "\x00"]:
        tokenize(src)
        discover_channels(src)
