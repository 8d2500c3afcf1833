"""The experiment's command-line flags and their reading into an :class:`ExperimentConfig`:
shared by ``cragru-run`` and its ``stream`` and ``sweep`` subcommands (one parser, one
reading, every choice and default from the specs the window's forms are built from)."""

from __future__ import annotations

import argparse
from dataclasses import replace

from core.config import DataConfig, ExperimentConfig, MethodChoice
from core.device import DEVICE_CHOICES
from core.errors import CragruError
from core.forget_request import SELECTORS, ForgetRequest
from core.models.base import MODEL_NAMES, ModelConfig, model_config
from core.references.settings import REFERENCES_PARAM
from core.safe_text import quoted
from core.seeds import MAX_SEEDS
from core.split import SPLIT_MODES, SplitConfig


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cragru-run",
        description="Run a recommendation-unlearning experiment, or list stored runs (cragru-run history).",
    )
    parser.add_argument("--data", default="demo", help="dataset folder or file, or 'demo' (default)")
    parser.add_argument("--format", default="auto", help="auto, ml-100k, ml-1m, recbole, csv, lastfm")
    parser.add_argument("--threshold", type=float, default=None, help="keep ratings >= this (default: all)")
    parser.add_argument("--k-core", type=int, default=0, help="k-core filter (0 = off)")
    parser.add_argument("--model", default=ModelConfig().name, choices=MODEL_NAMES)
    parser.add_argument("--epochs", type=int, default=None, help="max training epochs of the base model")
    parser.add_argument("--dim", type=int, default=None, help="embedding size")
    parser.add_argument(
        "--forget",
        default="users:random:0.05",
        help="kind:selector:value, e.g. users:random:0.05, users:ids:1,2,3, items:genre:Horror; selectors: "
        + "; ".join(f"{kind} {', '.join(names)}" for kind, names in SELECTORS.items()),
    )
    parser.add_argument(
        "--methods",
        default="retrain",
        help="comma-separated method names (see --list-methods), or 'all' (every method; controls by name)",
    )
    parser.add_argument(
        "--plugin",
        action="append",
        default=[],
        metavar="FILE.py",
        help="load an unlearning method from a Python file outside the package (repeatable; "
        "see docs/ADDING_A_METHOD.md)",
    )
    parser.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="METHOD.NAME=VALUE",
        help="a method parameter, e.g. --param finetune.epochs=3 (repeatable)",
    )
    parser.add_argument("--split", default=SplitConfig().mode, choices=SPLIT_MODES)
    parser.add_argument("--outsiders", type=float, default=0.1, help="share of users held out of training")
    parser.add_argument("--similar-n", type=int, default=10, help="similar users per forgotten user")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--seeds",
        type=int,
        default=1,
        metavar="N",
        help=f"repeat the experiment over N split seeds (--seed, --seed + 1, …; 1..{MAX_SEEDS}), one "
        "after another, each stored in the history; prints each figure's mean ± std and "
        "--out holds every run and the summary",
    )
    parser.add_argument(
        "--references",
        type=int,
        default=None,
        metavar="R",
        help=f"{REFERENCES_PARAM.help} ({REFERENCES_PARAM.low}..{REFERENCES_PARAM.high}; default "
        f"{REFERENCES_PARAM.default}, on the demo {REFERENCES_PARAM.demo})",
    )
    parser.add_argument("--device", default=ExperimentConfig().device, choices=DEVICE_CHOICES)
    parser.add_argument("--no-cache", action="store_true", help="retrain the base model even if cached")
    parser.add_argument(
        "--no-mia",
        action="store_true",
        help="skip the membership attacks (fold-in and record-level; the "
        "known-user count, agreement and intervals are still measured)",
    )
    parser.add_argument(
        "--by",
        default=None,
        metavar="ATTRS",
        help="print who was affected, split by user attributes, e.g. --by age,gender (activity, any profile "
        "column, or 'all'): each group's NDCG@10 change against retraining with its 95 %% interval, and "
        "the fairness gap",
    )
    parser.add_argument(
        "--by-metric",
        default="ndcg@10",
        metavar="METRIC",
        help="the measure --by splits (default ndcg@10): any utility measure (hit@5, recall@20, mrr@10, ...); "
        "the top-10 agreement with retraining per group is in the window and the result JSON",
    )
    parser.add_argument("--out", default=None, help="write the result JSON here")
    parser.add_argument(
        "--report",
        default=None,
        metavar="FILE.html|FILE.pdf",
        help="write the audit report here, HTML or PDF by the name's suffix (the window's report, "
        "without the chart images; with --seeds, one report per seed named FILE-seed<S>.html)",
    )
    parser.add_argument(
        "--receipt",
        default=None,
        metavar="FILE.json",
        help="write the JSON receipt (data and request fingerprints, subjects, verdicts, evidence; "
        "with --seeds, one per seed named FILE-seed<S>.json); check it later with: "
        "cragru-run verify FILE.json --data PATH",
    )
    parser.add_argument("--no-history", action="store_true", help="do not record the run in the history")
    parser.add_argument("--list-methods", action="store_true", help="list the registered methods and exit")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


def parse_params(items: list[str]) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for item in items:
        if "=" not in item or "." not in item.split("=", 1)[0]:
            raise CragruError(f"--param {item!r} must look like method.name=value")
        key, value = item.split("=", 1)
        method, name = key.split(".", 1)
        if not method.strip() or not name.strip():
            missing = "method name before" if not method.strip() else "parameter name after"
            raise CragruError(f"--param {item!r}: the {missing} the dot is empty (method.name=value)")
        out.setdefault(method.strip(), {})[name.strip()] = value.strip()
    return out


def load_plugins(args: argparse.Namespace) -> None:
    """The ``--plugin`` files, before any method name is looked up."""
    from core.methods.plugins import load_plugin_file

    for path in args.plugin:
        load_plugin_file(path)


def config_from_args(args: argparse.Namespace) -> ExperimentConfig:
    from core.methods.registry import get_method

    load_plugins(args)

    names = [n.strip() for n in args.methods.split(",") if n.strip()]
    if [n.lower() for n in names] == ["all"]:  # every unlearning method, as "Tick all" in the window
        from core.methods.registry import list_methods

        names = [spec.name for spec in list_methods() if not spec.has("control")]  # controls: by name
    _check_by_metric(args)
    params = parse_params(args.param)
    unknown = sorted(set(params) - set(names))
    if unknown:
        raise CragruError(f"--param given for method(s) not in --methods: {', '.join(unknown)}")
    for name in names:
        get_method(name)  # unknown names fail here with the list of known ones
    model = model_config(args.model, seed=args.seed)
    if args.epochs is not None:
        model = replace(model, epochs=args.epochs)
    if args.dim is not None:
        model = replace(model, dim=args.dim)
    from core.data.loaders import check_data_config

    data = DataConfig(path=args.data, fmt=args.format, implicit_threshold=args.threshold, k_core=args.k_core)
    check_data_config(data, "--")
    return ExperimentConfig(
        data=data,
        split=SplitConfig(mode=args.split, outsider_fraction=args.outsiders, seed=args.seed),
        model=model,
        request=ForgetRequest.parse(args.forget, seed=args.seed),
        methods=tuple(MethodChoice(n, params.get(n, {})) for n in names),
        similar_top_n=args.similar_n,
        device=args.device,
        use_cache=not args.no_cache,
        mia=not args.no_mia,
        references=args.references,
    )


def validate_methods(config: ExperimentConfig) -> None:
    """Each method's parameters in full (ranges and cross-field checks) before any training."""
    from core.methods.registry import get_method

    for choice in config.methods:
        get_method(choice.name).validate(choice.params, demo=config.data.is_demo)


def _check_by_metric(args: argparse.Namespace) -> None:
    """``--by-metric`` names a measure the breakdown holds, refused before any work otherwise."""
    metric = getattr(args, "by_metric", "ndcg@10")
    if metric == "ndcg@10" and not getattr(args, "by", None):
        return
    if not getattr(args, "by", None):
        raise CragruError("--by-metric needs --by (the user attributes to split by, e.g. --by age,gender)")
    from core.evaluation.metrics import metric_names

    known = metric_names()
    if metric not in known:
        raise CragruError(f"--by-metric {quoted(metric)}: not a utility measure; one of {', '.join(known)}")
