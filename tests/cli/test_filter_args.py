"""The shared filter flags: one FilterSpec, one-line errors."""

import argparse

import pytest

from pgwatch_gui.cli.common import CliError
from pgwatch_gui.cli.filter_args import add_filter_args, filter_spec_from_args
from pgwatch_gui.core.filtering.engine import FilterSpec
from pgwatch_gui.core.filtering.facets import OP_NONE


def _parse(argv, with_channel=False):
    p = argparse.ArgumentParser()
    if with_channel:
        p.add_argument("-c", "--channel", action="append")
    add_filter_args(p)
    return filter_spec_from_args(p.parse_args(argv))


def test_no_flags_is_the_empty_spec():
    assert _parse([]) == FilterSpec()
    assert _parse([]).is_empty


def test_every_flag_lands_in_the_spec():
    spec = _parse(["--text", "shop", "--regex", "--case-sensitive", "--where", "op = DELETE",
                   "--channel", "a", "--channel", "b", "--op", "delete", "--op", "none",
                   "--table", "public.orders", "--hide-own"])
    assert spec == FilterSpec(text="shop", regex=True, case_sensitive=True,
                              channels=frozenset({"a", "b"}),
                              ops=frozenset({"DELETE", OP_NONE}),
                              table_names=frozenset({"public.orders"}), fields="op = DELETE",
                              hide_own=True)  # --table: SQL form or as shown (issue 21)


def test_a_command_with_its_own_table_flag_keeps_it():
    p = argparse.ArgumentParser()
    p.add_argument("--table", action="append")
    add_filter_args(p)
    args = p.parse_args(["--table", '"Sales Dept"."Order Items"', "--op", "insert"])
    assert args.table == ['"Sales Dept"."Order Items"']
    spec = filter_spec_from_args(args)
    assert spec.tables == spec.table_names == frozenset()
    assert spec.ops == frozenset({"INSERT"})


def test_a_command_with_its_own_channel_flag_keeps_it():
    spec = _parse(["--channel", "x", "--text", "t"], with_channel=True)
    assert spec.channels == frozenset() and spec.text == "t"


@pytest.mark.parametrize("argv", [["--where", "row.a = = 1"], ["--where", "and"],
                                  ["--text", "(", "--regex"], ["--op", "MERGE"]])
def test_malformed_parts_are_one_line_cli_errors(argv):
    with pytest.raises(CliError) as err:
        _parse(argv)
    assert "\n" not in str(err.value) and err.value.code == 2
