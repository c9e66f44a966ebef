"""`/v1/lockbox-files`: import a bank's lockbox file of checks (CSV) in one call, read its report,
apply an unmatched line by hand.

The file is the request body (`Content-Type: text/csv`), its columns in `invoicing/domain/lockbox.py`:
`check_number,amount,invoice_number,account_id,deposit_date[,currency]`. The answer is the
report: every line matched, partly matched or unmatched, with its reason and the payment it made.
The same file again (the same bytes: SHA-256) answers the first import's report with
`already_imported: true` and changes nothing.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response

from invoicing.api.deps import ReadUow, WriteUow, id_path, runtime_from
from invoicing.handlers import lockbox as handlers
from invoicing.schemas.lockbox import (
    LineApply,
    LockboxFilePublic,
    LockboxLinePublic,
    line_public,
    lockbox_file_public,
)
from libs.platform.errors import ValidationFailed
from libs.platform.openapi import created_links, response_links
from libs.platform.pagination import Page, PageParams

router = APIRouter(prefix="/v1/lockbox-files", tags=["lockbox"])
FileId = Annotated[str, id_path("Lockbox file id (lbx_…).")]
_FOLLOW_UP = ("get_lockbox_file",)
_EXAMPLE = (
    "check_number,amount,invoice_number,account_id,deposit_date\n"
    "10442,1250.00,INV-2026-000042,,2026-08-03\n"
    "10443,300.00,,acct_01JD0S6Y4Q7V3J6C,2026-08-03\n"
)


@router.post(
    "",
    status_code=201,
    response_model=LockboxFilePublic,
    summary="Import a lockbox file",
    description="Each check is matched to the invoice its number names (matched; partly matched when "
    "the check is more than the invoice owes, the rest account credit), else to the account it names, "
    "oldest invoices first (partly matched), else kept unmatched with its reason for manual "
    "application. 201 for a new file; 200 with the first report for a file imported before.",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"text/csv": {"schema": {"type": "string"}, "example": _EXAMPLE}},
        }
    },
    responses={
        **created_links("file_id", *_FOLLOW_UP),
        200: {"model": LockboxFilePublic, "description": "Imported before"},
    },
)
async def import_lockbox_file(
    request: Request,
    response: Response,
    uow: WriteUow,
    filename: Annotated[
        str | None, Query(pattern=r"^[A-Za-z0-9_.-]{1,200}$", description="The bank's file name.")
    ] = None,
) -> LockboxFilePublic:
    content = await request.body()
    if not content.strip():
        raise ValidationFailed.single("file", "the body is the lockbox file (text/csv)")
    file, imported = await handlers.import_lockbox_file(
        uow=uow, gateway=runtime_from(request).payment_gateway, content=content, filename=filename
    )
    if not imported:
        response.status_code = 200
    return lockbox_file_public(file, already_imported=not imported)


@router.get(
    "",
    response_model=Page[LockboxFilePublic],
    summary="List lockbox files",
    responses=response_links(200, {name: {"file_id": "/data/0/id"} for name in _FOLLOW_UP}),
)
async def list_lockbox_files(uow: ReadUow, page: PageParams) -> Page[LockboxFilePublic]:
    found = await handlers.list_lockbox_files(uow=uow, page=page)
    return Page[LockboxFilePublic](
        data=[lockbox_file_public(f) for f in found.data],
        next_cursor=found.next_cursor,
        has_more=found.has_more,
    )


@router.get("/{file_id}", response_model=LockboxFilePublic, summary="Get a lockbox file and its report")
async def get_lockbox_file(file_id: FileId, uow: ReadUow) -> LockboxFilePublic:
    return lockbox_file_public(await handlers.get_lockbox_file(uow=uow, file_id=file_id))


@router.post(
    "/{file_id}/lines/{number}/apply",
    response_model=LockboxLinePublic,
    summary="Apply an unmatched line by hand",
    description="A check payment as the line says, to the account given (its named invoices, else "
    "oldest first). 409 when the line made its payment already.",
)
async def apply_lockbox_line(
    file_id: FileId,
    number: Annotated[int, Path(ge=1, le=10_000, description="The line (1 = first after the header).")],
    body: LineApply,
    uow: WriteUow,
    request: Request,
) -> LockboxLinePublic:
    line = await handlers.apply_line(
        uow=uow,
        gateway=runtime_from(request).payment_gateway,
        file_id=file_id,
        number=number,
        account_id=body.account_id,
        invoice_ids=body.invoice_ids,
    )
    return line_public(line)
