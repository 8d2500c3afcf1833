"""The per-person likelihood-ratio test and the white-box attack against known answers.

Trains R reference base models and R reference retrainings (model seeds 100+ and 200+), the
run's own base and retrain (seed 0), then tests models whose answer is known:

* never trained on the forgotten people: retrain, SISA, ``--extra`` more retrainings (seeds 300+);
* trained on them: ``ids_only``, fine-tune, the base model, ``--extra`` more base models (400+),
  and a control that re-draws the forgotten users' vectors but keeps the item side.

For each it prints the group verdict, the combined p, the mean log likelihood ratio with its
seeded user-bootstrap interval, how many people look trained on, each score's own group result,
and the white-box record-level AUC with its paired difference from retrain. Scores are computed
once; the test is then read for every R' ≤ R (the first R' references)::

    python bench/bench_person_tests.py --data demo --references 4 --extra 4
    python bench/bench_person_tests.py --data /work/shared/data/ml-100k --references 4 --extra 3
"""

from __future__ import annotations

import argparse
import copy
import os
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.attacks.common import attack_difference, attack_result  # noqa: E402
from core.attacks.per_person import person_probes, person_scores, person_tests  # noqa: E402
from core.attacks.white_box import white_box_scores  # noqa: E402
from core.config import DataConfig, ExperimentConfig  # noqa: E402
from core.events import Reporter  # noqa: E402
from core.experiment import load_data, prepare_data  # noqa: E402
from core.forget_request import ForgetRequest  # noqa: E402
from core.methods.registry import UnlearnContext, get_method  # noqa: E402
from core.models.base import model_config  # noqa: E402
from core.models.training import train_recommender  # noqa: E402
from core.split import SplitConfig  # noqa: E402


def _trainer(config, prepared, device):
    ds = prepared.dataset

    def train(rows, seed: int, valid_rows):
        model_config = replace(config.model, seed=seed)
        valid = (ds.users[valid_rows], ds.items[valid_rows])
        return train_recommender(
            model_config, ds.n_users, ds.n_items, ds.users[rows], ds.items[rows], device, valid=valid
        )

    return train


def _method(name: str, base, config, prepared, train, device):
    spec = get_method(name)
    params = spec.validate({}, demo=config.data.is_demo)
    p = prepared
    ctx = UnlearnContext(
        p.dataset,
        p.split,
        p.request,
        p.groups,
        base_model=base,
        model_config=config.model,
        device=device,
        reporter=Reporter(),
        seed=config.split.seed,
        train_model=lambda rows, **_kw: train(rows, config.model.seed, p.retrain_valid_rows),
        targets=p.targets,
        retrain_valid_rows=p.retrain_valid_rows,
        use_cache=False,
    )
    state = spec.prepare(ctx, params) if spec.prepare else None
    return spec.unlearn(ctx, params, state).model


def _redrawn(base, users: np.ndarray, retained_rows, ds, seed: int):
    """The base model with the forgotten users' vectors re-drawn at the initial scale, item side kept."""
    model = copy.deepcopy(base)
    table = model.user_embedding.weight
    std = (2.0 / (table.shape[0] + table.shape[1])) ** 0.5  # Xavier-normal, as a fresh model starts
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        table[torch.as_tensor(users)] = torch.randn(len(users), table.shape[1], generator=g) * std
    model.set_training_rows(ds.users[retained_rows], ds.items[retained_rows])
    return model


def _score_text(name: str, found: dict) -> str:
    value, low, high = found["group_llr"]
    return f"{name}: p={found['group_p']:.2g} llr={value:+.1f} [{low:+.1f}, {high:+.1f}]"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="demo")
    parser.add_argument("--forget", default="users:random:0.05")
    parser.add_argument("--seed", type=int, default=0, help="split seed")
    parser.add_argument("--references", type=int, default=4)
    parser.add_argument("--extra", type=int, default=3, help="more retrainings and base models to test")
    parser.add_argument("--model", default="bpr", help="base model (its own defaults)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    config = ExperimentConfig(
        data=DataConfig(path=args.data),
        split=SplitConfig(seed=args.seed),
        request=ForgetRequest.parse(args.forget, seed=args.seed),
        model=model_config(args.model),
    )
    device = torch.device("cpu")
    t0 = time.perf_counter()
    prepared = prepare_data(config, load_data(config))
    ds, split, request = prepared.dataset, prepared.split, prepared.request
    train = _trainer(config, prepared, device)
    retained, valid_all, valid_kept = request.retained_rows, split.valid, prepared.retrain_valid_rows
    base = train(split.train, 0, valid_all)
    retrain = train(retained, 0, valid_kept)
    ins_models = [train(split.train, 100 + r, valid_all) for r in range(args.references)]
    outs_models = [train(retained, 200 + r, valid_kept) for r in range(args.references)]
    targets = {
        "retrain": retrain,
        "sisa": _method("sisa", base, config, prepared, train, device),
        **{f"retrain#{i + 1}": train(retained, 300 + i, valid_kept) for i in range(args.extra)},
        "ids_only": _method("ids_only", base, config, prepared, train, device),
        "finetune": _method("finetune", base, config, prepared, train, device),
        "base": base,
        "redraw": _redrawn(base, request.forget_users, retained, ds, seed=1234),
        **{f"base#{i + 1}": train(split.train, 400 + i, valid_all) for i in range(args.extra)},
    }
    trained_s = time.perf_counter() - t0
    probes = person_probes(ds, split, request, seed=args.seed)
    ids = list(ds.user_ids[probes.users])
    ins = [person_scores(m, probes) for m in ins_models]
    outs = [person_scores(m, probes) for m in outs_models]
    scores = {name: person_scores(m, probes) for name, m in targets.items()}
    white = {}
    if probes.white_box is not None:
        reference = white_box_scores(retrain, probes.white_box)
        for name, m in targets.items():
            if "white-box" in scores[name]:
                s = white_box_scores(m, probes.white_box)
                auc = attack_result(probes.white_box, s, seed=args.seed)
                diff = attack_difference(probes.white_box, s, reference, seed=args.seed)
                white[name] = f"WB AUC {auc.auc:.3f} [{auc.interval.low:.3f}, {auc.interval.high:.3f}]" + (
                    "" if name == "retrain" else f" vs retrain {diff.value:+.3f} [{diff.low:+.3f}, {diff.high:+.3f}]"
                )
    print(
        f"{ds.name}, {args.model}, {args.forget} (split seed {args.seed}): {len(ids)} people tested; "
        f"{trained_s:.0f} s to train "
        f"{2 + 2 * args.references + 2 * args.extra + 2} models on one thread; load {os.getloadavg()[0]:.1f} "
        f"({os.cpu_count()} cores)"
    )
    for r in range(2, args.references + 1):
        print(f"\nR = {r} reference models per side")
        for name, target in scores.items():
            found = person_tests(target, ins[:r], outs[:r], ids, seed=args.seed)
            llr = found.group_llr
            per_score = "  ".join(_score_text(k, v) for k, v in found.by_score.items())
            print(
                f"  {name:10s} {found.verdict:13s} p={found.group_p:<8.2g} mean LLR {llr[0]:+6.1f} "
                f"[{llr[1]:+6.1f}, {llr[2]:+6.1f}]  {found.trained_like:>2}/{len(found.people)} look trained | "
                f"{per_score} | {white.get(name, 'white-box: not applicable')}"
            )


if __name__ == "__main__":
    main()
