"""Pre-training the influence encoder on simulated deletions, fine-tuning it on a real one.

Pre-training is the one-off step of UnlearnRec: per base model, the encoder sees many
simulated requests drawn from the base model's own training graph and learns how a
deletion should move the layer-0 embeddings. Each simulated request deletes a few per
cent of the edges — either random edges, or (with probability ``user_share``) every
edge of a random few per cent of users. The paper samples edges only; we add
whole-user requests because user-level forgetting (a user's entire history going at
once) is the request people make most, and an encoder that never saw one learns to
dent a history, not to erase it.

The trained encoder is cached on disk under ``core.paths.cache_dir()/unlearnrec`` and in
memory, keyed by a digest of the base model's weights and training rows plus the
pre-training parameters, so a second run on the same base model skips it.
"""

from __future__ import annotations

import copy
import hashlib
from dataclasses import asdict, dataclass

import numpy as np
import torch

from core.events import Reporter
from core.fit_loop import FitPlan, fit
from core.methods.unlearnrec.influence import InfluenceEncoder, influence_graph
from core.methods.unlearnrec.objective import LossConfig, Objective
from core.model_cache import MemoryCache, cache_key, cached_path, load_entry, save_entry
from core.models.negative_sampling import NegativeSampler

FORMAT = "unlearnrec-encoder-4"
CACHE_KIND = "unlearnrec"
MEMORY_ENTRIES = 4
METRIC_EVERY = 5
CLIP_NORM = 5.0

_memory = MemoryCache(MEMORY_ENTRIES)


@dataclass(frozen=True)
class PretrainSettings:
    layers: int
    steps: int
    ratio: float
    user_share: float
    lr: float
    batch_size: int
    seed: int
    loss: LossConfig  # the objective shapes what pre-training learns, so it is part of the key

    def as_dict(self) -> dict:
        return asdict(self)


class EdgeSet:
    """A graph's edges on the device, with the negative sampler of its users' positives."""

    def __init__(self, users: np.ndarray, items: np.ndarray, n_users: int, n_items: int, device: torch.device):
        self.users = torch.as_tensor(np.asarray(users, dtype=np.int64), device=device)
        self.items = torch.as_tensor(np.asarray(items, dtype=np.int64), device=device)
        self.n_users = int(n_users)
        self.n_items = int(n_items)
        self.sampler = NegativeSampler(users, items, n_users, n_items, device)

    def __len__(self) -> int:
        return len(self.users)

    def batch(
        self, size: int, generator: torch.Generator, among: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``size`` random (user, positive, negative) triples from the edges ``among`` (indices)."""
        pool = len(self) if among is None else len(among)
        pick = torch.randint(0, pool, (size,), generator=generator, device=self.users.device)
        if among is not None:
            pick = among[pick]
        users = self.users[pick]
        return users, self.items[pick], self.sampler.sample(users, generator)

    def neighbourhood(self, deleted: torch.Tensor) -> torch.Tensor:
        """Indices of the remaining edges that share a user or an item with a deleted edge.

        These are the pairs an update of the affected nodes can move (for BPR-MF the only
        ones), so the model and preservation losses are drawn from them rather than from
        the whole graph: otherwise most of a batch would be pairs whose scores cannot
        change, and the per-node parameters of the affected nodes would hear the
        unlearning loss on every step and the protective losses almost never. All
        remaining edges when the neighbourhood is empty.
        """
        device = self.users.device
        hit_users = torch.zeros(self.n_users, dtype=torch.bool, device=device)
        hit_users[self.users[deleted]] = True
        hit_items = torch.zeros(self.n_items, dtype=torch.bool, device=device)
        hit_items[self.items[deleted]] = True
        near = (hit_users[self.users] | hit_items[self.items]) & ~deleted
        if not bool(near.any()):
            near = ~deleted
        return torch.nonzero(near).squeeze(1)

    def simulated_deletion(self, ratio: float, whole_users: bool, generator: torch.Generator) -> torch.Tensor:
        """Bool mask over the edges: random edges, or every edge of random users, ~``ratio`` of them."""
        device = self.users.device
        if whole_users:
            chosen = torch.rand(self.n_users, generator=generator, device=device) < ratio
            mask = chosen[self.users]
        else:
            mask = torch.rand(len(self), generator=generator, device=device) < ratio
        if not bool(mask.any()):
            mask[torch.randint(0, len(self), (1,), generator=generator, device=device)] = True
        if bool(mask.all()):
            mask[torch.randint(0, len(self), (1,), generator=generator, device=device)] = False
        return mask


def optimise(
    encoder: InfluenceEncoder,
    objective: Objective,
    edges: EdgeSet,
    *,
    steps: int,
    lr: float,
    batch_size: int,
    seed: int,
    reporter: Reporter,
    stage: str,
    fixed_deletion: torch.Tensor | None = None,
    ratio: float = 0.05,
    user_share: float = 0.0,
) -> dict[str, float]:
    """Adam on the encoder for ``steps`` requests (one :func:`core.fit_loop.fit` epoch each,
    the generator seeded by ``seed``); returns the last step's loss terms.

    With ``fixed_deletion`` (a bool mask over ``edges``) every step uses that one real
    request and its remaining graph (built once); otherwise each step draws a simulated
    request and builds its remaining graph afresh.
    """
    backbone = objective.backbone
    fixed = None
    if fixed_deletion is not None:  # one real request: everything that depends on it, once
        fixed = _request_inputs(edges, backbone, fixed_deletion)
    last: dict[str, float] = {}

    def step(_idx: torch.Tensor, generator: torch.Generator):
        inputs = fixed
        if inputs is None:
            whole = bool(torch.rand((), generator=generator, device=edges.users.device) < user_share)
            inputs = _request_inputs(edges, backbone, edges.simulated_deletion(ratio, whole, generator))
        graph, adjacency, near, remaining_items = inputs
        batch = edges.batch(batch_size, generator, near)
        loss, parts = objective(encoder, graph, adjacency, batch, generator, remaining_items=remaining_items)
        last.clear()
        last.update(parts)
        return loss, parts

    plan = FitPlan(
        epochs=steps,
        batch_size=1,
        seed=seed,
        stage=stage,
        metric_every=METRIC_EVERY,
        clip_norm=CLIP_NORM,
        shuffle=False,
    )
    fit(
        step,
        list(encoder.parameters()),
        1,
        plan,
        reporter,
        lr=lr,
        module=encoder,
        device=edges.users.device,
        small_steps=True,
    )
    return last


def _request_inputs(edges: EdgeSet, backbone, deleted: torch.Tensor):
    """(influence graph, remaining adjacency, neighbourhood edge indices, remaining items) of a deletion."""
    keep = ~deleted
    graph = influence_graph(edges.users[deleted], edges.items[deleted])
    adjacency = backbone.adjacency(edges.users[keep], edges.items[keep])
    return graph, adjacency, edges.neighbourhood(deleted), edges.items[keep]


def pretrain_key(
    model: torch.nn.Module, users: np.ndarray, items: np.ndarray, settings: PretrainSettings, device: torch.device
) -> str:
    """Cache key: digest of the base model's state and training rows, plus the settings."""
    digest = hashlib.sha256()
    for name, tensor in sorted(model.state_dict().items()):
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    digest.update(np.ascontiguousarray(users, dtype=np.int64).tobytes())
    digest.update(np.ascontiguousarray(items, dtype=np.int64).tobytes())
    return cache_key(FORMAT, digest.hexdigest(), settings.as_dict(), device.type)


def pretrained_encoder(
    model: torch.nn.Module,
    objective: Objective,
    users: np.ndarray,
    items: np.ndarray,
    settings: PretrainSettings,
    device: torch.device,
    reporter: Reporter,
    *,
    use_cache: bool = True,
) -> tuple[InfluenceEncoder, str]:
    """The encoder for this base model: from memory, from disk, or pre-trained now.

    Returns ``(encoder, where)`` with ``where`` in ``memory``/``disk``/``trained``.
    """
    encoder = InfluenceEncoder(
        model.n_users, model.n_items, objective.user0.shape[1], settings.layers, seed=settings.seed
    ).to(device)
    key = pretrain_key(model, users, items, settings, device) if use_cache else ""
    if use_cache and key in _memory:
        encoder.load_state_dict(_memory.get(key))
        reporter.log("influence encoder reused from memory (pre-trained earlier for this base model)")
        return encoder.eval(), "memory"
    path = cached_path(key, CACHE_KIND) if use_cache else None
    state, warning = load_entry(path, key, device) if path is not None else (None, None)
    if state is not None:
        try:
            encoder.load_state_dict(state)  # shapes checked here: another size is refused
            _remember(key, state)
            reporter.log(f"influence encoder loaded from cache ({path.name})")
            return encoder.eval(), "disk"
        except Exception as exc:  # noqa: BLE001 - a wrong entry is re-trained, never used
            warning = f"cache entry {path.name} not used: {exc}; training again"
    if warning:
        reporter.log(warning, "warning")
    reporter.log("pre-training the influence encoder")
    edges = EdgeSet(users, items, model.n_users, model.n_items, device)
    last = optimise(
        encoder,
        objective,
        edges,
        steps=settings.steps,
        lr=settings.lr,
        batch_size=settings.batch_size,
        seed=settings.seed,
        reporter=reporter,
        stage="pretrain",
        ratio=settings.ratio,
        user_share=settings.user_share,
    )
    reporter.log(
        f"influence encoder pre-trained: {settings.steps} simulated requests, final loss "
        f"{last['loss']:.4f} (unlearn {last['unlearn']:.4f}, preserve {last['preserve']:.4f})"
    )
    state = {k: v.detach().cpu().clone() for k, v in encoder.state_dict().items()}
    if use_cache:
        _remember(key, state)
        warning = save_entry(path, key, state)
        if warning:
            reporter.log(warning, "warning")
    return encoder, "trained"


def fine_tuned(encoder: InfluenceEncoder, **kwargs) -> tuple[InfluenceEncoder, dict[str, float]]:
    """A copy of ``encoder`` fine-tuned on one real request (the pre-trained one is kept intact)."""
    tuned = copy.deepcopy(encoder)
    return tuned, optimise(tuned, **kwargs)


def _remember(key: str, state: dict) -> None:
    _memory.put(key, {k: v.detach().cpu() for k, v in state.items()})


def clear_memory_cache() -> None:
    """Forget the in-memory encoders (tests use it to exercise the disk cache)."""
    _memory.clear()
