"""The OpenAI-compatible HTTP backend against a small server started on 127.0.0.1."""

from __future__ import annotations

import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest
from test_cragru_common import make_context, params

from core.errors import ConfigError
from core.methods.cragru.backends import HttpBackend, LLMBackendError
from core.methods.cragru.method import build_state
from tests.hostile import canary
from tests.hostile.canary import KEY, KEY_ENV

pytestmark = pytest.mark.timeout(30)


@pytest.fixture(autouse=True)
def _canary(tmp_path, monkeypatch, capsys, caplog):
    """Every test: the canary key in no file, output, log line or error message (issue 26)."""
    yield from canary.watch(tmp_path, monkeypatch, capsys, caplog)


class FakeOpenAI(BaseHTTPRequestHandler):
    """chat/completions answers a JSON ranking of the IDs it sees (reversed);
    completions echoes the prompt with fake log-probabilities (shorter words likelier)."""

    def log_message(self, *args) -> None:  # keep the test output clean
        pass

    def do_POST(self) -> None:  # noqa: N802
        server = self.server
        server.requests.append((self.path, dict(self.headers)))
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        server.bodies.append(body)
        if server.script:
            action = server.script.pop(0)
            if action == "sleep":
                time.sleep(1.0)
            elif isinstance(action, int):
                self._send(action, {"error": {"message": f"scripted {action}"}})
                return
        if server.key and self.headers.get("Authorization") != f"Bearer {server.key}":
            self._send(401, {"error": {"message": "bad key"}})
            return
        if self.path.endswith("/chat/completions"):
            text = body["messages"][0]["content"]
            ids = re.findall(r"^(\w+): ", text, flags=re.M)
            content = json.dumps({"ranking": ids[::-1]})
            self._send(200, {"choices": [{"index": 0, "message": {"role": "assistant", "content": content}}]})
        elif self.path.endswith("/completions"):
            choices = []
            for k, prompt in enumerate(body["prompt"]):
                tokens, offsets, logprobs = [], [], []
                for m in re.finditer(r"\S+", prompt):
                    tokens.append(m.group())
                    offsets.append(m.start())
                    logprobs.append(-0.1 * len(m.group()))
                logprobs[0] = None  # the first token has no log-probability, as in real servers
                choices.append(
                    {
                        "index": k,
                        "text": prompt,
                        "logprobs": {"tokens": tokens, "token_logprobs": logprobs, "text_offset": offsets},
                    }
                )
            self._send(200, {"choices": choices})
        else:
            self._send(404, {"error": "no such path"})

    def _send(self, code: int, payload: dict) -> None:
        data = json.dumps(payload).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), FakeOpenAI)
    httpd.requests, httpd.bodies, httpd.script, httpd.key = [], [], [], ""
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield httpd, f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def test_generate_and_score_over_http(server, monkeypatch):
    httpd, url = server
    httpd.key = KEY
    backend = HttpBackend(url, "tiny", KEY_ENV, timeout=5, retries=0)
    out = backend.generate(["Candidates:\n7: A\n9: B\nRank them."], 50)
    assert json.loads(out[0]) == {"ranking": ["9", "7"]}
    scores = backend.score(["Pick one."], [["Tiny", "Enormously"]])
    assert scores[0, 0] > scores[0, 1]  # shorter word → higher fake log-probability
    path, headers = httpd.requests[-1]
    assert path == "/v1/completions" and headers["Authorization"] == f"Bearer {KEY}"
    body = httpd.bodies[-1]
    assert body["echo"] is True and body["max_tokens"] == 0 and len(body["prompt"]) == 2


def test_the_whole_generation_stage_over_http(server):
    httpd, url = server
    httpd.key = KEY
    ctx = make_context()
    state, extras, _ = build_state(
        ctx,
        params(
            backend="http",
            http_base_url=url,
            http_model="tiny",
            http_api_key_env=KEY_ENV,
            mode="generate",
            strategy="recent",
        ),
    )
    users = ctx.groups.retain[:2]
    answers = state.answers(users)
    for u in users.tolist():
        a = answers[u]
        assert a.path == "generate_complete"
        assert np.argmax(a.scores) == len(a.candidates) - 1  # the server reversed the list


def test_errors_are_clear(server, monkeypatch):
    httpd, url = server
    httpd.key = "right-key-0000"
    with pytest.raises(LLMBackendError, match=f"the key in {KEY_ENV} was refused"):
        HttpBackend(url, "tiny", KEY_ENV, retries=0).generate(["x"], 5)
    monkeypatch.delenv("CRAGRU_MISSING_KEY", raising=False)
    with pytest.raises(LLMBackendError, match="CRAGRU_MISSING_KEY"):
        HttpBackend(url, "tiny", "CRAGRU_MISSING_KEY", retries=0).generate(["x"], 5)
    httpd.key = ""
    httpd.script = [503, 503]
    backend = HttpBackend(url, "tiny", KEY_ENV, timeout=5, retries=2)
    assert backend.generate(["1: A"], 5)  # two 503s, then an answer
    httpd.script = ["sleep"]
    with pytest.raises(LLMBackendError, match="no complete answer within 0.3 s"):  # one deadline, no retry
        HttpBackend(url, "tiny", KEY_ENV, timeout=0.3, retries=0).generate(["x"], 5)
    with pytest.raises(LLMBackendError, match="HTTP 404"):
        HttpBackend(url.replace("/v1", "/nope"), "tiny", KEY_ENV, retries=0)._post("other", {})
    with pytest.raises(ConfigError):
        HttpBackend("ftp://example", "tiny")
    with pytest.raises(ConfigError):
        HttpBackend(url, "")


def test_unreachable_server_names_the_url():
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(LLMBackendError, match=f"127.0.0.1:{port}"):
        HttpBackend(f"http://127.0.0.1:{port}/v1", "tiny", KEY_ENV, timeout=2, retries=1).generate(["x"], 5)
