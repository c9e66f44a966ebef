"""What the overage service consumes: nothing yet.

The file is here so every service has the same shape: its consumer groups go in
`consumer_specs`, each event parsed into its contract and handed to one handler with a unit of
work on the consumer's transaction (see provisioning's consumers).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from libs.platform.service import ConsumerSpec

if TYPE_CHECKING:
    from libs.platform.service import ServiceRuntime


def consumer_specs(runtime: ServiceRuntime) -> list[ConsumerSpec]:
    """The consumer groups of the overage service, bound to its runtime (none today)."""
    return []
