"""The one error type a request handler raises: an HTTP status plus a message for the caller."""

from __future__ import annotations


class RequestError(Exception):
    """A problem with the request that the caller can fix; becomes a 4xx JSON error response.

    ``status`` is the HTTP status code, ``message`` says what was wrong in words a client
    developer can act on (which row, which feature, what was expected).
    """

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def bad_request(message: str) -> RequestError:
    """400: the body parsed but does not fit the model's input contract."""
    return RequestError(400, message)
