"""A local Slack Web API for the ingest bench: every method answers like Slack
(`ok`, and a `ts` for chat.postMessage) and is counted; GET /count answers
{"writes": N}. Binds 127.0.0.1 only. Usage: slack_sink.py PORTFILE"""
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

lock = threading.Lock()
writes = 0


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        global writes
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        with lock:
            writes += 1
            ts = "1763800000.%06d" % writes
        self.answer({"ok": True, "channel": "C0INGEST", "ts": ts, "message": {"type": "message", "ts": ts}})

    def do_GET(self):
        with lock:
            self.answer({"writes": writes})

    def answer(self, body):
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
with open(sys.argv[1], "w") as f:
    f.write(str(server.server_address[1]))
server.serve_forever()
