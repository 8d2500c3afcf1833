"""Errors the engine raises for bad input; each names the problem so the GUI and CLI can show it as is."""

from __future__ import annotations


class CragruError(Exception):
    """Base of every error meant to be shown to a user (no traceback needed)."""


class DatasetError(CragruError):
    """A data file cannot be read: names the file, the line when known, and the problem."""

    def __init__(self, problem: str, path: str | None = None, line: int | None = None) -> None:
        self.problem = problem
        self.path = path
        self.line = line
        where = ""
        if path is not None:
            where = f"{path}"
            if line is not None:
                where += f", line {line}"
            where += ": "
        super().__init__(where + problem)


class RequestError(CragruError):
    """A forget request is invalid (unknown IDs, empty, removes everything...)."""


class ConfigError(CragruError):
    """A parameter or configuration value is missing or out of range."""


class Cancelled(CragruError):
    """Raised inside engine code when the user asked to stop; nothing half-done is written."""
