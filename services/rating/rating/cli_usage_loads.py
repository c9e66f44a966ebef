"""`python -m rating.cli load-usage FILE`: upload a mediation file to a running rating service and
follow its load until it is done.

The file is streamed from disk in 1 MiB pieces (never read whole). On a terminal one progress
line is redrawn in place (upload, then loading); elsewhere (a log, a pipe) a plain line is
printed each time the load moves. The summary at the end says what became of the rows, with
the first rejected ones. Exit status: 0 completed, 1 the load failed, 2 the upload was refused
or the service could not be reached.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, Final, TextIO

import httpx

CHUNK_BYTES: Final = 1 << 20
DEFAULT_URL: Final = "http://127.0.0.1:8003"
KEY_FILE: Final = Path("var/admin-key")
_MEDIA_TYPES: Final = {"csv": "text/csv", "ndjson": "application/x-ndjson"}
_SUFFIXES: Final = {".csv": "csv", ".ndjson": "ndjson", ".jsonl": "ndjson", ".json": "ndjson"}
FINISHED: Final = frozenset({"completed", "failed"})


def file_format(path: Path, requested: str | None) -> str:
    """The file's format: the one asked for, else by its name's ending (CSV unless NDJSON)."""
    return requested or _SUFFIXES.get(path.suffix.lower(), "csv")


def api_key(given: str | None) -> str | None:
    """The key to call with: `--key`, else $RATING_API_KEY, else var/admin-key (make run writes it)."""
    if given:
        return given
    if os.environ.get("RATING_API_KEY"):
        return os.environ["RATING_API_KEY"]
    return KEY_FILE.read_text().strip() if KEY_FILE.is_file() else None


class ProgressLine:
    """Shows progress: one line redrawn in place on a terminal, else a plain line per change."""

    def __init__(self, out: TextIO, *, tty: bool) -> None:
        self.out = out
        self.tty = tty
        self._last = ""
        self._width = 0

    def show(self, text: str) -> None:
        """Show `text` as the current progress (nothing when it did not change)."""
        if text == self._last:
            return
        self._last = text
        if self.tty:
            self.out.write("\r" + text.ljust(self._width))
            self._width = max(self._width, len(text))
        else:
            self.out.write(text + "\n")
        self.out.flush()

    def end(self) -> None:
        """Leave the progress line (on a terminal, go to the next line)."""
        if self.tty and self._last:
            self.out.write("\n")
            self.out.flush()
        self._last = ""
        self._width = 0


def progress_text(load: dict[str, Any]) -> str:
    """One line of a load's progress."""
    speed = f"  {load['rows_per_second']:,} rows/s" if load.get("rows_per_second") else ""
    return (
        f"{load['id']} {load['state']:<9} {load['percent']:5.1f}%  rows {load['rows_read']:,}  "
        f"accepted {load['accepted']:,}  duplicates {load['duplicates']:,}  "
        f"rejected {load['rejected']:,}{speed}"
    )


def summary_text(load: dict[str, Any]) -> str:
    """What became of a finished load's rows, with its first rejected rows."""
    lines = [f"{load['id']} {load['state']}: {load['rows_read']:,} rows of {load['size_bytes']:,} bytes"]
    if load.get("rows_per_second"):
        lines[0] += f" ({load['rows_per_second']:,} rows/s)"
    if load.get("failure_reason"):
        lines.append(f"  failed: {load['failure_reason']}")
    lines.append(
        f"  accepted {load['accepted']:,} (counted {load['counted']:,}, late {load['late']:,}, "
        f"unmatched {load['unmatched']:,}, filtered {load['filtered']:,})"
    )
    duplicates = f"  duplicates {load['duplicates']:,}"
    if load.get("same_content_as"):
        duplicates += f" (the same file as load {load['same_content_as']})"
    lines.append(duplicates)
    lines.append(f"  rejected {load['rejected']:,}")
    for rejection in load.get("rejections", []):
        reasons = "; ".join(f"{e['field']}: {e['message']}" for e in rejection["errors"])
        lines.append(f"    line {rejection['line']}: {reasons}")
    if load["rejected"] > len(load.get("rejections", [])):
        lines.append(f"    (all kept ones: GET /v1/usage/files/{load['id']}/rejections)")
    return "\n".join(lines)


async def _file_chunks(path: Path, size: int, progress: ProgressLine) -> AsyncIterator[bytes]:
    sent = 0
    with path.open("rb") as source:
        while chunk := source.read(CHUNK_BYTES):
            sent += len(chunk)
            progress.show(f"uploading {path.name}: {100.0 * sent / max(size, 1):5.1f}% of {size:,} bytes")
            yield chunk


def _size_of(path: Path) -> int:
    return path.stat().st_size


def _problem_text(response: httpx.Response) -> str:
    try:
        problem = response.json()
    except ValueError:
        return f"{response.status_code} {response.text[:300]}"
    text = f"{response.status_code} {problem.get('title', '')}: {problem.get('detail', '')}"
    for error in problem.get("errors", []):
        text += f"\n  {error.get('field')}: {error.get('message')}"
    return text


async def load_usage_file(
    path: Path,
    *,
    client: httpx.AsyncClient,
    out: TextIO,
    tty: bool,
    fmt: str | None = None,
    name: str | None = None,
    poll_s: float = 1.0,
) -> int:
    """Upload `path` with `client` and follow its load to the end; the exit status."""
    size = _size_of(path)
    chosen = file_format(path, fmt)
    progress = ProgressLine(out, tty=tty)
    headers = {"content-type": _MEDIA_TYPES[chosen], "content-length": str(size)}
    try:
        response = await client.post(
            "/v1/usage/files",
            content=_file_chunks(path, size, progress),
            headers=headers,
            params={"name": name or path.name[:255]},
        )
        progress.end()
        if response.status_code != 202:
            out.write(f"upload refused: {_problem_text(response)}\n")
            return 2
        load = response.json()
        location = response.headers.get("location", f"/v1/usage/files/{load['id']}")
        out.write(f"{path.name}: received as {load['id']} ({location})\n")
        while load["state"] not in FINISHED:
            progress.show(progress_text(load))
            await asyncio.sleep(poll_s)
            polled = await client.get(location)
            if polled.status_code != 200:
                progress.end()
                out.write(f"cannot follow the load: {_problem_text(polled)}\n")
                return 2
            load = polled.json()
        progress.show(progress_text(load))
        progress.end()
    except httpx.HTTPError as exc:
        progress.end()
        out.write(f"cannot reach the rating service at {client.base_url}: {exc!r}\n")
        return 2
    out.write(summary_text(load) + "\n")
    return 0 if load["state"] == "completed" else 1


async def run_load_usage(
    path: Path, *, url: str, key: str | None, out: TextIO, fmt: str | None, name: str | None, poll_s: float
) -> int:
    """`load-usage` against the service at `url`."""
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    timeout = httpx.Timeout(30.0, write=300.0)
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=timeout) as client:
        return await load_usage_file(
            path, client=client, out=out, tty=out.isatty(), fmt=fmt, name=name, poll_s=poll_s
        )
