"""`python -m libs.platform.devbroker`: run the local broker in the foreground (for `make run`).

With KAFKA_BOOTSTRAP_SERVERS pointing at another cluster, it does nothing but wait, so the
Procfile stays the same.
"""

from __future__ import annotations

import os
import signal
import sys
import threading

from libs.platform.broker import LocalBroker


def main() -> int:
    """Start the broker on BROKER_PORT (9092) and block until a signal."""
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    external = os.environ.get("EXTERNAL_KAFKA")
    if external:
        print(f"using the Kafka cluster at {external}; no local broker started", flush=True)
        stop.wait()
        return 0
    port = int(os.environ.get("BROKER_PORT", "9092"))
    broker = LocalBroker(port=port).start()
    print(f"broker listening on {broker.bootstrap_servers} (in memory)", flush=True)
    try:
        while not stop.wait(1.0):
            if broker.process is not None and broker.process.poll() is not None:
                print("broker exited", file=sys.stderr, flush=True)
                return 1
    finally:
        broker.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
