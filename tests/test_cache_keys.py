"""Issue 16, cache entries: each carries its key and a SHA-256; a planted, altered, older or
wrongly-shaped file is refused with a warning and the model trained again, never used."""

from __future__ import annotations

from dataclasses import replace

import pytest
import torch

from core.config import ExperimentConfig, MethodChoice
from core.events import LogEvent, Reporter
from core.experiment import prepare_data
from core.experiment.base_model import train_base
from core.forget_request import ForgetRequest
from core.model_cache import ENTRY_MAGIC, cache_key, cached_path, load_entry, save_entry
from core.models.base import ModelConfig

CONFIG = ExperimentConfig(
    model=ModelConfig(epochs=2, patience=1, batch_size=2048, dim=8),
    request=ForgetRequest("users", "random", 0.05, seed=0),
    methods=(MethodChoice("retrain"),),
)


@pytest.fixture(scope="module")
def prepared():
    return prepare_data(CONFIG)


def base(config, prepared):
    logs: list[LogEvent] = []
    model, _, cached = train_base(
        config, prepared, torch.device("cpu"), Reporter(lambda e: logs.append(e) if isinstance(e, LogEvent) else None)
    )
    return model, cached, [e.text for e in logs if e.level == "warning"]


def entry_path(config, prepared):
    key = cache_key(prepared.dataset.fingerprint(), prepared.split.as_dict(), config.model.as_dict(), "cpu")
    return cached_path(key), key


def test_entry_round_trip_and_refusals(tmp_path):
    path = tmp_path / "e.pt"
    assert save_entry(path, "k1", {"w": torch.ones(3)}, {"n_users": 3}) is None
    assert path.read_bytes().startswith(ENTRY_MAGIC)
    payload, warning = load_entry(path, "k1")
    assert warning is None and torch.equal(payload["w"], torch.ones(3))
    assert load_entry(path, "k2")[1] and "another key" in load_entry(path, "k2")[1]
    data = bytearray(path.read_bytes())
    data[-5] ^= 0xFF
    path.write_bytes(bytes(data))
    assert "checksum" in load_entry(path, "k1")[1]
    torch.save({"w": torch.ones(3)}, path)  # an older, unkeyed file
    assert "no key" in load_entry(path, "k1")[1]
    assert load_entry(tmp_path / "absent.pt", "k1") == (None, None)
    (tmp_path / "file").write_text("")
    assert "not saved" in save_entry(tmp_path / "file" / "x.pt", "k", {})


def test_base_model_is_cached_with_its_key(isolated_home, prepared):
    _, cached, warnings = base(CONFIG, prepared)
    assert not cached and not warnings
    _, cached, warnings = base(CONFIG, prepared)
    assert cached and not warnings


def test_a_planted_entry_of_another_key_is_never_used(isolated_home, prepared):
    other = replace(CONFIG, model=replace(CONFIG.model, seed=7))
    trained, _, _ = base(other, prepared)
    with torch.no_grad():  # the attack of the issue: valid weights, item embeddings negated
        for name, tensor in trained.state_dict().items():
            if "item" in name:
                tensor.neg_()
    from core.models.persistence import model_payload

    other_path, other_key = entry_path(other, prepared)
    save_entry(other_path, other_key, model_payload(trained))
    own_path, _ = entry_path(CONFIG, prepared)
    own_path.write_bytes(other_path.read_bytes())  # planted under this run's name
    model, cached, warnings = base(CONFIG, prepared)
    assert not cached and any("another key" in w for w in warnings)
    assert base(CONFIG, prepared)[1]  # the retrained model replaced the planted file


def test_an_entry_of_another_shape_is_retrained_not_a_crash(isolated_home, prepared):
    from core.models.factory import create_model
    from core.models.persistence import model_payload

    path, key = entry_path(CONFIG, prepared)
    ds = prepared.dataset
    empty = torch.zeros(0, dtype=torch.long).numpy()
    wrong = create_model(CONFIG.model, ds.n_users + 5, ds.n_items, empty, empty, "cpu")
    save_entry(path, key, model_payload(wrong))  # right key, checksum fine, another n_users
    model, cached, warnings = base(CONFIG, prepared)
    assert not cached and any("users" in w and "training again" in w for w in warnings)
    assert model.n_users == ds.n_users


def test_an_unwritable_cache_folder_is_a_warning(isolated_home, prepared, tmp_path, monkeypatch):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    monkeypatch.setenv("CRAGRU_CACHE_DIR", str(blocker))
    model, cached, warnings = base(CONFIG, prepared)
    assert model is not None and not cached and any("not saved" in w for w in warnings)


def test_memory_cache_keeps_the_most_recently_used():
    from core.model_cache import MemoryCache

    memo = MemoryCache(2)
    memo.put("a", 1)
    memo.put("b", 2)
    assert memo.get("a") == 1  # a is now the most recent
    memo.put("c", 3)
    assert "b" not in memo and memo.get("a") == 1 and memo.get("c") == 3 and len(memo) == 2
    assert memo.get("missing") is None
    memo.clear()
    assert len(memo) == 0
