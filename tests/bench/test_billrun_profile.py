"""`python -m bench.billrun_profile`: a small in-process bill run bills every seeded account once,
to the independent sum, and its rerun bills nothing."""

from __future__ import annotations

import pytest

from bench.billrun_profile import main


async def test_an_in_process_bill_run_matches_the_independent_sum(capsys: pytest.CaptureFixture[str]) -> None:
    await main(60, profile=True)

    printed = capsys.readouterr().out
    assert "invoices 60, lines 180, total 40002" in printed  # 60 x 666.70
    assert "(independent sum 40002.00): ok" in printed
    assert "no-op rerun" in printed and "ms in the event loop's thread" in printed
    assert "Ordered by: internal time" in printed
