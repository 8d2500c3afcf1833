"""Text from outside (a header, a field, a server's answer, a path) made safe to show:
cut to a readable length and with every non-printable character escaped, so a 10 MB
field or a terminal escape sequence never reaches the terminal or the log as it is."""

from __future__ import annotations

QUOTE_LIMIT = 80
"""Characters of a quoted value shown in a message."""
LINE_LIMIT = 4000
"""Characters of one message line (terminal or log) before it is cut."""


def escaped(text: str) -> str:
    """Every non-printable character (controls, ESC, BOM, line breaks) as its ``\\x..`` /
    ``\\u....`` escape; printable text, accents and CJK included, left alone."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in text)


def cut(text: str, limit: int = QUOTE_LIMIT) -> str:
    """``text`` escaped and cut to about ``limit`` characters, saying how long it was."""
    text = str(text)
    if len(text) > limit:
        return f"{escaped(text[:limit])}… ({len(text):,} characters)"
    return escaped(text)


def quoted(text: str, limit: int = QUOTE_LIMIT) -> str:
    """``'text'`` cut and escaped, for a value quoted inside a message."""
    return f"'{cut(text, limit)}'"


def safe_line(text: str, limit: int = LINE_LIMIT) -> str:
    """One message line for the terminal or the log: escaped and cut (line breaks kept
    only in the log's tracebacks, which are written by :func:`safe_block`)."""
    return cut(str(text), limit)


def safe_block(text: str, limit: int = 200_000) -> str:
    """A multi-line block (a traceback): each line escaped, the whole cut to ``limit``."""
    text = str(text)
    if len(text) > limit:
        text = text[:limit] + f"\n… ({len(text):,} characters in all)"
    return "\n".join(escaped(line) for line in text.split("\n"))
