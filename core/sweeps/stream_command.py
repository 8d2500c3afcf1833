"""``cragru-run stream --steps K …``: K requests one after another, every method against
retraining after each; ``--out DIR`` writes ``stream.json`` and ``stream.svg``.
Takes the experiment flags of ``cragru-run`` (data, model, ``--forget`` per request, methods)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from core.events import Dispatcher, StreamStep
from core.sweeps.stream import MAX_STEPS, StreamResult, run_stream
from core.sweeps.svg import Line, Panel, panels_svg

FIGURES = (
    ("latency_s", "latency per request (s)", True),
    ("cumulative_s", "cumulative cost, set-up included (s)", True),
    ("drift_top10", "drift: 1 − top-10 Jaccard with retrain", False),
    ("drift_ndcg", "retained NDCG@10 minus retrain's", False),
    ("forgotten_recall", "forgotten recall@10 (all requests so far)", False),
)


def stream_panels(result: StreamResult) -> list[Panel]:
    """One panel per figure, one line per method, x = request number."""
    methods = list(dict.fromkeys(s.method for s in result.steps))
    return [
        Panel(
            title,
            "request",
            tuple(
                Line(
                    f"{m} ({result.modes[m]})",
                    tuple(float(s.step) for s in result.of(m)),
                    tuple(float(getattr(s, key)) for s in result.of(m)),
                )
                for m in methods
            ),
            log_y=log,
        )
        for key, title, log in FIGURES
    ]


def _print_step(event: StreamStep) -> None:
    print(
        f"step {event.step:>3} {event.method:<12} {event.latency_s:8.2f} s  cumulative {event.cumulative_s:8.2f} s"
        f"  drift top-10 {event.drift_top10:.3f}  ΔNDCG {event.drift_ndcg:+.4f}",
        flush=True,
    )


_print = Dispatcher({StreamStep: _print_step})


IGNORED = (("report", None), ("receipt", None), ("seeds", 1))
"""Experiment flags a stream does not honour: refused when given, never silently dropped."""


def _check_args(args, config) -> None:
    """Everything a stream will need, before any data is read: the flags it honours, the
    methods' parameters, the step count and the output folder."""
    from core.cli_args import validate_methods
    from core.errors import ConfigError
    from core.outputs import check_folder

    for flag, default in IGNORED:
        if getattr(args, flag) != default:
            raise ConfigError(
                f"--{flag} is not produced by a stream (it writes stream.json and stream.svg to --out FOLDER); "
                "run the experiment without 'stream' for it"
            )
    if not 1 <= args.steps <= MAX_STEPS:
        raise ConfigError(f"--steps must be in 1..{MAX_STEPS}, got {args.steps}")
    config.validate()
    validate_methods(config)
    if args.out:
        check_folder(args.out, "--out")


def _write(result: StreamResult, args) -> None:
    """stream.json and stream.svg, each whole or not at all; a failure goes to the fallback."""
    from core.outputs import write_or_fallback

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    title = f"{args.steps} × {result.request} on {result.dataset}"
    for name, text in (
        ("stream.json", json.dumps(result.as_dict(), indent=1)),
        ("stream.svg", panels_svg(stream_panels(result), title=title)),
    ):
        where, warning = write_or_fallback(
            out / name, lambda p, t=text: p.write_text(t, encoding="utf-8"), f"the stream's {name}", f"stream-{name}"
        )
        if warning:
            print(f"cragru-run stream: warning: {warning}", file=sys.stderr)
    print(f"stream written to {out}")


def main(argv: list[str]) -> int:
    from core.cli_args import build_parser, config_from_args

    parser = build_parser()
    parser.prog = "cragru-run stream"
    parser.description = "K deletion requests applied one after another, against retraining after each."
    parser.add_argument("--steps", type=int, default=10, help=f"requests in the stream (1..{MAX_STEPS})")
    args = parser.parse_args(argv)
    config = config_from_args(args)
    _check_args(args, config)
    result = run_stream(config, args.steps, on_event=None if args.quiet else _print)
    for method, mode in result.modes.items():  # first: whatever happens to the files, the figures are on screen
        last = result.of(method)[-1]
        print(
            f"{method:<12} {mode:<12} set-up {result.setup_s.get(method, 0.0):7.2f} s  "
            f"total {last.cumulative_s:8.2f} s  final drift top-10 {last.drift_top10:.3f}"
        )
    if args.out:
        _write(result, args)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
