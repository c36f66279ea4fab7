"""A stand-in OTLP/HTTP collector for the tracing-on benchmark row.

Accepts POST /v1/traces, reads the body and answers 200 with an empty
protobuf reply, as a collector does; counts export requests and body bytes
into the file named on the command line when it is stopped (SIGTERM).
Listens on 127.0.0.1 only.
"""
import signal
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORT = int(sys.argv[1])
REPORT = sys.argv[2]
counts = {"requests": 0, "bytes": 0}
lock = threading.Lock()


class Sink(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        with lock:
            counts["requests"] += 1
            counts["bytes"] += len(body)
        self.send_response(200 if self.path == "/v1/traces" else 404)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


server = ThreadingHTTPServer(("127.0.0.1", PORT), Sink)


def stop(*_):
    with lock, open(REPORT, "w") as out:
        out.write(f"{counts['requests']} {counts['bytes']}\n")
    threading.Thread(target=server.shutdown).start()


signal.signal(signal.SIGTERM, stop)
server.serve_forever()
