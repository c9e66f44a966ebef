"""One vocabulary (issue 7 item 4): each shared enum is defined once, in libs/contracts/vocabulary.py."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

from libs.contracts.vocabulary import BillingFrequency, TermLengthUnknown, TierPeriod

ROOT = Path(__file__).resolve().parents[3]
SHARED = (
    "ProductKind",
    "LicenseType",
    "RevenueRule",
    "ChargeType",
    "BillingFrequency",
    "BillingTiming",
    "PricingModel",
    "TierMode",
    "TierPeriod",
    "ContractKind",
    "ExpiryOption",
)
HOME = Path("libs/contracts/vocabulary.py")


def _enum_classes() -> dict[str, list[Path]]:
    """Every `class X(...Enum)` under libs/ and services/, by name."""
    found: dict[str, list[Path]] = defaultdict(list)
    for top in ("libs", "services"):
        for path in sorted((ROOT / top).rglob("*.py")):
            if ".venv" in path.parts:
                continue
            for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
                if isinstance(node, ast.ClassDef) and any(
                    ast.unparse(base).rsplit(".", 1)[-1] in {"StrEnum", "Enum", "IntEnum"}
                    for base in node.bases
                ):
                    found[node.name].append(path.relative_to(ROOT))
    return found


def test_each_shared_enum_is_defined_once_in_the_vocabulary() -> None:
    found = _enum_classes()
    for name in SHARED:
        assert found.get(name) == [HOME], f"{name} defined in {found.get(name)}, expected only {HOME}"


def test_the_date_range_is_the_only_billing_period() -> None:
    """`BillingPeriod` names the date range (libs/platform/periods.py), never a frequency enum."""
    assert "BillingPeriod" not in _enum_classes()


def test_fixed_frequencies_have_months_and_term_has_none() -> None:
    assert {f: f.months for f in BillingFrequency if f.is_fixed} == {
        BillingFrequency.MONTHLY: 1,
        BillingFrequency.QUARTERLY: 3,
        BillingFrequency.ANNUAL: 12,
    }
    assert not BillingFrequency.TERM.is_fixed
    with pytest.raises(TermLengthUnknown, match="term"):
        _ = BillingFrequency.TERM.months
    # A cost book's tier period is one of the fixed frequencies, with the same length.
    assert {p.value: p.months for p in TierPeriod} == {
        f.value: f.months for f in BillingFrequency if f.is_fixed
    }
