"""A webhook receiver on 127.0.0.1 for the notification tests (in-process and real-worker)."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Receiver:
    """Integrator endpoint on 127.0.0.1: records every request; fails an event's first `fail_first` tries."""

    def __init__(self, fail_first: int = 0):
        self.fail_first = fail_first
        self.requests: list[dict] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                event_id = json.loads(body).get("id")
                with receiver.lock:
                    tries = sum(1 for request in receiver.requests if request["event_id"] == event_id)
                    status = 500 if tries < receiver.fail_first else 200
                    receiver.requests.append(
                        {
                            "event_id": event_id,
                            "body": body,
                            "status": status,
                            "signature": self.headers.get("X-HITL-Signature", ""),
                        }
                    )
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def accepted(self) -> list[dict]:
        with self.lock:
            return [request for request in self.requests if request["status"] == 200]
