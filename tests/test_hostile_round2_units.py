"""Issue 26, the shared pieces: atomic writes, redaction, safe text, special files."""

from __future__ import annotations

import os
import socket

import pytest

from core.errors import ConfigError
from core.outputs import atomic_write, check_folder, check_writable
from core.redact import redact, register_secret
from core.safe_text import cut, escaped
from core.special_files import refuse_special, special_kind

pytestmark = pytest.mark.timeout(30)


def test_a_failed_write_leaves_the_old_file_and_no_temporary_one(tmp_path):
    target = tmp_path / "r.json"
    target.write_text("old")

    def half(path):
        path.write_text("half")
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError):
        atomic_write(target, half)
    assert target.read_text() == "old" and sorted(p.name for p in tmp_path.iterdir()) == ["r.json"]


def test_a_writer_that_changes_the_suffix_is_followed(tmp_path):
    def as_html(path):
        written = path.with_suffix(".html")
        written.write_text("<html>")
        return written

    assert atomic_write(tmp_path / "report.txt", as_html) == tmp_path / "report.html"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html"]


def test_text_outputs_are_redacted(tmp_path, monkeypatch):
    monkeypatch.setenv("MY_LLM_TOKEN", "tok-canary-98765")
    path = atomic_write(
        tmp_path / "r.json", lambda p: p.write_text('{"u": "http://a:pw-canary@h/v1", "k": "tok-canary-98765"}')
    )
    text = path.read_text()
    assert "pw-canary" not in text and "tok-canary-98765" not in text and "[redacted]" in text


@pytest.mark.parametrize(
    "text, secret",
    [
        ("Authorization: Bearer sk-live-abcdef123456", "sk-live-abcdef123456"),
        ("https://admin:hunter2pw@example.org/v1", "hunter2pw"),
        ("GET /v1?api_key=zz-canary-11&x=1", "zz-canary-11"),
        ('{"x-api-key": "qq-canary-22"}', "qq-canary-22"),
    ],
)
def test_redaction_patterns(text, secret):
    assert secret not in redact(text)


def test_a_registered_secret_is_removed_line_by_line_and_ordinary_words_stay():
    register_secret("reg-canary-33\r\nX-Evil: 1")
    assert "reg-canary-33" not in redact("echo: reg-canary-33")
    assert redact("a normal token count, basic model, 5 tokens") == "a normal token count, basic model, 5 tokens"


def test_safe_text_escapes_and_cuts():
    assert escaped("\x1b[31mred\x07") == "\\x1b[31mred\\x07"
    assert escaped("ユーザー, café") == "ユーザー, café"
    assert escaped("\ufeffuser") == "\\ufeffuser"
    long = cut("x" * 1000)
    assert len(long) < 120 and "1,000 characters" in long


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
def test_special_files_by_type(tmp_path):
    fifo = tmp_path / "p"
    os.mkfifo(fifo)
    assert special_kind(fifo) == "a named pipe (FIFO)"
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(tmp_path / "s"))
        assert special_kind(tmp_path / "s") == "a socket"
    if os.path.exists("/dev/null"):
        assert special_kind("/dev/null") == "a character device"
    assert special_kind(tmp_path) is None and special_kind(tmp_path / "missing") is None
    for check in (
        lambda p: refuse_special(p, "x"),
        lambda p: check_writable(p, "--out"),
        lambda p: check_folder(p, "--out"),
    ):
        with pytest.raises(ConfigError, match="named pipe"):
            check(fifo)


def test_only_key_like_values_of_secret_named_variables_are_redacted(monkeypatch):
    monkeypatch.setenv("KEYRING_ENABLED", "enabled")
    monkeypatch.setenv("SSH_AUTH_SOCK", "/tmp/ssh-agent.sock")
    monkeypatch.setenv("SERVICE_API_KEY", "abc123def456")
    assert (
        redact("enabled at /tmp/ssh-agent.sock with abc123def456") == "enabled at /tmp/ssh-agent.sock with [redacted]"
    )
