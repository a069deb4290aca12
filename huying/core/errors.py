"""The one error type services raise; web and API layers turn it into a clear message."""


class DomainError(Exception):
    """A refused action: `code` is stable and machine-readable, `message` is for people.

    `field` names the input that is wrong, so forms can show the message beside it.
    `status` is the HTTP status the API answers with (400 bad input, 403, 404, 409 conflict).
    """

    def __init__(self, code: str, message: str, *, field: str | None = None, status: int = 400, **details):
        super().__init__(message)
        self.code = code
        self.message = str(message)
        self.field = field
        self.status = status
        self.details = details

    def as_dict(self) -> dict:
        out = {"code": self.code, "message": self.message}
        if self.field:
            out["field"] = self.field
        if self.details:
            out["details"] = self.details
        return out

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"
