"""Domain exceptions. The CLI turns each into one line on stderr and exit code 1."""


class QAError(Exception):
    """A user-facing error: ``message`` says what went wrong, ``hint`` what to do."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message}. {self.hint}" if self.hint else self.message


class BadInputError(QAError):
    """A path, file or question that cannot be used."""


class IndexMissingError(QAError):
    """No index exists at the requested location."""


class IndexError_(QAError):
    """The index exists but cannot be used (damaged, other model, newer format)."""


class IndexBusyError(QAError):
    """Another `qa index` holds the index lock."""


class ModelUnavailableError(QAError):
    """The embedding model cannot be loaded offline."""
