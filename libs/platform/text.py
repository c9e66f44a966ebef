"""The one free-text rule of every API: what a name, a note or an address may contain.

Free text ends up in logs, e-mails, PDFs, CSV exports and other systems' screens, so no
character may change how the text around it is shown or parsed there:
- never a C0 control (NUL, ESC, BEL, ...), DEL or a C1 control (U+0080-U+009F, NEL among
  them), nor a Unicode line or paragraph separator (U+2028, U+2029);
- never a bidirectional embedding, override or isolate (U+202A-U+202E, U+2066-U+2069), which
  make "invoice\u202efdp.exe" display as "invoiceexe.pdf";
- `PlainText` (names, ids people type, addresses) is one line: no tab, CR or LF either;
- `MultilineText` (notes, descriptions, reasons) may hold tab, LF and CR (CRLF from some
  clients), nothing else of the above.
A lone surrogate is refused by pydantic before these rules (PostgreSQL could not store it).
Lengths are set where a type is used, before the rule:
`Annotated[str, StringConstraints(max_length=200), ONE_LINE]`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Any, Final

from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, PydanticCustomError, core_schema

# Written with escapes (ECMA-262 and Rust regex both read \xNN and \uNNNN) so that the OpenAPI
# pattern is plain ASCII and clients' regex engines agree with the server.
_NEVER: Final = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069"
_LINE_BREAKS: Final = r"\x09\x0a\x0d"
PLAIN_TEXT_PATTERN: Final = rf"^[^{_NEVER}{_LINE_BREAKS}]*$"
MULTILINE_TEXT_PATTERN: Final = rf"^[^{_NEVER}]*$"
# What Python's str.strip() takes away beyond the characters refused above: a value made only
# of these is blank. The "non-blank" patterns ask for one character outside them.
_BLANKS: Final = r"\x20\xa0\u1680\u2000-\u200a\u202f\u205f\u3000"
NON_BLANK_PLAIN_TEXT_PATTERN: Final = (
    rf"^[^{_NEVER}{_LINE_BREAKS}]*[^{_NEVER}{_LINE_BREAKS}{_BLANKS}][^{_NEVER}{_LINE_BREAKS}]*$"
)
NON_BLANK_MULTILINE_TEXT_PATTERN: Final = rf"^[^{_NEVER}]*[^{_NEVER}{_LINE_BREAKS}{_BLANKS}][^{_NEVER}]*$"
_PLAIN_FORBIDDEN: Final = re.compile(rf"[{_NEVER}{_LINE_BREAKS}]")
_MULTILINE_FORBIDDEN: Final = re.compile(rf"[{_NEVER}]")


@dataclass(frozen=True)
class TextRule:
    """The free-text rule as pydantic metadata: validated after the length, shown as a pattern.

    Put it after the lengths, `Annotated[str, StringConstraints(max_length=200), ONE_LINE]`, so
    that a too-long value gets pydantic's usual message.
    """

    forbidden: re.Pattern[str]
    pattern: str
    kind: str
    non_blank: bool = False

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        """The source type's schema, then this rule."""
        return core_schema.no_info_after_validator_function(self.check, handler(source))

    def __get_pydantic_json_schema__(
        self, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        """The source type's JSON schema plus the pattern this rule enforces."""
        json_schema = handler(schema)
        json_schema["pattern"] = self.pattern
        return json_schema

    def check(self, value: str) -> str:
        """`value` unchanged, or a pydantic error naming the first forbidden character."""
        found = self.forbidden.search(value)
        if found is not None:
            raise PydanticCustomError(
                "text_control_character",
                "{kind} must not contain control characters or bidirectional overrides "
                "(found U+{code} at position {position})",
                {"kind": self.kind, "code": f"{ord(found.group()):04X}", "position": found.start()},
            )
        if self.non_blank and not value.strip():
            raise PydanticCustomError("text_blank", "{kind} must not be blank", {"kind": self.kind})
        return value


ONE_LINE: Final = TextRule(_PLAIN_FORBIDDEN, PLAIN_TEXT_PATTERN, "one-line text")
"""Names, ids people type, addresses, e-mail addresses: no line break or tab either."""
MULTI_LINE: Final = TextRule(_MULTILINE_FORBIDDEN, MULTILINE_TEXT_PATTERN, "text")
"""Notes, descriptions, reasons: tab, LF and CR allowed."""
NON_BLANK_LINE: Final = TextRule(
    _PLAIN_FORBIDDEN, NON_BLANK_PLAIN_TEXT_PATTERN, "one-line text", non_blank=True
)
"""A required name or id people type: `ONE_LINE`, and not only spaces (the schema says so too,
so a client sees from the OpenAPI document what the domain's "is required" refuses)."""
NON_BLANK_TEXT: Final = TextRule(
    _MULTILINE_FORBIDDEN, NON_BLANK_MULTILINE_TEXT_PATTERN, "text", non_blank=True
)
"""A required note or reason: `MULTI_LINE`, and not only whitespace."""

PlainText = Annotated[str, ONE_LINE]
"""One line of text of any length: no control character, line break, tab or bidi override."""

MultilineText = Annotated[str, MULTI_LINE]
"""Text that may span lines (tab, LF, CR allowed); no other control character or bidi override."""

__all__ = [
    "MULTILINE_TEXT_PATTERN",
    "MULTI_LINE",
    "NON_BLANK_LINE",
    "NON_BLANK_MULTILINE_TEXT_PATTERN",
    "NON_BLANK_PLAIN_TEXT_PATTERN",
    "NON_BLANK_TEXT",
    "ONE_LINE",
    "PLAIN_TEXT_PATTERN",
    "MultilineText",
    "PlainText",
    "TextRule",
]
