"""The istanbul coverage maths on small handmade coverage maps (the real-data check is in test_unit_tests.py)."""

from __future__ import annotations

import json

import pytest

from ci.stages.tests.coverage import Totals, file_totals, merge, parse, percent, relativize, source_root, summarize
from ci.core.step import ReportError
from istanbul import file


def test_percent_rounds_down_to_two_decimals_like_istanbul():
    assert percent(2, 3) == 66.66  # istanbul floors; rounding would give 66.67
    assert percent(1, 3) == 33.33
    assert percent(321, 323) == 99.38
    assert percent(5, 5) == 100.0
    assert percent(0, 0) == 100.0  # nothing to cover counts as covered, as in istanbul
    assert Totals(1, 8).pct == 12.5


def test_file_totals_count_hit_statements_functions_and_branch_arms():
    totals = file_totals(file("/r/a.ts", s=[1, 0, 3, 0], f=[2, 0], b=[[1, 0], [0, 0, 4]]))
    assert totals == {
        "lines": Totals(2, 4),
        "branches": Totals(2, 5),
        "functions": Totals(1, 2),
        "statements": Totals(2, 4),
    }


def test_a_line_counts_as_hit_when_any_statement_starting_on_it_was_hit():
    # Three statements on line 1 (one hit), one on line 2 (not hit): istanbul keeps each line's highest count.
    totals = file_totals(file("/r/a.ts", s=[0, 1, 0, 0], f=[], b=[], lines=[1, 1, 1, 2]))
    assert totals["lines"] == Totals(1, 2)
    assert totals["statements"] == Totals(1, 4)


def test_summarize_adds_the_files_up():
    coverage = {"/r/a.ts": file("/r/a.ts", [1, 0], [1], [[1, 1]]), "/r/b.ts": file("/r/b.ts", [0, 0, 1], [0], [])}
    totals = summarize(coverage)
    assert totals == {"lines": Totals(2, 5), "branches": Totals(2, 2), "functions": Totals(1, 2),
                      "statements": Totals(2, 5)}
    assert totals["lines"].pct == 40.0


def test_merge_sums_hits_per_file_across_shards():
    one = {"/r/a.ts": file("/r/a.ts", [1, 0, 0], [1, 0], [[1, 0]])}
    two = {"/r/a.ts": file("/r/a.ts", [0, 2, 0], [0, 0], [[0, 3]]), "/r/b.ts": file("/r/b.ts", [1], [], [])}
    merged = merge([("shard1", one), ("shard2", two)])
    assert merged["/r/a.ts"]["s"] == {"0": 1, "1": 2, "2": 0}
    assert merged["/r/a.ts"]["f"] == {"0": 1, "1": 0}
    assert merged["/r/a.ts"]["b"] == {"0": [1, 3]}
    assert merged["/r/b.ts"]["s"] == {"0": 1}  # a file only one shard has is taken as it is
    assert summarize(merged)["statements"] == Totals(3, 4)
    assert one["/r/a.ts"]["s"] == {"0": 1, "1": 0, "2": 0}  # the inputs are not changed


def test_merging_coverage_of_different_code_is_refused():
    one = {"/r/a.ts": file("/r/a.ts", [1, 0], [], [])}
    two = {"/r/a.ts": file("/r/a.ts", [1, 0, 1], [], [])}
    with pytest.raises(ReportError, match=r"coverage of /r/a.ts was measured on different code in shard1 and shard2"):
        merge([("shard1", one), ("shard2", two)])


def test_relativize_keys_files_by_their_path_under_the_run_directory():
    coverage = {"/runner/x/src/lib/a.ts": {}, "/elsewhere/b.ts": {}}
    assert relativize(coverage, "/runner/x/src") == {"lib/a.ts": {}, "/elsewhere/b.ts": {}}
    assert relativize(coverage, "/runner/x/src/") == {"lib/a.ts": {}, "/elsewhere/b.ts": {}}


def test_source_root_is_read_from_the_cobertura_report():
    xml = (b'<?xml version="1.0" ?>\n<!DOCTYPE coverage SYSTEM "http://cobertura.sourceforge.net/xml/coverage-04.dtd">\n'
           b"<coverage><sources><source>/src</source></sources><packages/></coverage>")
    assert source_root(xml, "cobertura-coverage.xml") == "/src"
    with pytest.raises(ReportError, match="names no <source>"):
        source_root(b"<coverage><packages/></coverage>", "x.xml")
    with pytest.raises(ReportError, match="x.xml is not XML"):
        source_root(b"<coverage", "x.xml")


@pytest.mark.parametrize(("data", "message"), [
    (b"{not json", "shard1/coverage-final.json is not JSON"),
    (b"[]", "is not an istanbul coverage map"),
    (b'{"/r/a.ts": {"s": {}}}', "the entry for /r/a.ts lacks statementMap/s"),
    (json.dumps({"/r/a.ts": {**file("/r/a.ts", [1], [], []), "s": {"0": 1, "9": 0}}}).encode(),
     "the coverage of /r/a.ts is malformed"),
    (json.dumps({"/r/a.ts": {**file("/r/a.ts", [1], [], []), "s": {"0": "1"}}}).encode(),
     "the coverage of /r/a.ts is malformed"),
    (json.dumps({"/r/a.ts": {**file("/r/a.ts", [], [], [[1]]), "b": {"0": 1}}}).encode(),
     "the coverage of /r/a.ts is malformed"),
    (json.dumps({"/r/a.ts": {**file("/r/a.ts", [1], [], []), "statementMap": {"0": {"end": {}}}}}).encode(),
     "the coverage of /r/a.ts is malformed"),
])
def test_unreadable_coverage_is_a_report_error(data: bytes, message: str):
    with pytest.raises(ReportError, match=message):
        parse(data, "shard1/coverage-final.json")
