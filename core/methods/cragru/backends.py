"""Where the generation stage's LLM runs: in-process (transformers) or behind an HTTP API.

Both backends offer the same three calls — ``count_tokens`` (prompt budgets),
``score`` (mean log-probability of each candidate's text after a prompt) and
``generate`` (free text) — so the rest of CRAGRU does not care which one it has.

- :class:`LocalBackend` loads a causal LM through :func:`core.llm.load_local_llm`
  (the bundled SmolLM2-135M-Instruct by default, or a ``.gguf`` / HF folder path):
  bf16 on a GPU, fp32 on a CPU; chat template applied; batched packed scoring.
- :class:`HttpBackend` talks to an OpenAI-compatible server (llama.cpp, vLLM, Ollama,
  a hosted API) with the standard library only: ``/chat/completions`` for generation
  and, for scoring, ``/completions`` with ``echo`` + ``logprobs`` (the server must
  support them; vLLM and llama.cpp do). The key comes from an environment variable
  whose *name* is a parameter, so it never lands in settings or run history.
"""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
from typing import Protocol

import numpy as np
import torch

from core.errors import ConfigError, CragruError
from core.methods.cragru.http_answer import (
    TRANSPORT_ERRORS,
    AnswerError,
    Deadline,
    bad_header_value,
    candidate_logprob,
    check_http_params,
    opener_with,
    parse_answer,
    read_body,
)
from core.redact import MARK, redact, register_secret
from core.safe_text import cut


class LLMBackendError(CragruError):
    """The LLM could not be reached or answered something unusable."""


class LLMBackend(Protocol):
    name: str

    def count_tokens(self, text: str) -> int: ...

    def score(self, prompts: list[str], candidates: list[list[str]]) -> np.ndarray: ...

    def generate(self, prompts: list[str], max_new_tokens: int, attempt: int = 0) -> list[str]: ...


class LocalBackend:
    """A local causal LM; ``batch_size`` users per forward pass."""

    def __init__(
        self,
        source: str | None,
        device: torch.device,
        batch_size: int = 4,
        seed: int = 0,
        max_candidate_tokens: int = 16,
    ) -> None:
        from core.llm.local import load_local_llm

        self.llm = load_local_llm(source or None, device)
        self.model = self.llm.model
        self.tokenizer = self.llm.tokenizer
        self.device = torch.device(device)
        self.batch_size = max(1, int(batch_size))
        self.seed = int(seed)
        self.max_candidate_tokens = int(max_candidate_tokens)
        self.name = f"local:{os.path.basename(self.llm.source)}"
        self.pad_id = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else 0
        eos = self.tokenizer.eos_token_id
        self.end_ids = [int(eos)] if eos is not None else []
        self._chat = bool(getattr(self.tokenizer, "chat_template", None))

    def format(self, text: str) -> str:
        """The prompt as the model expects it (its chat template when it has one)."""
        if self._chat:
            return self.tokenizer.apply_chat_template(
                [{"role": "user", "content": text}], tokenize=False, add_generation_prompt=True
            )
        return text + "\nAnswer: "

    def _ids(self, text: str) -> list[int]:
        return self.tokenizer.encode(text, add_special_tokens=False)

    def count_tokens(self, text: str) -> int:
        return len(self._ids(self.format(text)))

    def score(self, prompts: list[str], candidates: list[list[str]]) -> np.ndarray:
        from core.methods.cragru.candidate_logprobs import packed_candidate_logprobs

        prompt_ids = [self._ids(self.format(p)) for p in prompts]
        cand_ids = [
            [self._ids(c)[: self.max_candidate_tokens - len(self.end_ids)] + self.end_ids for c in cands]
            for cands in candidates
        ]
        order = np.argsort([len(p) for p in prompt_ids], kind="stable")  # similar lengths pad less
        out = np.zeros((len(prompts), len(candidates[0]) if candidates else 0))
        for start in range(0, len(order), self.batch_size):
            idx = order[start : start + self.batch_size]
            out[idx] = packed_candidate_logprobs(
                self.model, [prompt_ids[i] for i in idx], [cand_ids[i] for i in idx], self.pad_id, self.device
            )
        return out

    @torch.no_grad()
    def generate(self, prompts: list[str], max_new_tokens: int, attempt: int = 0) -> list[str]:
        """Greedy on the first attempt; seeded sampling on retries (a different answer)."""
        texts = [self._ids(self.format(p)) for p in prompts]
        width = max(len(t) for t in texts)
        ids = torch.full((len(texts), width), self.pad_id, dtype=torch.long)
        mask = torch.zeros((len(texts), width), dtype=torch.long)
        for row, t in enumerate(texts):
            ids[row, width - len(t) :] = torch.as_tensor(t)
            mask[row, width - len(t) :] = 1
        kwargs = dict(max_new_tokens=int(max_new_tokens), pad_token_id=self.pad_id)
        if attempt == 0:
            kwargs.update(do_sample=False)
        else:
            kwargs.update(do_sample=True, temperature=0.7, top_p=0.95)
        with torch.random.fork_rng(devices=[self.device] if self.device.type == "cuda" else []):
            torch.manual_seed(self.seed * 1000 + attempt)
            out = self.model.generate(input_ids=ids.to(self.device), attention_mask=mask.to(self.device), **kwargs)
        return [self.tokenizer.decode(row[width:], skip_special_tokens=True) for row in out]


class HttpBackend:
    """An OpenAI-compatible endpoint (``base_url`` ends before ``/chat/completions``)."""

    def __init__(
        self,
        base_url: str,
        model: str,
        api_key_env: str = "OPENAI_API_KEY",
        timeout: float = 60.0,
        retries: int = 2,
        seed: int = 0,
        max_tokens_per_char: float = 0.25,
    ) -> None:
        try:
            check_http_params(
                {"backend": "http", "http_base_url": base_url, "http_model": model, "http_api_key_env": api_key_env}
            )
        except ConfigError as exc:
            raise ConfigError(f"cragru: {exc}") from None
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.api_key_env = api_key_env.strip()
        self.timeout = float(timeout)
        self.retries = int(retries)
        self.seed = int(seed)
        self.tokens_per_char = max_tokens_per_char
        self.name = f"http:{self.model}@{redact(self.base_url)}"

    def count_tokens(self, text: str) -> int:
        """An estimate (about four characters a token): the server's tokenizer is not here."""
        return int(np.ceil(len(text) * self.tokens_per_char))

    def _key(self) -> str:
        key = os.environ.get(self.api_key_env, "") if self.api_key_env else ""
        if key and bad_header_value(key):
            raise LLMBackendError(
                f"the API key in the environment variable {self.api_key_env} is not a valid HTTP header value "
                "(a line break or another control character); refused without sending or showing it"
            )
        register_secret(key)  # never shown, logged or stored, whatever a server echoes
        return key

    def _detail(self, body: bytes, key: str) -> str:
        """A server's error page, fit to quote: the key and credentials removed, cut, escaped."""
        text = body.decode(errors="replace")
        if key:
            text = text.replace(key, MARK)
        return cut(redact(" ".join(text.split())), 200)

    def _post(self, path: str, payload: dict) -> dict:
        """One request under one total deadline (``timeout``: connect, headers and the whole
        body); 429/5xx and refused connections are retried, a stalled server is not."""
        url = f"{self.base_url}/{path}"
        headers = {"Content-Type": "application/json"}
        key = self._key()
        if key:
            headers["Authorization"] = f"Bearer {key}"
        data = json.dumps(payload).encode()
        last: Exception | None = None
        for attempt in range(self.retries + 1):
            request = urllib.request.Request(url, data=data, headers=headers, method="POST")
            deadline = Deadline(self.timeout)
            try:
                with opener_with(deadline).open(request, timeout=deadline.left()) as response:
                    return parse_answer(read_body(response, url), url)
            except urllib.error.HTTPError as exc:
                detail = "(no error page in time)" if deadline.expired else self._detail(exc.read(300), key)
                if exc.code in (401, 403):
                    hint = (
                        f"set the key in the environment variable {self.api_key_env}"
                        if not key
                        else f"the key in {self.api_key_env} was refused"
                    )
                    raise LLMBackendError(f"{url}: HTTP {exc.code} ({hint}): {detail}") from None
                if exc.code in (429, 500, 502, 503, 504) and attempt < self.retries:
                    last = exc
                    time.sleep(min(4.0, 0.5 * 2**attempt))
                    continue
                raise LLMBackendError(f"{url}: HTTP {exc.code}: {detail}") from None
            except AnswerError as exc:
                if deadline.expired:
                    raise self._too_slow(url) from None
                raise LLMBackendError(str(exc)) from None
            except TRANSPORT_ERRORS as exc:
                if deadline.expired or isinstance(getattr(exc, "reason", exc), TimeoutError):
                    raise self._too_slow(url) from None
                last = exc
                if attempt < self.retries:
                    time.sleep(min(4.0, 0.5 * 2**attempt))
                    continue
            finally:
                deadline.close()
        reason = getattr(last, "reason", last)
        raise LLMBackendError(f"cannot reach {url} after {self.retries + 1} tries: {cut(redact(str(reason)), 200)}")

    def _too_slow(self, url: str) -> LLMBackendError:
        return LLMBackendError(
            f"{url}: no complete answer within {self.timeout:g} s (http_timeout_s, for the whole request); "
            "the server is stalled or too slow — raise http_timeout_s if it is only slow"
        )

    def generate(self, prompts: list[str], max_new_tokens: int, attempt: int = 0) -> list[str]:
        out = []
        for prompt in prompts:
            answer = self._post(
                "chat/completions",
                {
                    "model": self.model,
                    "messages": [{"role": "user", "content": prompt}],
                    "max_tokens": int(max_new_tokens),
                    "temperature": 0.0 if attempt == 0 else 0.7,
                    "seed": self.seed + attempt,
                },
            )
            try:
                out.append(str(answer["choices"][0]["message"]["content"] or ""))
            except (KeyError, IndexError, TypeError):
                raise LLMBackendError(
                    f"{self.base_url}/chat/completions: unexpected answer {str(answer)[:200]}"
                ) from None
        return out

    def score(self, prompts: list[str], candidates: list[list[str]]) -> np.ndarray:
        """Mean log-probability of each candidate's tokens, via ``echo`` + ``logprobs``."""
        out = np.zeros((len(prompts), len(candidates[0]) if candidates else 0))
        for row, (prompt, cands) in enumerate(zip(prompts, candidates)):
            head = prompt + "\nAnswer: "
            answer = self._post(
                "completions",
                {
                    "model": self.model,
                    "prompt": [head + c for c in cands],
                    "max_tokens": 0,
                    "echo": True,
                    "logprobs": 1,
                    "temperature": 0.0,
                },
            )
            try:
                choices = sorted(answer["choices"], key=lambda c: c.get("index", 0))
                if len(choices) != len(cands):
                    raise LLMBackendError(
                        f"{self.base_url}/completions: {len(choices)} answers for {len(cands)} "
                        "candidates; refused rather than ranking on a partial answer"
                    )
                for j, choice in enumerate(choices):
                    lp = choice["logprobs"]
                    out[row, j] = candidate_logprob(
                        lp["token_logprobs"], lp["text_offset"], len(head), f"{self.base_url}/completions"
                    )
            except AnswerError as exc:
                raise LLMBackendError(str(exc)) from None
            except (KeyError, TypeError, IndexError, AttributeError):
                raise LLMBackendError(
                    f"{self.base_url}/completions: no token log-probabilities in the answer (the server must support "
                    "echo and logprobs; otherwise use mode=generate)"
                ) from None
        return out


def make_backend(params: dict, device: torch.device, seed: int = 0) -> LLMBackend:
    """The backend the parameters ask for."""
    if params["backend"] == "http":
        return HttpBackend(
            params["http_base_url"],
            params["http_model"],
            params["http_api_key_env"],
            timeout=params["http_timeout_s"],
            seed=seed,
        )
    return LocalBackend(params["llm_path"] or None, device, batch_size=params["llm_batch_size"], seed=seed)
