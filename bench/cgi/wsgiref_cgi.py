"""CGI hello through CPython's wsgiref.handlers.CGIHandler."""
from wsgiref.handlers import CGIHandler


def hello(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"Hello, World!"]


CGIHandler().run(hello)
