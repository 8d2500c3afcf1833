"""LLM answers kept on disk, keyed by the model file and the prompt (issue 23).

A second launch of the demo asks the bundled LLM the same prompts under the same weights
as the first: evaluation's re-ranking of the user sample, E2URec's own measures. The
in-process memos (CRAGRU's ``ANSWER_MEMO``, E2URec's ``answers``) already spare a rerun in
the same window; this store spares a new process too. Only models read from a file get one
(the key is the file's name, size and modification time plus what else shapes an answer,
e.g. the device and dtype); a prompt's key is the caller's (CRAGRU: the prompt text's hash;
E2URec: the adapter weights' digest and the token ids), so a changed prompt or adapter is
never answered from here. Each entry records the user it is about, so a deletion can purge
that user's entries (:meth:`AnswerStore.purge_users`); -1 marks an answer about nobody (a prompt
that holds no one's data), which no deletion purges. Reading or writing failures only
warn: the answers are then computed, as without a store.
"""

from __future__ import annotations

import hashlib
import os
import stat

import numpy as np
import torch

from core.model_cache import cache_key, cached_path, load_entry, save_entry

CACHE_KIND = "llm_answers"
MAX_ENTRIES = 50_000
"""Per model file: the oldest answers are dropped past this (a few MB)."""
_STORES: dict[str, AnswerStore] = {}


def model_identity(source: str | None, *parts: object) -> str | None:
    """The store's key for an LLM read from ``source`` (plus ``parts``: device, dtype, the
    method's scoring settings); None for a model built in memory, whose answers stay in-process."""
    if not source:
        return None
    try:
        st = os.stat(source)
    except OSError:
        return None
    if not stat.S_ISREG(st.st_mode):
        return None
    file = {"name": os.path.basename(source), "size": st.st_size, "mtime_ns": st.st_mtime_ns}
    return cache_key(file, *(str(p) for p in parts))


def store_for(identity: str | None) -> AnswerStore | None:
    """The one store of ``identity`` in this process (None for None)."""
    if identity is None:
        return None
    if identity not in _STORES:
        _STORES[identity] = AnswerStore(identity)
    return _STORES[identity]


def _digest(key: str | bytes) -> bytes:
    return hashlib.blake2b(key.encode() if isinstance(key, str) else key, digest_size=16).digest()


class AnswerStore:
    """Answers (float arrays) by prompt key, read from disk on first use, written by :meth:`flush`."""

    def __init__(self, identity: str) -> None:
        self.identity = identity
        self._entries: dict[bytes, tuple[int, np.ndarray]] | None = None
        self._dirty = False
        self.warning: str | None = None

    def _loaded(self) -> dict[bytes, tuple[int, np.ndarray]]:
        if self._entries is None:
            self._entries = {}
            payload, self.warning = load_entry(cached_path(self.identity, CACHE_KIND), self.identity)
            if payload is not None:
                ends = np.cumsum(payload["lengths"].numpy())
                values = np.split(payload["values"].numpy(), ends[:-1]) if len(ends) else []
                for digest, user, value in zip(payload["digests"].numpy(), payload["users"].tolist(), values):
                    self._entries[digest.tobytes()] = (int(user), value)
        return self._entries

    def get(self, key: str | bytes) -> np.ndarray | None:
        hit = self._loaded().get(_digest(key))
        return None if hit is None else hit[1].copy()

    def put(self, key: str | bytes, value: np.ndarray, user: int = -1) -> None:
        entries = self._loaded()
        entries.pop(_digest(key), None)  # re-inserted last: the newest are kept past MAX_ENTRIES
        entries[_digest(key)] = (int(user), np.asarray(value, dtype=np.float64).ravel().copy())
        while len(entries) > MAX_ENTRIES:
            del entries[next(iter(entries))]
        self._dirty = True

    def purge_users(self, users: set[int]) -> int:
        """Drop every answer about ``users`` (in memory and, at the next flush, on disk)."""
        entries = self._loaded()
        gone = [k for k, (user, _) in entries.items() if user in users]
        for k in gone:
            del entries[k]
        self._dirty = self._dirty or bool(gone)
        return len(gone)

    def flush(self) -> str | None:
        """Write the answers if any changed; a warning when the file cannot be written."""
        if not self._dirty or self._entries is None:
            return None
        items = list(self._entries.items())
        values = [v for _, (_, v) in items]
        payload = {
            "digests": torch.from_numpy(np.frombuffer(b"".join(k for k, _ in items), np.uint8).reshape(-1, 16).copy()),
            "users": torch.tensor([u for _, (u, _) in items], dtype=torch.int64),
            "lengths": torch.tensor([len(v) for v in values], dtype=torch.int64),
            "values": torch.from_numpy(np.concatenate(values) if values else np.zeros(0)),
        }
        self.warning = save_entry(
            cached_path(self.identity, CACHE_KIND), self.identity, payload, {"answers": len(items)}
        )
        self._dirty = False
        return self.warning

    def __len__(self) -> int:
        return len(self._loaded())
