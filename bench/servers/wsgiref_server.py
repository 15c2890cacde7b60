"""CPython's wsgiref.simple_server as a baseline: `python3 wsgiref_server.py hello|file [path]`.

Prints `LISTENING <port>` when ready. Request logging is off, as for the Node servers.
"""
import os
import sys
from wsgiref.simple_server import WSGIRequestHandler, make_server

HELLO = b"Hello, World!"


class QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):
        pass


def hello(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [HELLO]


def download(environ, start_response):
    path = sys.argv[2]
    f = open(path, "rb")
    size = os.fstat(f.fileno()).st_size
    start_response(
        "200 OK",
        [("Content-Type", "application/octet-stream"), ("Content-Length", str(size))],
    )
    return environ["wsgi.file_wrapper"](f, 65536)


APPS = {"hello": hello, "file": download}

if __name__ == "__main__":
    app = APPS[sys.argv[1]]
    with make_server("127.0.0.1", 0, app, handler_class=QuietHandler) as server:
        print(f"LISTENING {server.server_port}", flush=True)
        server.serve_forever()
