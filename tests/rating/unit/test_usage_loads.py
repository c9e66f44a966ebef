"""Mediation files, plain values: a CSV header's columns, each line read as a usage event or a
rejected row with its reasons (every kind of malformed line), a load's states and progress."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from libs.contracts.usage import UsageRecord
from libs.platform.errors import ValidationFailed
from rating.domain.usage_loads import (
    MAX_KEPT_REJECTIONS,
    ChunkOutcome,
    CsvHeader,
    LoadFormat,
    LoadState,
    RejectedRow,
    UsageLoad,
    csv_fields,
    read_csv_header,
    rejections_to_keep,
)
from rating.schemas.usage_loads import UnsupportedMediaType, read_row, upload_format

HEADER = read_csv_header("event_id,subscription_id,account_id,meter,quantity,timestamp,properties.region")
T0 = datetime(2026, 7, 15, 12, tzinfo=UTC)


def _csv(line: str, header: CsvHeader = HEADER) -> UsageRecord | RejectedRow | None:
    return read_row(LoadFormat.CSV, header, line.encode(), 7)


def _ndjson(line: str | bytes) -> UsageRecord | RejectedRow | None:
    return read_row(LoadFormat.NDJSON, None, line if isinstance(line, bytes) else line.encode(), 7)


def _codes(row: object) -> set[tuple[str, str]]:
    assert isinstance(row, RejectedRow), row
    assert row.line == 7
    return {(e.field, e.code) for e in row.errors}


# --- the CSV header -----------------------------------------------------------------------------


def test_a_header_names_its_columns_in_order_whatever_the_bom_spaces_and_line_ending() -> None:
    header = read_csv_header(
        "\ufeffevent_id, account_id ,meter,quantity,timestamp,properties,properties.user\r\n"
    )
    assert header.columns == (
        "event_id",
        "account_id",
        "meter",
        "quantity",
        "timestamp",
        "properties",
        "properties.user",
    )
    assert header.width == 7


@pytest.mark.parametrize(
    ("line", "problems"),
    [
        ("event_id,meter,quantity,timestamp", {("header", "missing_column")}),
        ("event_id,account_id,meter,quantity", {("header", "missing_column")}),
        ("event_id,account_id,meter,quantity,timestamp,qty", {("header.6", "unknown_column")}),
        ("event_id,account_id,meter,quantity,timestamp,meter", {("header.6", "duplicate_column")}),
        ("event_id,account_id,meter,quantity,timestamp,properties.", {("header.6", "unknown_column")}),
        ("event_id,account_id,meter,quantity,timestamp,properties.-x", {("header.6", "unknown_column")}),
        ('event_id,account_id,"meter,quantity,timestamp', {("header", "header_invalid")}),
        ("", {("header", "missing_column")}),
    ],
)
def test_a_header_that_names_no_usable_columns_is_refused_with_every_problem(
    line: str, problems: set[tuple[str, str]]
) -> None:
    with pytest.raises(ValidationFailed) as refused:
        read_csv_header(line)
    assert {(e.field, e.code) for e in refused.value.errors} == problems


def test_a_header_takes_at_most_32_property_columns() -> None:
    names = ",".join(f"properties.p{i}" for i in range(33))
    with pytest.raises(ValidationFailed) as refused:
        read_csv_header(f"event_id,account_id,meter,quantity,timestamp,{names}")
    assert [(e.field, e.code) for e in refused.value.errors] == [("header", "too_many_columns")]


# --- CSV lines ----------------------------------------------------------------------------------


def test_a_csv_line_is_an_event_with_its_properties_as_text_and_empty_fields_left_out() -> None:
    record = _csv("e-1,sub_1,,api_calls,2.5,2026-07-01T09:30:00+02:00,eu")
    assert isinstance(record, UsageRecord)
    assert (record.event_id, record.subscription_id, record.account_id) == ("e-1", "sub_1", None)
    assert record.quantity == Decimal("2.5")
    assert record.timestamp == datetime(2026, 7, 1, 7, 30, tzinfo=UTC)
    assert record.properties == {"region": "eu"}
    assert isinstance(record := _csv("e-2,,acct_1,api_calls,1,2026-07-01T09:30:00Z,"), UsageRecord)
    assert record.properties == {}


def test_a_json_properties_column_keeps_its_types_beside_the_named_ones() -> None:
    header = read_csv_header("event_id,account_id,meter,quantity,timestamp,properties,properties.region")
    record = _csv('e-1,acct_1,m,1,2026-07-01T09:30:00Z,"{""seats"": 3, ""trial"": true}",eu', header)
    assert isinstance(record, UsageRecord)
    assert record.properties == {"seats": 3, "trial": True, "region": "eu"}


@pytest.mark.parametrize(
    ("line", "problems"),
    [
        ("e-1,sub_1,,m,1,2026-07-01T09:30:00Z", {("line", "column_count")}),  # a field short
        ("e-1,sub_1,,m,1,2026-07-01T09:30:00Z,eu,extra", {("line", "column_count")}),
        ('e-1,sub_1,,m,1,2026-07-01T09:30:00Z,"eu', {("line", "csv_invalid")}),  # quote left open
        ('e-1,sub_1,,m,1,2026-07-01T09:30:00Z,"eu"x', {("line", "csv_invalid")}),  # text after quotes
        ("e-1,sub_1,,m,-1,2026-07-01T09:30:00Z,eu", {("quantity", "decimal_format")}),
        ("e-1,sub_1,,m,ten,2026-07-01T09:30:00Z,eu", {("quantity", "decimal_format")}),
        ("e-1,sub_1,,m,1,2026-07-01T09:30:00,eu", {("timestamp", "timezone_aware")}),
        ("e-1,sub_1,,m,1,yesterday,eu", {("timestamp", "datetime_from_date_parsing")}),
        ("e 1,sub_1,,m,1,2026-07-01T09:30:00Z,eu", {("event_id", "string_pattern_mismatch")}),
        (",sub_1,,m,1,2026-07-01T09:30:00Z,eu", {("event_id", "missing")}),
        ("e-1,,,m,1,2026-07-01T09:30:00Z,eu", {("event", "value_error")}),  # no reference
        ("e-1,sub_1,,Meter!,1,2026-07-01T09:30:00Z,eu", {("meter", "string_pattern_mismatch")}),
        ("e-1,sub_1,,m,1,2026-07-01T09:30:00Z,e\x01u", {("properties.region", "string_pattern_mismatch")}),
    ],
)
def test_a_malformed_csv_line_is_a_rejected_row_with_its_reasons(
    line: str, problems: set[tuple[str, str]]
) -> None:
    assert _codes(_csv(line)) == problems


def test_a_rejected_csv_row_keeps_its_event_id_when_it_has_one() -> None:
    rejected = _csv("e-9,sub_1,,m,-1,2026-07-01T09:30:00Z,eu")
    assert isinstance(rejected, RejectedRow) and rejected.event_id == "e-9"
    assert isinstance(malformed := _csv('e-9,"sub_1'), RejectedRow) and malformed.event_id is None


@pytest.mark.parametrize(
    ("properties", "problems"),
    [
        ('"{not json"', {("properties", "json_invalid")}),
        ('"[1, 2]"', {("properties", "dict_type")}),
        ('"{""region"": ""us""}"', {("properties.region", "duplicate")}),
        ('"{""seats"": 1.5}"', {("properties.seats", "string_type")}),
    ],
)
def test_a_bad_json_properties_column_rejects_its_row(
    properties: str, problems: set[tuple[str, str]]
) -> None:
    header = read_csv_header("event_id,account_id,meter,quantity,timestamp,properties,properties.region")
    assert _codes(_csv(f"e-1,acct_1,m,1,2026-07-01T09:30:00Z,{properties},eu", header)) >= problems


def test_blank_lines_are_no_rows_and_line_endings_are_not_part_of_the_last_field() -> None:
    assert _csv("") is None and _csv("  \t ") is None and _csv("\r\n") is None
    record = _csv("e-1,sub_1,,m,1,2026-07-01T09:30:00Z,eu\r\n")
    assert isinstance(record, UsageRecord) and record.properties == {"region": "eu"}


def test_a_line_that_is_not_utf8_is_a_rejected_row() -> None:
    assert _codes(read_row(LoadFormat.CSV, HEADER, b"e-1,\xff,,m,1,x,eu", 7)) == {("line", "utf8_invalid")}
    assert _codes(_ndjson(b'{"event_id": "\xc3"}')) == {("line", "utf8_invalid")}


@given(
    st.lists(
        st.text(alphabet=st.characters(blacklist_characters="\r\n"), max_size=20), min_size=1, max_size=8
    )
)
def test_csv_fields_read_back_what_a_csv_writer_wrote_on_one_line(fields: list[str]) -> None:
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow(fields)
    line = out.getvalue()
    if line == '""' and fields == [""]:
        return  # a lone empty field is written as "" and read as one empty field
    assert csv_fields(line) == fields


# --- NDJSON lines -------------------------------------------------------------------------------


def test_an_ndjson_line_is_an_event_and_unknown_fields_are_ignored() -> None:
    line = {
        "event_id": "n-1",
        "account_id": "acct_1",
        "meter": "m",
        "quantity": "0.25",
        "timestamp": "2026-07-01T09:30:00Z",
        "properties": {"seats": 2},
        "source": "cdr",
    }
    record = _ndjson(json.dumps(line))
    assert isinstance(record, UsageRecord)
    assert (record.quantity, record.properties) == (Decimal("0.25"), {"seats": 2})


@pytest.mark.parametrize(
    ("line", "problems"),
    [
        ("{not json", {("line", "json_invalid")}),
        ('{"event_id": "n-1"', {("line", "json_invalid")}),
        ("[1, 2, 3]", {("event", "model_type")}),
        ('"just text"', {("event", "model_type")}),
        ("[" * 10_001 + "]" * 10_001, {("line", "too_complex")}),
    ],
)
def test_an_ndjson_line_that_is_no_event_object_is_a_rejected_row(
    line: str, problems: set[tuple[str, str]]
) -> None:
    assert _codes(_ndjson(line)) == problems


def test_an_ndjson_event_with_bad_fields_is_rejected_with_each_reason_and_its_event_id() -> None:
    rejected = _ndjson(
        '{"event_id": "n-2", "account_id": "acct_1", "meter": "m", "quantity": 0.99999999999999999}'
    )
    assert isinstance(rejected, RejectedRow) and rejected.event_id == "n-2"
    assert {field for field, _ in _codes(rejected)} == {"quantity", "timestamp"}


# --- the upload's format ------------------------------------------------------------------------


def test_the_format_is_the_query_s_else_the_media_type_s() -> None:
    assert upload_format(None, "text/csv; charset=utf-8") is LoadFormat.CSV
    assert upload_format(None, "application/x-ndjson") is LoadFormat.NDJSON
    assert upload_format(None, "application/jsonl") is LoadFormat.NDJSON
    assert upload_format(LoadFormat.NDJSON, "text/csv") is LoadFormat.NDJSON
    assert upload_format(LoadFormat.CSV, "application/octet-stream") is LoadFormat.CSV
    with pytest.raises(UnsupportedMediaType):
        upload_format(None, "application/json")
    with pytest.raises(UnsupportedMediaType):
        upload_format(None, None)


# --- a load's states and progress ---------------------------------------------------------------


def _load(size: int = 1000) -> UsageLoad:
    return UsageLoad(id="ul_1", format=LoadFormat.CSV, size_bytes=size, sha256="0" * 64, created_at=T0)


def test_a_load_counts_its_chunks_and_reports_its_share_and_speed() -> None:
    load = _load()
    assert (load.percent, load.rows_per_second(T0)) == (0.0, None)
    load.start(worker="w", lease_until=T0 + timedelta(seconds=60), now=T0)
    load.add_chunk(
        ChunkOutcome(250, 10, 9, accepted=7, counted=6, unmatched=1, duplicates=1, rejected=1), kept=1, now=T0
    )
    load.add_chunk(ChunkOutcome(500, 20, 10, accepted=10, counted=9, late=1), kept=0, now=T0)
    assert load.percent == 50.0
    assert (load.progress.rows_read, load.progress.accepted, load.progress.counted) == (19, 17, 15)
    assert (load.progress.late, load.progress.unmatched, load.progress.duplicates) == (1, 1, 1)
    assert (load.progress.rejected, load.rejections_kept, load.progress.lines_done) == (1, 1, 20)
    assert load.rows_per_second(T0 + timedelta(seconds=2)) == 9
    load.complete(T0 + timedelta(seconds=4))
    assert (load.state, load.percent, load.worker, load.lease_until) == (
        LoadState.COMPLETED,
        100.0,
        None,
        None,
    )
    assert load.rows_per_second(T0 + timedelta(hours=1)) == 4  # 19 rows over the 4 s it took


def test_a_finished_load_is_not_taken_again_and_a_retaken_one_keeps_its_position() -> None:
    load = _load()
    load.start(worker="a", lease_until=T0, now=T0)
    load.add_chunk(ChunkOutcome(100, 5, 4), kept=0, now=T0)
    load.start(worker="b", lease_until=T0 + timedelta(seconds=60), now=T0 + timedelta(seconds=90))
    assert (load.worker, load.started_at, load.progress.bytes_done) == ("b", T0, 100)
    load.fail("the spooled file is gone", T0)
    with pytest.raises(ValueError):
        load.start(worker="c", lease_until=T0, now=T0)
    assert load.state is LoadState.FAILED and load.failure_reason == "the spooled file is gone"


def test_only_the_first_rejected_rows_of_a_load_are_kept() -> None:
    load = _load()
    load.rejections_kept = MAX_KEPT_REJECTIONS - 2
    rows = [RejectedRow(line, None, []) for line in (3, 5, 8)]
    assert [row.line for row in rejections_to_keep(load, rows)] == [3, 5]
    load.rejections_kept = MAX_KEPT_REJECTIONS
    assert rejections_to_keep(load, rows) == []
