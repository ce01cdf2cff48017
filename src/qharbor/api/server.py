"""uvicorn's HTTP protocol with a deadline for a request's headers.

uvicorn closes an idle keep-alive connection after ``timeout_keep_alive`` but sets no limit
on a connection that opens and says nothing, or sends its headers a byte at a time
(slowloris): each such connection is held for ever, and enough of them exhaust the process's
file descriptors. Here a request's headers must be complete within ``header_timeout_s`` of
the connection opening (or of the request's first byte, on a kept-alive connection), else the
connection is closed. A slow *body* is bounded in the app (``http.body_bytes``: 408).
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol


def guarded_protocol(header_timeout_s: float) -> type[HttpToolsProtocol]:
    """The protocol class to give ``uvicorn.run(http=...)``."""

    class HeaderDeadline(HttpToolsProtocol):
        _deadline: asyncio.TimerHandle | None = None

        def _arm(self) -> None:
            if self._deadline is None:
                self._deadline = self.loop.call_later(header_timeout_s, self._expired)

        def _disarm(self) -> None:
            if self._deadline is not None:
                self._deadline.cancel()
                self._deadline = None

        def _expired(self) -> None:
            self._deadline = None
            if not self.transport.is_closing():
                self.logger.info("closing a connection that sent no complete request headers in %g s",
                                 header_timeout_s)
                self.transport.close()

        def connection_made(self, transport: Any) -> None:
            super().connection_made(transport)
            self._arm()

        def on_message_begin(self) -> None:
            super().on_message_begin()
            self._arm()

        def on_headers_complete(self) -> None:
            self._disarm()
            super().on_headers_complete()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

    return HeaderDeadline
