"""The spool of mediation files on a real file system: an upload is written whole or not at all,
and read back line by line from any committed position, a too-long line skipped in pieces."""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from rating.domain.usage_loads import MAX_LINE_BYTES
from rating.repository.usage_files import SpoolDirectory


async def _body(*pieces: bytes, fail_after: int | None = None) -> AsyncIterator[bytes]:
    for index, piece in enumerate(pieces):
        if fail_after is not None and index == fail_after:
            raise ConnectionError("the client went away")
        yield piece


async def test_an_upload_is_written_whole_with_its_size_hash_and_first_line(tmp_path: Path) -> None:
    spool = SpoolDirectory(tmp_path / "spool")
    content = b"event_id,account_id\r\n" + b"x" * 100_000 + b"\nlast\n"

    spooled = await spool.receive("ul_1.csv", _body(content[:7], b"", content[7:50_000], content[50_000:]))

    assert (spooled.name, spooled.size) == ("ul_1.csv", len(content))
    assert spooled.sha256 == hashlib.sha256(content).hexdigest()
    assert spooled.first_line == b"event_id,account_id\r\n" == spool.first_line("ul_1.csv")
    assert (tmp_path / "spool" / "ul_1.csv").read_bytes() == content
    assert os.listdir(tmp_path / "spool") == ["ul_1.csv"]


async def test_an_upload_that_breaks_off_leaves_nothing(tmp_path: Path) -> None:
    spool = SpoolDirectory(tmp_path / "spool")
    with pytest.raises(ConnectionError):
        await spool.receive("ul_2.csv", _body(b"a,b\n", b"1,2\n", fail_after=1))
    assert os.listdir(tmp_path / "spool") == []


async def test_a_first_line_longer_than_the_limit_is_cut_at_the_limit(tmp_path: Path) -> None:
    spool = SpoolDirectory(tmp_path)
    spooled = await spool.receive("ul_3.csv", _body(b"h" * (MAX_LINE_BYTES + 10), b"\nrow\n"))
    assert spooled.first_line == b"h" * MAX_LINE_BYTES


def test_lines_are_read_with_their_numbers_and_ends_and_go_on_from_any_position(tmp_path: Path) -> None:
    (tmp_path / "f.csv").write_bytes(b"header\r\none\n\ntwo\nthree")
    spool = SpoolDirectory(tmp_path)

    with spool.open("f.csv", offset=0, line=0) as reader:
        first = reader.read(3)
        rest = reader.read(10)
        assert reader.read(10) == []

    assert [(line.number, line.end, line.text) for line in first] == [
        (1, 8, b"header\r\n"),
        (2, 12, b"one\n"),
        (3, 13, b"\n"),
    ]
    assert [(line.number, line.end, line.text) for line in rest] == [(4, 17, b"two\n"), (5, 22, b"three")]
    with spool.open("f.csv", offset=13, line=3) as resumed:
        assert [(line.number, line.text) for line in resumed.read(10)] == [(4, b"two\n"), (5, b"three")]


def test_a_line_longer_than_the_limit_is_skipped_without_being_held(tmp_path: Path) -> None:
    long_line = b"y" * (3 * MAX_LINE_BYTES) + b"\n"
    (tmp_path / "f.ndjson").write_bytes(b"a\n" + long_line + b"b\n")

    with SpoolDirectory(tmp_path).open("f.ndjson", offset=0, line=0) as reader:
        lines = reader.read(10)

    assert [(line.number, line.text) for line in lines] == [(1, b"a\n"), (2, None), (3, b"b\n")]
    assert lines[1].end == 2 + len(long_line) and lines[2].end == lines[1].end + 2


def test_a_line_of_exactly_the_limit_is_kept(tmp_path: Path) -> None:
    line = b"z" * MAX_LINE_BYTES + b"\n"
    (tmp_path / "f.csv").write_bytes(line + b"next\n")
    with SpoolDirectory(tmp_path).open("f.csv", offset=0, line=0) as reader:
        assert [x.text for x in reader.read(5)] == [line, b"next\n"]


def test_stale_files_are_those_not_written_to_for_a_while(tmp_path: Path) -> None:
    spool = SpoolDirectory(tmp_path / "spool")
    assert spool.stale(older_than=timedelta(hours=1)) == []  # no directory yet
    (tmp_path / "spool").mkdir()
    old, new = tmp_path / "spool" / "ul_old.csv.part", tmp_path / "spool" / "ul_new.csv"
    old.write_bytes(b"x")
    new.write_bytes(b"x")
    two_days_ago = time.time() - 2 * 86400
    os.utime(old, (two_days_ago, two_days_ago))

    assert spool.stale(older_than=timedelta(days=1)) == ["ul_old.csv.part"]
    spool.remove("ul_old.csv.part")
    spool.remove("ul_old.csv.part")  # gone already: nothing happens
    assert os.listdir(tmp_path / "spool") == ["ul_new.csv"]
