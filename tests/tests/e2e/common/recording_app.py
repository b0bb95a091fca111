"""The Python app of tests/tests/e2e/colocated.rs and faults.rs: a stdlib HTTP server on
$PORT that appends every request it gets to $APP_RECORD as a JSON line.

APP_PID_FILE  where it writes its pid, first thing
APP_MODE      serve (default) | exit-early (exit 3 at once) | never-listen |
              die-on-post (record the request, then exit 7 without answering)
APP_LISTEN_AFTER   seconds to wait before listening (default 0)
APP_HEALTHY_AFTER  seconds after listening during which GET answers 503
APP_POST_DELAY     seconds to wait, after recording a POST, before answering it
APP_POST_REPLY     the JSON body a POST is answered with (default none)
"""

import http.server
import json
import os
import sys
import threading
import time

with open(os.environ["APP_PID_FILE"], "w") as pid_file:
    pid_file.write(str(os.getpid()))

mode = os.environ.get("APP_MODE", "serve")
if mode == "exit-early":
    sys.exit(3)
if mode == "never-listen":
    time.sleep(3600)
time.sleep(float(os.environ.get("APP_LISTEN_AFTER", "0")))

post_delay = float(os.environ.get("APP_POST_DELAY", "0"))
post_reply = os.environ.get("APP_POST_REPLY", "").encode()
healthy_at = time.monotonic() + float(os.environ.get("APP_HEALTHY_AFTER", "0"))
lock = threading.Lock()


def record(entry):
    with lock, open(os.environ["APP_RECORD"], "a") as out:
        out.write(json.dumps(entry) + "\n")


class App(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        status = 200 if time.monotonic() >= healthy_at else 503
        record({"method": "GET", "path": self.path, "status": status})
        self.answer(status)

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", "0")))
        headers = {name.lower(): value for name, value in self.headers.items()}
        record({"method": "POST", "path": self.path, "headers": headers, "body": body.decode()})
        if mode == "die-on-post":
            os._exit(7)
        time.sleep(post_delay)
        self.answer(200, post_reply)

    def answer(self, status, body=b""):
        self.send_response(status)
        if body:
            self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


http.server.ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT"])), App).serve_forever()
