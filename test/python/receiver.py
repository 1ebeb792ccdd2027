"""A loopback HTTP receiver for webhook deliveries, shared by the webhook and workspace suites."""

from __future__ import annotations

import json
import queue
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import NamedTuple


class Delivery(NamedTuple):
    path: str
    headers: dict
    body: bytes

    def json(self):
        return json.loads(self.body)


class WebhookReceiver:
    """Records every POST it receives (path, headers, raw body) and answers 200 "ok"."""

    def __init__(self):
        self.received: queue.Queue[Delivery] = queue.Queue()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                outer.received.put(Delivery(self.path, dict(self.headers), body))
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def next(self, timeout: float = 30) -> Delivery:
        return self.received.get(timeout=timeout)

    def drain(self, seconds: float) -> list[Delivery]:
        """Everything else that arrives within `seconds`."""
        out, deadline = [], time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            try:
                out.append(self.received.get(timeout=left))
            except queue.Empty:
                break
        return out

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()
