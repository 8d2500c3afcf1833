"""A canary key and password for every test that uses the HTTP backend (issue 26: "a canary
key and password appear in no file the program writes").

A module that talks to an HTTP LLM server makes :func:`watch` an autouse fixture::

    @pytest.fixture(autouse=True)
    def _canary(tmp_path, monkeypatch, capsys, caplog):
        yield from canary.watch(tmp_path, monkeypatch, capsys, caplog)

Each of its tests then runs with its own home, cache and config folders under ``tmp_path``, the key
``KEY`` in the variable ``KEY_ENV``, and, after the test, the canary is looked for in every
file under ``tmp_path`` (history, log, results, receipts, reports, answer cache), in what it
printed and logged, and in the message of every engine error raised during the test, caught
or not. ``KEY_ENV``'s name does not look secret and the registry of known secrets starts
empty, so the key is kept out only because the backend registered it in this very test
(not by an earlier test's registration, nor by the name of the variable).
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

KEY = "canary-key-7f3a9c"
PASSWORD = "canary-pw-51d2e8"
KEY_ENV = "CANARY_LLM_VAR"


def written_text(root: Path) -> str:
    """Every file under ``root``, as text (bytes read as latin-1: nothing is skipped)."""
    return "\n".join(p.read_bytes().decode("latin-1") for p in Path(root).rglob("*") if p.is_file())


def assert_no_canary(*texts: str) -> None:
    for text in texts:
        assert KEY not in text and PASSWORD not in text, "the canary key or password leaked"


def watch(tmp_path: Path, monkeypatch, capsys, caplog) -> Iterator[list[str]]:
    """The fixture's body (a generator): yields the list of engine error messages seen."""
    import core.redact
    from core.errors import CragruError

    monkeypatch.setenv("CRAGRU_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("CRAGRU_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("CRAGRU_CONFIG_DIR", str(tmp_path / "config"))  # the signing key: every folder it writes
    monkeypatch.setenv(KEY_ENV, KEY)
    monkeypatch.setattr(core.redact, "_registered", set())
    messages: list[str] = []
    original = CragruError.__init__

    def spy(self, *args, **kwargs) -> None:
        messages.append(" ".join(str(a) for a in args))
        original(self, *args, **kwargs)

    monkeypatch.setattr(CragruError, "__init__", spy)
    yield messages
    out, err = capsys.readouterr()
    assert_no_canary(out, err, caplog.text, written_text(tmp_path), *messages)
