#!/usr/bin/python3
"""fault_server.py - an HTTP peer that misbehaves on purpose, for the tests
of what dinoseek does when S3 or Milvus is sick.

    fault_server.py PORTFILE garbage          200 with bytes that are no protocol
    fault_server.py PORTFILE slow             accepts, then says nothing for 60 s
    fault_server.py PORTFILE status CODE      every request answered CODE
    fault_server.py PORTFILE flaky N UPSTREAM the first N requests get 503, the
                                              rest are passed to UPSTREAM unchanged
                                              (the Host header too, so signatures hold)
    fault_server.py PORTFILE drop-answer PATH UPSTREAM
                                              everything passed to UPSTREAM; the first
                                              request whose path holds PATH is passed
                                              on, then its connection closed unanswered
                                              (kept alive before: a reused connection)
    fault_server.py PORTFILE hold MS PATH UPSTREAM
                                              everything passed to UPSTREAM; the first
                                              request whose path holds PATH is held MS
                                              milliseconds, then passed on (it lands
                                              late, after its client gave up)

It listens on a free 127.0.0.1 port, writes "PORT\\n" to PORTFILE once
listening, counts requests in PORTFILE.count, and runs until killed.
Standard library only.
"""
import http.client
import http.server
import os
import socketserver
import sys
import threading
import time

lock = threading.Lock()
count = 0
matched = 0


def bump():
    global count
    with lock:
        count += 1
        n = count
        with open(sys.argv[1] + ".count", "w") as f:
            f.write(f"{n}\n")
    return n


def first_match(path):
    """Whether this is the first request whose path holds the mode's PATH."""
    global matched
    want = sys.argv[3] if sys.argv[2] == "drop-answer" else sys.argv[4]
    if want not in path:
        return False
    with lock:
        matched += 1
        return matched == 1


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def answer(self, code, data, ctype="application/octet-stream"):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def handle_any(self):
        n = bump()
        mode = sys.argv[2]
        payload = self.body()
        if mode == "garbage":
            self.answer(200, b"\x00\xffnot xml, not json {{{<<<" * 40)
        elif mode == "slow":
            time.sleep(60)
            self.answer(200, b"")
        elif mode == "status":
            self.answer(int(sys.argv[3]), b"<Error><Code>Injected</Code></Error>")
        elif mode == "flaky":
            if n <= int(sys.argv[3]):
                self.answer(503, b"<Error><Code>SlowDown</Code><Message>injected</Message></Error>",
                            "application/xml")
                return
            self.forward(sys.argv[4], payload)
        elif mode == "drop-answer":
            if first_match(self.path):
                self.forward(sys.argv[4], payload, answer=False)
                self.close_connection = True
                return
            self.forward(sys.argv[4], payload)
        elif mode == "hold":
            if first_match(self.path):
                time.sleep(int(sys.argv[3]) / 1000)
            self.forward(sys.argv[5], payload)

    def forward(self, upstream, payload, answer=True):
        host = upstream.split("://", 1)[1].rstrip("/")
        conn = http.client.HTTPConnection(host, timeout=30)
        conn.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
        for k, v in self.headers.items():
            conn.putheader(k, v)
        conn.endheaders(payload if payload else None)
        r = conn.getresponse()
        data = r.read()
        conn.close()
        if not answer:
            return
        try:
            self.reply(r, data)
        except OSError:  # the client gave up waiting (hold): it is gone
            self.close_connection = True

    def reply(self, r, data):
        self.send_response(r.status)
        for k, v in r.getheaders():
            if k.lower() not in ("content-length", "transfer-encoding", "connection"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = handle_any


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    srv = Server(("127.0.0.1", 0), Handler)
    tmp = sys.argv[1] + ".tmp"
    with open(tmp, "w") as f:
        f.write(f"{srv.server_address[1]}\n")
    os.rename(tmp, sys.argv[1])
    srv.serve_forever()


if __name__ == "__main__":
    main()
