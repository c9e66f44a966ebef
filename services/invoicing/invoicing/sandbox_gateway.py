"""The built-in payment gateway (`PaymentGateway`): approves or declines by token, keeps what it was sent.

For development, demos and tests — no money moves. Tokens decide the answer:

| token starts with | answer |
| --- | --- |
| `tok_decline` | declined, `do_not_honor` |
| `tok_expired` | declined, `expired_card` |
| `tok_insufficient` | declined, `insufficient_funds` |
| anything else (an ACH mandate too) | approved, reference `sbx_ch_<n>` |

Every charge (with its Level 2/3 data) and refund is kept in `charges` / `refunds`; a charge asked
again with the same idempotency key answers as the first time and is not kept twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from invoicing.handlers.payment_gateway_port import EnhancedData, GatewayResult, PaymentGateway

DECLINES: dict[str, tuple[str, str]] = {
    "tok_decline": ("do_not_honor", "The card was declined"),
    "tok_expired": ("expired_card", "The card has expired"),
    "tok_insufficient": ("insufficient_funds", "The card has insufficient funds"),
}


@dataclass(frozen=True)
class SandboxCharge:
    """A charge the sandbox was asked for."""

    token: str
    amount: Decimal
    currency: str
    level3: EnhancedData
    result: GatewayResult


@dataclass
class SandboxGateway(PaymentGateway):
    """Approves or declines by token (see the module); remembers every call."""

    charges: dict[str, SandboxCharge] = field(default_factory=dict)
    refunds: dict[str, tuple[str, Decimal, str]] = field(default_factory=dict)

    async def authorize_and_capture(
        self, token: str, amount: Decimal, currency: str, level3: EnhancedData, *, idempotency_key: str
    ) -> GatewayResult:
        """Approve, or decline as the token's prefix says; the same key answers the same."""
        if idempotency_key in self.charges:
            return self.charges[idempotency_key].result
        result = GatewayResult(approved=True, reference=f"sbx_ch_{len(self.charges) + 1}")
        for prefix, (code, message) in DECLINES.items():
            if token.startswith(prefix):
                result = GatewayResult(approved=False, decline_code=code, message=message)
        self.charges[idempotency_key] = SandboxCharge(token, amount, currency, level3, result)
        return result

    async def refund(
        self, reference: str, amount: Decimal, currency: str, *, idempotency_key: str
    ) -> GatewayResult:
        """Always approved."""
        self.refunds.setdefault(idempotency_key, (reference, amount, currency))
        return GatewayResult(approved=True, reference=f"sbx_re_{len(self.refunds)}")
