"""What the HTTP backend accepts from a server: same-origin redirects only, bounded and
well-formed answers, finite log-probabilities.

A server (or whoever answers in its place) must never receive the API key by bouncing
the request to another host, and a malformed answer must end in a clear error rather
than a traceback or, worse, a silently garbage ranking.
"""

from __future__ import annotations

import json
import math
import urllib.parse
import urllib.request

from core.errors import CragruError

MAX_BODY_BYTES = 16 * 2**20  # an answer larger than this is refused
MAX_DEPTH = 64  # JSON nesting an answer may use
LOGPROB_RANGE = (-1e4, 1e-6)  # a token log-probability is ≤ 0; below -1e4 is no real model's


class AnswerError(CragruError):
    """The server's answer cannot be used (too large, not UTF-8, not JSON, malformed)."""


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urllib.parse.urlsplit(url)
    port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    return parts.scheme, (parts.hostname or "").lower(), port


class SameOriginRedirects(urllib.request.HTTPRedirectHandler):
    """Follows a redirect only to the same scheme, host and port: the ``Authorization``
    header is never sent to another origin."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # noqa: D401 - urllib's hook
        target = urllib.parse.urljoin(req.full_url, newurl)
        if _origin(target) != _origin(req.full_url):
            raise AnswerError(
                f"{req.full_url}: the server redirects to another origin ({_origin(target)[1]}); "
                "refused so the API key is not sent there — use the final address as the base URL"
            )
        return super().redirect_request(req, fp, code, msg, headers, newurl)


OPENER = urllib.request.build_opener(SameOriginRedirects)


def read_body(response, url: str) -> bytes:
    """At most :data:`MAX_BODY_BYTES` of the answer; larger is an error."""
    body = response.read(MAX_BODY_BYTES + 1)
    if len(body) > MAX_BODY_BYTES:
        raise AnswerError(f"{url}: the answer is larger than {MAX_BODY_BYTES // 2**20} MB; refused")
    return body


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not a number JSON allows")


def _depth(value, limit: int) -> int:
    """Nesting depth of decoded JSON, without recursion (a stack of (value, depth))."""
    stack, deepest = [(value, 1)], 0
    while stack:
        item, d = stack.pop()
        deepest = max(deepest, d)
        if deepest > limit:
            break
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else ()
        stack.extend((c, d + 1) for c in children if isinstance(c, (dict, list)))
    return deepest


def parse_answer(body: bytes, url: str) -> dict:
    """The answer as a JSON object: UTF-8, no NaN/Infinity, at most :data:`MAX_DEPTH` deep."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise AnswerError(f"{url}: the answer is not UTF-8 text (byte {exc.start})") from None
    try:
        value = json.loads(text, parse_constant=_refuse_constant)
    except RecursionError:
        raise AnswerError(f"{url}: the answer nests deeper than {MAX_DEPTH} levels; refused") from None
    except ValueError as exc:
        raise AnswerError(f"{url}: the answer is not valid JSON ({str(exc)[:120]})") from None
    if not isinstance(value, dict) or _depth(value, MAX_DEPTH) > MAX_DEPTH:
        raise AnswerError(f"{url}: the answer is not a JSON object of at most {MAX_DEPTH} levels")
    return value


def candidate_logprob(values: list, offsets: list, start: int, url: str) -> float:
    """Mean log-probability of the tokens at or after ``start``; each must be a finite
    number in :data:`LOGPROB_RANGE` (null, NaN, strings or 1e308 are refused)."""
    if not isinstance(values, list) or not isinstance(offsets, list) or len(values) != len(offsets):
        raise AnswerError(f"{url}: token_logprobs and text_offset must be lists of one length")
    picked = []
    for value, offset in zip(values, offsets):
        if not isinstance(offset, int) or isinstance(offset, bool) or offset < start:
            continue
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
        if not ok or not LOGPROB_RANGE[0] <= value <= LOGPROB_RANGE[1]:
            raise AnswerError(
                f"{url}: a candidate token's log-probability is {value!r}, not a finite number "
                f"in [{LOGPROB_RANGE[0]:g}, 0]; refused rather than ranking on it"
            )
        picked.append(float(value))
    return sum(picked) / len(picked) if picked else -1e9
