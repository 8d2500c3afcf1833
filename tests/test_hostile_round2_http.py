"""Issue 26, the HTTP backend: one total deadline per request (a server sending a byte at a
time cannot hold the run), settings refused before any data is loaded, and a canary key
and password in no message and no file the program writes."""

from __future__ import annotations

import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from core.cli import main
from core.methods.cragru.backends import HttpBackend, LLMBackendError
from tests.hostile import canary, warm
from tests.hostile.canary import KEY, KEY_ENV, PASSWORD, assert_no_canary, written_text

pytestmark = pytest.mark.timeout(30)
warm.engine()  # the lazy imports at collection: a test's time is its own work
ANSWER = b'{"choices": [{"message": {"content": "[]"}}]}'
QUICK = ["--epochs", "1", "--quiet", "--no-mia", "--methods", "cragru"]


def _scores(payload: dict) -> bytes:
    """/completions with echo: each prompt back with a log-probability per word (shorter
    words likelier), as a server scoring the candidates answers."""
    choices = []
    for k, prompt in enumerate(payload.get("prompt", [])):
        words = list(re.finditer(r"\S+", prompt))
        logprobs = [None] + [-0.1 * len(m.group()) for m in words[1:]]
        offsets = [m.start() for m in words]
        choices.append(
            {
                "index": k,
                "text": prompt,
                "logprobs": {"tokens": [m.group() for m in words], "token_logprobs": logprobs, "text_offset": offsets},
            }
        )
    return json.dumps({"choices": choices}).encode()


class Hostile(BaseHTTPRequestHandler):
    """``server.mode``: drip (a byte every 0.2 s), stall (headers never sent), echo (a 500
    page quoting the request's headers), refuse (the same page with a 401), unavailable
    (503), ok (scores for /completions, an empty ranking for chat)."""

    def log_message(self, *args) -> None:
        pass

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        payload = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.auth.append(self.headers.get("Authorization"))
        mode = self.server.mode
        if mode == "ok" and self.path.endswith("/v1/completions"):
            mode, answer = "scores", _scores(json.loads(payload))
        if mode == "stall":
            time.sleep(30)
            return
        if mode in ("echo", "refuse"):
            body = ("<h1>error</h1><pre>" + str(self.headers) + "</pre>").encode()
            self.send_response(500 if mode == "echo" else 401)
        elif mode == "unavailable":
            body = b"busy"
            self.send_response(503)
        else:
            body = answer if mode == "scores" else ANSWER + b" " * 200
            self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        for i in range(0, len(body), 1 if mode == "drip" else len(body)):
            try:
                self.wfile.write(body[i : i + (1 if mode == "drip" else len(body))])
                self.wfile.flush()
            except OSError:
                return
            if mode == "drip":
                time.sleep(0.2)


@pytest.fixture
def server():
    started = []

    def start(mode: str):
        srv = ThreadingHTTPServer(("127.0.0.1", 0), Hostile)
        srv.mode, srv.auth = mode, []
        srv.daemon_threads = True
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        started.append(srv)
        return srv

    yield start
    for srv in started:
        srv.shutdown()
        srv.server_close()


def _url(srv) -> str:
    return f"http://127.0.0.1:{srv.server_port}/v1"


@pytest.fixture(autouse=True)
def _canary(tmp_path, monkeypatch, capsys, caplog):
    """Every test: the canary key in no file, output, log line or error message."""
    yield from canary.watch(tmp_path, monkeypatch, capsys, caplog)


@pytest.mark.parametrize("mode", ["drip", "stall"])
def test_a_slow_server_is_cut_at_the_total_deadline(server, mode):
    backend = HttpBackend(_url(server(mode)), "m", KEY_ENV, timeout=1.5, retries=2)
    started = time.monotonic()
    with pytest.raises(LLMBackendError, match="no complete answer within 1.5 s") as caught:
        backend.generate(["hi"], 5)
    assert time.monotonic() - started < 4  # one deadline, no retry of a stalled server (was > 90 s)
    assert_no_canary(str(caught.value))


def test_a_normal_answer_still_arrives(server):
    assert HttpBackend(_url(server("ok")), "m", KEY_ENV, timeout=5, retries=0).generate(["hi"], 5) == ["[]"]


def _cli(capsys, *argv) -> tuple[int, str]:
    code = main([*argv])
    out, err = capsys.readouterr()
    return code, out + err


def _http(url: str) -> list[str]:
    return [
        "--param",
        "cragru.backend=http",
        "--param",
        f"cragru.http_base_url={url}",
        "--param",
        "cragru.http_model=m",
        "--param",
        f"cragru.http_api_key_env={KEY_ENV}",
    ]


def test_a_key_with_a_line_break_is_refused_by_name_without_echo(capsys, isolated_home, monkeypatch, server):
    monkeypatch.setenv(KEY_ENV, KEY + "\r\nX-Evil: 1")
    code, text = _cli(capsys, *QUICK, *_http(_url(server("ok"))), "--out", str(isolated_home / "r.json"))
    assert code == 2 and KEY_ENV in text and "not a valid HTTP header value" in text
    assert "Loading" not in text  # before any data was read
    assert_no_canary(text, written_text(isolated_home))


def test_url_credentials_are_refused_without_showing_the_password(capsys, isolated_home):
    code, text = _cli(capsys, *QUICK, *_http(f"http://admin:{PASSWORD}@127.0.0.1:9/v1"))
    assert code == 2 and "user name or password" in text and "[redacted]" in text
    assert_no_canary(text, written_text(isolated_home))


def test_backend_http_without_its_url_is_refused_before_any_data(capsys, isolated_home):
    code, text = _cli(capsys, *QUICK, "--param", "cragru.backend=http", "--param", "cragru.http_model=m")
    assert code == 2 and "http_base_url" in text.splitlines()[-1]
    assert "Loading" not in text and "Training" not in text


def test_a_server_echoing_the_headers_gets_no_key_into_any_output(capsys, isolated_home, server):
    out = isolated_home / "r.json"
    code, text = _cli(
        capsys,
        "--epochs",
        "1",
        "--no-mia",
        "--methods",
        "retrain,cragru",
        *_http(_url(server("echo"))),
        "--out",
        str(out),
    )
    assert "HTTP 500" in text and "[redacted]" in text, text[-2000:]
    assert_no_canary(text, written_text(isolated_home))
    assert code != 0 or out.is_file()


def test_a_method_failing_mid_run_keeps_the_finished_ones(capsys, isolated_home, server):
    """retrain,finetune,cragru with the LLM server answering 503: retrain and fine-tune had
    finished, so they are printed and written to --out; the run fails in one line."""
    out = isolated_home / "r.json"
    argv = ["--epochs", "1", "--no-mia", "--quiet", "--methods", "retrain,finetune,cragru", "--out", str(out)]
    code, text = _cli(capsys, *argv, *_http(_url(server("unavailable"))))
    last = text.strip().splitlines()[-1]
    assert code == 2 and last.startswith("cragru-run: error: method 'cragru' failed") and "HTTP 503" in last
    assert "retrain, finetune" in last and str(out) in last
    saved = json.loads(out.read_text())
    assert {"base", "retrain", "finetune"} <= set(saved["models"]) and "cragru" not in saved["models"]
    assert saved["partial"] is True
    assert_no_canary(text, written_text(isolated_home))


def test_a_refused_key_reaches_no_output(capsys, isolated_home, server):
    """A 401 whose page quotes the request's headers: the run fails naming the variable,
    the key is in no message, log line, history row or file."""
    code, text = _cli(capsys, *QUICK, *_http(_url(server("refuse"))), "--out", str(isolated_home / "r.json"))
    last = text.strip().splitlines()[-1]
    assert code == 2 and "HTTP 401" in last and f"the key in {KEY_ENV} was refused" in last, last


def test_a_dripping_server_cannot_hold_a_run(capsys, isolated_home, server):
    """The whole command, not only the backend: http_timeout_s=1 against a server sending a
    byte every 0.2 s (a 49 s answer) ends the run in one line within seconds."""
    started = time.monotonic()
    argv = [*QUICK, *_http(_url(server("drip"))), "--param", "cragru.http_timeout_s=1"]
    code, text = _cli(capsys, *argv, "--out", str(isolated_home / "r.json"))
    last = text.strip().splitlines()[-1]
    assert code == 2 and "no complete answer within 1 s" in last, last
    assert time.monotonic() - started < 20


def test_an_ordinary_run_keeps_the_key_out_of_every_file(capsys, isolated_home, server):
    """A whole run that succeeds over HTTP, with its results, report, receipt, history row and
    log: the key is in none of them (the fixture looks in every file and message too)."""
    home = isolated_home
    outputs = ["--out", str(home / "r.json"), "--report", str(home / "p.html"), "--receipt", str(home / "c.json")]
    srv = server("ok")
    code, text = _cli(capsys, *QUICK, *_http(_url(srv)), *outputs)
    assert code == 0, text[-2000:]
    assert srv.auth and set(srv.auth) == {f"Bearer {KEY}"}  # the key was sent with every request
    assert "cragru" in json.loads((home / "r.json").read_text())["models"]
    assert (home / "p.html").stat().st_size > 1000 and (home / "c.json").stat().st_size > 100
    assert_no_canary(text, written_text(home))
