"""The Prometheus exporter: a bot's registry served over HTTP (`gpttrader run --metrics-port N`)."""

import threading
from dataclasses import dataclass
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, start_http_server


@dataclass
class MetricsServer:
    server: WSGIServer
    thread: threading.Thread

    @property
    def port(self) -> int:
        return int(self.server.server_port)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def serve_metrics(registry: CollectorRegistry, port: int, address: str = "127.0.0.1") -> MetricsServer:
    """Serve `registry` on `address:port` (port 0: any free one) from a daemon thread."""
    server, thread = start_http_server(port, addr=address, registry=registry)
    return MetricsServer(server, thread)
