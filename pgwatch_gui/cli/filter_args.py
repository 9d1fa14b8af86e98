"""The filter-bar flags, shared by `filter`, `listen` (and any command that filters events).

One engine: the flags become a core.filtering FilterSpec, exactly what the window's
filter bar builds, and `compile_filter` decides. A malformed condition or regular
expression is a CliError (one line, exit 2), never a silently ignored part.
"""

from __future__ import annotations

import argparse

from pgwatch_gui.cli.common import CliError
from pgwatch_gui.core.filtering.engine import FilterSpec, compile_filter
from pgwatch_gui.core.filtering.facets import OP_NONE
from pgwatch_gui.core.pg.names import table_candidates

_OPS = ("INSERT", "UPDATE", "DELETE", "TRUNCATE")


def add_filter_args(parser: argparse.ArgumentParser) -> None:
    """Add --text, --regex, --case-sensitive, --where, --channel, --op, --table, --hide-own."""
    g = parser.add_argument_group(
        "filter", "keep only matching events (the window's filter bar; all given parts "
        "must match, a repeated flag matches any of its values)")
    g.add_argument("--text", metavar="TEXT", default="",
                   help="free text in the channel or payload (and the table/key as shown)")
    g.add_argument("--regex", action="store_true",
                   help="--text is a regular expression (matched on channel and payload)")
    g.add_argument("--case-sensitive", action="store_true", help="--text matches case")
    g.add_argument("--where", metavar="CONDITION", default="",
                   help="field conditions, e.g. \"op = DELETE and row.status = shipped\"")
    if "--channel" not in parser._option_string_actions:
        # A command that already has --channel (listen: the channels to LISTEN on)
        # keeps its own; those events are all on its channels anyway.
        g.add_argument("--channel", dest="filter_channel", metavar="NAME",
                       action="append", default=None, help="only this channel (repeatable)")
    g.add_argument("--op", metavar="OP", action="append", default=None,
                   help="only this operation: INSERT, UPDATE, DELETE, TRUNCATE or none "
                   "(repeatable)")
    if "--table" not in parser._option_string_actions:
        # A command that already has --table (changes: the tables to watch) keeps its
        # own; its events come from those tables only anyway.
        g.add_argument("--table", dest="filter_table", metavar="SCHEMA.TABLE",
                       action="append", default=None,
                       help="only this table, in SQL form ('\"Sales Dept\".\"Order Items\"') or "
                       "as the table column shows it (Sales Dept.Order Items); without a "
                       "schema, in any schema (repeatable)")
    g.add_argument("--hide-own", action="store_true",
                   help="hide notifications this program's own session sent")


def _op(value: str) -> str:
    v = value.strip()
    if v.upper() in _OPS:
        return v.upper()
    if v.lower() in ("none", OP_NONE):
        return OP_NONE
    raise CliError(f"--op {value!r}: expected one of INSERT, UPDATE, DELETE, TRUNCATE, none")


def _table(value: str) -> str:
    if not table_candidates(value):
        raise CliError(f"--table {value!r} is not a table name: write it in SQL form "
                       "(public.\"Order Items\") or as the table column shows it "
                       "(public.Order Items)")
    return value


def filter_spec_from_args(args: argparse.Namespace) -> FilterSpec:
    """The FilterSpec the flags ask for; CliError (one line) on a malformed part."""
    channels = getattr(args, "filter_channel", None)
    spec = FilterSpec(
        text=getattr(args, "text", "") or "",
        regex=bool(getattr(args, "regex", False)),
        case_sensitive=bool(getattr(args, "case_sensitive", False)),
        channels=frozenset(channels or ()),
        ops=frozenset(_op(o) for o in (getattr(args, "op", None) or ())),
        table_names=frozenset(_table(t) for t in getattr(args, "filter_table", None) or ()),
        fields=getattr(args, "where", "") or "",
        hide_own=bool(getattr(args, "hide_own", False)),
    )
    errors = compile_filter(spec).errors
    if "fields" in errors:
        raise CliError(f"--where: {errors['fields']}")
    if "text" in errors:
        raise CliError(f"--text: {errors['text']}")
    return spec
