"""The HTTP backend against hostile local servers: redirects, huge / broken / deep
answers and absurd log-probabilities (issue 16, security)."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest

from core.methods.cragru.backends import HttpBackend, LLMBackendError
from tests.hostile import canary
from tests.hostile.canary import KEY, KEY_ENV

pytestmark = pytest.mark.timeout(30)


@pytest.fixture(autouse=True)
def _canary(tmp_path, monkeypatch, capsys, caplog):
    """Every test: the canary key in no file, output, log line or error message."""
    yield from canary.watch(tmp_path, monkeypatch, capsys, caplog)


class Catcher(BaseHTTPRequestHandler):
    """Records every request's headers; answers with ``server.reply`` (status, headers, body)."""

    def log_message(self, *args) -> None:
        pass

    def _answer(self) -> None:
        self.server.seen.append(dict(self.headers))
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        status, headers, body = self.server.reply
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_POST = do_GET = _answer


@pytest.fixture
def servers():
    started = []

    def start(status=200, headers=None, body=b"{}"):
        server = ThreadingHTTPServer(("127.0.0.1", 0), Catcher)
        server.seen, server.reply = [], (status, headers or {}, body)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.shutdown()
        server.server_close()


def _backend(server, monkeypatch) -> HttpBackend:
    return HttpBackend(f"http://127.0.0.1:{server.server_port}/v1", "m", KEY_ENV, timeout=5, retries=0)


@pytest.mark.parametrize("code", [301, 302, 303, 307, 308])
def test_redirect_to_another_origin_never_carries_the_key(servers, monkeypatch, code):
    other = servers(body=json.dumps({"choices": [{"message": {"content": "[]"}}]}).encode())
    bouncer = servers(status=code, headers={"Location": f"http://127.0.0.1:{other.server_port}/v1/chat/completions"})
    with pytest.raises(LLMBackendError, match="another origin"):
        _backend(bouncer, monkeypatch).generate(["hi"], 5)
    assert bouncer.seen and bouncer.seen[0].get("Authorization") == f"Bearer {KEY}"
    assert other.seen == []  # the second server was never even contacted


def _completions(logprobs) -> bytes:
    return json.dumps(
        {
            "choices": [
                {
                    "index": 0,
                    "text": "x",
                    "logprobs": {
                        "tokens": ["a"] * len(logprobs),
                        "token_logprobs": logprobs,
                        "text_offset": [10_000 + i for i in range(len(logprobs))],
                    },
                }
            ]
        }
    ).encode()


@pytest.mark.parametrize(
    "body, message",
    [
        (b"\xff\xfe{\x00}", "not UTF-8"),
        (b"[" * 100_000 + b"]" * 100_000, "deeper|not a JSON object"),
        (b'{"a":' * 500 + b"1" + b"}" * 500, "deeper|not a JSON object"),
        (b"not json at all", "not valid JSON"),
        (b'{"choices": [{"message": {"content": NaN}}]}', "not valid JSON"),
    ],
)
def test_malformed_answers_are_clear_errors(servers, monkeypatch, body, message):
    backend = _backend(servers(body=body), monkeypatch)
    with pytest.raises(LLMBackendError, match=message):
        backend.generate(["hi"], 5)


def test_oversized_answer_is_refused(servers, monkeypatch):
    import core.methods.cragru.http_answer as answer

    monkeypatch.setattr(answer, "MAX_BODY_BYTES", 1000)
    backend = _backend(servers(body=b'{"x": "' + b"a" * 5000 + b'"}'), monkeypatch)
    with pytest.raises(LLMBackendError, match="larger than"):
        backend.generate(["hi"], 5)


@pytest.mark.parametrize("logprobs", [[None], [float("nan")], [1e308], ["-1"], [True], [-1e300]])
def test_absurd_log_probabilities_are_refused(servers, monkeypatch, logprobs):
    body = _completions(logprobs).replace(b"NaN", b"1e999")  # 1e999 decodes to inf
    backend = _backend(servers(body=body), monkeypatch)
    with pytest.raises(LLMBackendError, match="log-probability|not valid JSON"):
        backend.score(["p"], [["c"]])


def test_wrong_number_of_choices_is_refused(servers, monkeypatch):
    backend = _backend(servers(body=_completions([-0.5])), monkeypatch)
    with pytest.raises(LLMBackendError, match="1 answers for 2 candidates"):
        backend.score(["p"], [["c", "d"]])


def test_sane_log_probabilities_still_score(servers, monkeypatch):
    backend = _backend(servers(body=_completions([-0.5, -1.5])), monkeypatch)
    assert np.allclose(backend.score(["p"], [["c"]]), [[-1.0]])


@pytest.mark.parametrize(
    "text", ["[" * 50_000 + "]" * 50_000, '{"1": NaN, "2": 1}', '{"1": 1e999, "2": 1}', "x" * 1_000_000]
)
def test_generated_text_that_holds_no_sane_ranking_parses_to_nothing(text):
    from core.methods.cragru.generation_parse import parse_ranking

    parsed = parse_ranking(text, ["1", "2"])
    assert not parsed.complete
