"""uvicorn's HTTP protocol, answering its own 400 ("Invalid HTTP request received.") in the envelope.

uvicorn refuses what its parser rejects (a control character in a header value, which nginx
passes on) before the app runs, as text/plain. Served with `uvicorn --http
src.fastapi_app.server_refusals:EnvelopeHttpProtocol` (src/deploy/supervisor.py).
"""

from __future__ import annotations

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from src.core.server_refusals import refusal_response


class EnvelopeHttpProtocol(HttpToolsProtocol):
    """httptools (uvicorn's `auto` choice when installed) with the refusal in the JSON envelope."""

    def send_400_response(self, msg: str) -> None:
        del msg  # the parser's words may echo client bytes; the envelope's message is fixed
        self.transport.write(refusal_response(400))
        self.transport.close()
