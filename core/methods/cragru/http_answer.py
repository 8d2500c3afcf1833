"""What the HTTP backend accepts from a server and from its settings: same-origin
redirects only, one total deadline per request, bounded and well-formed answers, finite
log-probabilities; settings checked before any data is loaded.

A server (or whoever answers in its place) must never receive the API key by bouncing
the request to another host, must never hold the run forever by answering a byte at a
time, and a malformed answer must end in a clear error rather than a traceback or, worse,
a silently garbage ranking. The key itself never appears in a message.
"""

from __future__ import annotations

import http.client
import json
import math
import os
import socket
import threading
import time
import urllib.parse
import urllib.request

from core.errors import ConfigError, CragruError

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


class Deadline:
    """One request's whole time (connect, headers, every read of the body): each socket the
    request opens is shut down when the time is up, which ends a blocked read at once — a
    server sending one byte a second cannot stretch a per-read timeout forever."""

    def __init__(self, seconds: float) -> None:
        self.seconds = float(seconds)
        self.end = time.monotonic() + self.seconds
        self.expired = False
        self._timers: list[threading.Timer] = []

    def left(self) -> float:
        return max(0.001, self.end - time.monotonic())

    def watch(self, sock) -> None:
        def expire() -> None:
            self.expired = True
            try:  # the plain socket's shutdown, also under TLS: wakes the reading thread
                socket.socket.shutdown(sock, socket.SHUT_RDWR)
            except OSError:
                pass

        timer = threading.Timer(self.left(), expire)
        timer.daemon = True
        timer.start()
        self._timers.append(timer)

    def close(self) -> None:
        for timer in self._timers:
            timer.cancel()


def _watched(base: type, deadline: Deadline) -> type:
    class Watched(base):
        def connect(self) -> None:
            super().connect()
            deadline.watch(self.sock)

    return Watched


class _DeadlineHTTP(urllib.request.HTTPHandler):
    def __init__(self, deadline: Deadline) -> None:
        super().__init__()
        self.deadline = deadline

    def do_open(self, http_class, req, **kwargs):
        return super().do_open(_watched(http_class, self.deadline), req, **kwargs)


class _DeadlineHTTPS(urllib.request.HTTPSHandler):
    def __init__(self, deadline: Deadline) -> None:
        super().__init__()
        self.deadline = deadline

    def do_open(self, http_class, req, **kwargs):
        return super().do_open(_watched(http_class, self.deadline), req, **kwargs)


def opener_with(deadline: Deadline) -> urllib.request.OpenerDirector:
    """Same-origin redirects, and every connection under ``deadline``."""
    return urllib.request.build_opener(SameOriginRedirects, _DeadlineHTTP(deadline), _DeadlineHTTPS(deadline))


TRANSPORT_ERRORS = (OSError, http.client.HTTPException)
"""What a cut connection raises (urllib's URLError and TimeoutError are OSErrors)."""


def bad_header_value(value: str) -> bool:
    """True when ``value`` cannot be sent in an HTTP header (a line break, another control
    character, or a character outside Latin-1)."""
    try:
        value.encode("latin-1")
    except UnicodeEncodeError:
        return True
    return any(ord(ch) < 32 or ord(ch) == 127 for ch in value)


def check_http_params(params: dict) -> None:
    """The HTTP backend's settings, across fields, before any data is loaded: a base URL
    (http/https, without a user name or password — they would be stored with the run), a
    model name, and a key (when set) that is a valid header value. Raises ConfigError."""
    if params.get("backend") != "http":
        return
    from core.redact import redact_url

    url = str(params.get("http_base_url", "")).strip()
    if not url:
        raise ConfigError("backend=http needs http_base_url, e.g. http://127.0.0.1:8080/v1")
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"http_base_url must be an http:// or https:// address, got {redact_url(url)[:80]!r}")
    if parts.username or parts.password:
        raise ConfigError(
            f"http_base_url {redact_url(url)[:80]!r} holds a user name or password, which would be stored "
            "with the run; give the address without it and the key in the variable named by http_api_key_env"
        )
    if not str(params.get("http_model", "")).strip():
        raise ConfigError("backend=http needs http_model (the model name the server serves)")
    env = str(params.get("http_api_key_env", "")).strip()
    key = os.environ.get(env, "") if env else ""
    if key and bad_header_value(key):
        raise ConfigError(
            f"the API key in the environment variable {env} is not a valid HTTP header value (it holds a line "
            "break, another control character or a non-Latin-1 character); refused without sending or showing it"
        )


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
