"""Errors the library raises for bad input; the CLI and UI show their message, never a traceback."""


class QAError(Exception):
    """Base class: the message is written for the user and says what to do."""


class InvalidQuestion(QAError, ValueError):
    """Empty, whitespace-only or oversized question."""


class IngestError(QAError):
    """A path that does not exist, or nothing readable in what was given."""


class IndexUnavailable(QAError):
    """A missing, corrupt or incompatible index."""


class ModelError(QAError):
    """A model file or folder that is missing or cannot be loaded."""


class SettingsError(QAError, ValueError):
    """A `QA_*` setting (or option) with a value of the wrong type, range or choice."""
