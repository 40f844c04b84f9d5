#!/usr/bin/python3
"""fake_hub.py - a stand-in for huggingface.co, for the download tests.

Serves fake repositories from a directory (--root DIR holding
DIR/<owner>/<name>/<file>) the way the hub does:

  GET|HEAD /<owner>/<name>/resolve/<revision>/<file>
      *.safetensors (LFS files): 302 to /cdn/<owner>/<name>/<file>, with
        X-Linked-Etag: "<sha256>" and X-Linked-Size: <bytes>
      other files: 200 with the bytes and ETag: "<git blob sha1>"
      missing repo or file: 404 with X-Error-Code RepositoryNotFound or
        EntryNotFound
      a revision other than main is served from DIR/<owner>/<name>/@<revision>/
        when that folder exists (the repo's own files otherwise)
  GET|HEAD /cdn/<owner>/<name>/<file>
      the bytes, with HTTP Range support (206 + Content-Range, 416 when the
      range starts past the end)

Test options: --bad-sha (advertise a wrong sha256), --ignore-range (answer
200 with the whole file to Range requests), --drop-after N (close the
connection after N bytes of any body: an interrupted download), --cdn-host H
(host name put in redirects, e.g. "localhost" while clients use 127.0.0.1, so
that the CDN is a different host), --log FILE (one line per request:
method, path, Range header, whether Authorization was sent, status).

--port 0 picks a free port; the port is printed on stdout as the first line.
The standard library only; run with /usr/bin/python3.
"""

import argparse
import hashlib
import http.server
import os
import sys
import threading
import urllib.parse

ARGS = None
LOG_LOCK = threading.Lock()


def log_line(text):
    if not ARGS.log:
        return
    with LOG_LOCK, open(ARGS.log, "a", encoding="utf-8") as f:
        f.write(text + "\n")


def read_file(path):
    with open(path, "rb") as f:
        return f.read()


def git_blob_sha1(data):
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def parse_range(header, size):
    """(start, end) inclusive for "bytes=a-b" / "bytes=a-" / "bytes=-n";
    None when absent or unparsable; "unsatisfiable" when out of range."""
    if not header or not header.startswith("bytes=") or "," in header:
        return None
    first, _, last = header[len("bytes="):].strip().partition("-")
    try:
        if first == "":
            n = int(last)
            return (max(0, size - n), size - 1) if n > 0 else "unsatisfiable"
        start = int(first)
        end = int(last) if last else size - 1
    except ValueError:
        return None
    if start >= size or end < start:
        return "unsatisfiable"
    return start, min(end, size - 1)


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        # A client hanging up (as curl does on a refused range) is normal
        # here; anything else still gets its traceback on stderr.
        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)


class Hub(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fake-hub/1"

    def log_message(self, format, *args):  # noqa: A002 - base class name
        pass  # stdout carries only the port; requests go to --log

    def do_HEAD(self):
        self.route(body=False)

    def do_GET(self):
        self.route(body=True)

    def route(self, body):
        self.status = 0
        path = urllib.parse.unquote(urllib.parse.urlsplit(self.path).path)
        parts = [p for p in path.split("/") if p]
        try:
            if len(parts) >= 4 and parts[0] == "cdn":
                self.serve_cdn(parts[1:], body)
            elif len(parts) >= 5 and parts[2] == "resolve":
                self.serve_resolve(parts, body)
            else:
                self.send_error_text(404, "EntryNotFound", "no such route", body)
        finally:
            log_line("%s %s range=%s auth=%d status=%d" % (
                self.command, path, self.headers.get("Range", "-"),
                1 if self.headers.get("Authorization") else 0, self.status))

    def repo_file(self, owner, name, rel):
        repo = os.path.join(ARGS.root, owner, name)
        if ".." in (owner, name) or ".." in rel.split("/"):
            return repo, None
        return repo, os.path.join(repo, rel)

    def serve_resolve(self, parts, body):
        owner, name, rev, rel = parts[0], parts[1], parts[3], "/".join(parts[4:])
        repo, path = self.repo_file(owner, name, rel)
        if rev != "main" and ".." not in rev and os.path.isdir(os.path.join(repo, "@" + rev)):
            rel = "@%s/%s" % (rev, rel)
            repo, path = self.repo_file(owner, name, rel)
        if not os.path.isdir(repo):
            return self.send_error_text(404, "RepositoryNotFound",
                                        "Repository not found", body)
        if path is None or not os.path.isfile(path):
            return self.send_error_text(404, "EntryNotFound",
                                        "Entry not found", body)
        data = read_file(path)
        if not rel.endswith(".safetensors"):
            return self.send_bytes(200, data, body, {
                "ETag": '"%s"' % git_blob_sha1(data)})
        sha = hashlib.sha256(data + (b"x" if ARGS.bad_sha else b"")).hexdigest()
        host = ARGS.cdn_host or self.headers.get("Host", "").rsplit(":", 1)[0]
        port = self.server.server_address[1]
        where = "http://%s:%d/cdn/%s/%s/%s" % (host, port, owner, name, rel)
        note = ("Found. Redirecting to %s" % where).encode()
        self.send_bytes(302, note, body, {
            "Location": where, "X-Linked-Etag": '"%s"' % sha,
            "X-Linked-Size": str(len(data)), "ETag": '"%s"' % sha,
            "Content-Type": "text/plain"})

    def serve_cdn(self, parts, body):
        _, path = self.repo_file(parts[0], parts[1], "/".join(parts[2:]))
        if path is None or not os.path.isfile(path):
            return self.send_error_text(404, "EntryNotFound", "no such blob", body)
        data = read_file(path)
        size = len(data)
        want = None if ARGS.ignore_range else parse_range(
            self.headers.get("Range"), size)
        if want == "unsatisfiable":
            return self.send_bytes(416, b"", body, {
                "Content-Range": "bytes */%d" % size})
        if want is None:
            return self.send_bytes(200, data, body, {"Accept-Ranges": "bytes"})
        start, end = want
        self.send_bytes(206, data[start:end + 1], body, {
            "Accept-Ranges": "bytes",
            "Content-Range": "bytes %d-%d/%d" % (start, end, size)})

    def send_error_text(self, code, error_code, text, body):
        self.send_bytes(code, (text + "\n").encode(), body, {
            "X-Error-Code": error_code, "X-Error-Message": text,
            "Content-Type": "text/plain"})

    def send_bytes(self, code, data, body, headers):
        self.status = code
        self.send_response(code)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if not body:
            return
        if ARGS.drop_after is not None and len(data) > ARGS.drop_after:
            self.wfile.write(data[:ARGS.drop_after])
            self.wfile.flush()
            self.close_connection = True  # the client sees a short body
            return
        self.wfile.write(data)


def main():
    global ARGS
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--root", required=True, help="directory of fake repos")
    ap.add_argument("--port", type=int, default=0, help="0 picks a free port")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--bad-sha", action="store_true")
    ap.add_argument("--ignore-range", action="store_true")
    ap.add_argument("--drop-after", type=int, default=None, metavar="N")
    ap.add_argument("--cdn-host", default=None)
    ap.add_argument("--log", default=None, help="append one line per request")
    ARGS = ap.parse_args()

    server = Server((ARGS.host, ARGS.port), Hub)
    print(server.server_address[1], flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
