"""The port of the lockbox files' repository (SQL: `invoicing.repository.lockbox`)."""

from __future__ import annotations

import abc

from invoicing.domain.lockbox import ImportedLine, LockboxFile
from libs.platform.errors import NotFound
from libs.platform.pagination import Page, PageRequest


class LockboxRepository(abc.ABC):
    """Imported lockbox files and their lines."""

    @abc.abstractmethod
    async def find(self, file_id: str) -> LockboxFile | None:
        """One file with its lines, if it exists."""

    @abc.abstractmethod
    async def find_by_hash(self, content_hash: str) -> LockboxFile | None:
        """The file imported with these bytes, if any."""

    @abc.abstractmethod
    async def add(self, file: LockboxFile) -> bool:
        """Store a file and its lines; False (nothing stored) when its hash was imported meanwhile."""

    @abc.abstractmethod
    async def save_line(self, file_id: str, line: ImportedLine) -> None:
        """Write a line's status, reason and payment (a manual application)."""

    @abc.abstractmethod
    async def page(self, page: PageRequest) -> Page[LockboxFile]:
        """A page of files ordered by id (import order)."""

    async def get(self, file_id: str) -> LockboxFile:
        """One file, or NotFound (404)."""
        file = await self.find(file_id)
        if file is None:
            raise NotFound("lockbox file", file_id)
        return file
