"""Logging for every qharbor process: one format, and the id of the request being served on
each line logged while serving it (``api/middleware.py`` sets it).

The request id lives in a context variable, so it follows the request into the thread pool
(Starlette runs blocking work in copies of the request's context) and never leaks between
concurrent requests; a filter on the root handler stamps it onto every record, whichever
logger (ours, SQLAlchemy's, uvicorn's) wrote it.
"""

from __future__ import annotations

import contextvars
import logging
import time

import orjson

#: The id of the request this code runs for, or "-" outside any request.
request_id: contextvars.ContextVar[str] = contextvars.ContextVar("qharbor_request_id", default="-")

TEXT = "%(asctime)s %(name)s %(levelname)s [%(request_id)s] %(message)s"


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line, for log shippers (``QHARBOR_LOG_FORMAT=json``)."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "-"),
            "pid": record.process,
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(line).decode()


def configure(log_format: str = "text") -> None:
    """(Re)configure the root logger: ``text`` (human) or ``json`` lines on stderr."""
    handler = logging.StreamHandler()
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(JsonFormatter() if log_format == "json" else logging.Formatter(TEXT))
    root = logging.getLogger()
    for old in root.handlers[:]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(logging.INFO)
