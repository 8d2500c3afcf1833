"""``cragru-run``: the headless command line over the same runner the window uses."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from pathlib import Path

from core.cli_args import build_parser, config_from_args, load_plugins, validate_methods
from core.errors import Cancelled, CragruError, MethodFailed
from core.events import (
    AttackResultEvent,
    Dispatcher,
    Event,
    LogEvent,
    ModelResultEvent,
    ProgressEvent,
    SeedStarted,
    StageEvent,
)
from core.reporting.catalogue import entry_for, summary_keys
from core.reporting.numbers import text_table
from core.reporting.people_tests import named_request_lines
from core.reporting.verdicts import verdicts, verdicts_text
from core.seeds import SeedFailed, run_seeds, seed_configs, spread_table, summarise, summary_dict

PROGRESS_KEYS = ("retain/hit@10", "retain/ndcg@10")
"""Figures printed as each model finishes."""


class _ProgressPrinter:
    """Turns engine events into a tqdm bar (stderr) and log lines."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self.bar = None
        if not quiet:
            from tqdm import tqdm

            self.bar = tqdm(
                total=1000, unit="‰", bar_format="{l_bar}{bar}| {elapsed}<{remaining}{postfix}", file=sys.stderr
            )
        self.dispatch = Dispatcher(
            {
                StageEvent: self._stage,
                ProgressEvent: self._progress,
                LogEvent: self._log,
                SeedStarted: lambda e: self._write(f"— seed {e.index} of {e.total} (split seed {e.seed})"),
                AttackResultEvent: lambda e: self._write(f"  {e.model:>12}: {e.attack} AUC={e.value:.3f}"),
                ModelResultEvent: self._model,
            }
        )

    def __call__(self, event: Event) -> None:
        if self.bar is not None:
            self.dispatch(event)

    def _write(self, text: str) -> None:
        self.bar.write(text)

    def _stage(self, event: StageEvent) -> None:
        self.bar.set_description(f"[{event.index}/{event.total}] {event.name}"[:70])

    def _progress(self, event: ProgressEvent) -> None:
        self.bar.n = int(event.fraction * 1000)
        self.bar.set_postfix_str("" if event.eta_s is None else f"step ETA {event.eta_s:.0f} s")  # refreshes

    def _log(self, event: LogEvent) -> None:
        text = f"{event.level}: {event.text}" if event.level != "info" else event.text
        self.bar.write(_error_line(text))  # a log line may quote a server or a file: redacted, escaped

    def _model(self, event: ModelResultEvent) -> None:
        if "retain" in event.groups:
            values = {f"retain/{name}": v for name, v in event.groups["retain"].items()}
            self.bar.write(
                f"  {event.model:>12}: "
                + ", ".join(f"{entry_for(k).short} {entry_for(k).format(values.get(k))}" for k in PROGRESS_KEYS)
            )

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def models_table(result) -> str:
    """The models of a run, one line each, with the catalogue's summary columns."""
    flats = {name: report.flat() for name, report in result.models.items()}
    keys = summary_keys(flats.values())
    header = ["model"] + [entry_for(k).short for k in keys]
    rows = [[name] + [entry_for(k).format(flat.get(k)) for k in keys] for name, flat in flats.items()]
    return text_table(header, rows)


def _print_summary(result) -> None:
    print(f"run {result.run_id} on {result.dataset['name']} ({result.environment['device']})")
    print(models_table(result))
    print()
    print(verdicts_text(verdicts(result)))
    named = named_request_lines(result)  # user requests: each person's test (named ones all)
    if named:
        print()
        print("\n".join(named))


def _open_history(args: argparse.Namespace):
    """The history, checked before any computation (a damaged file is set aside and said so)."""
    from core.history import RunStore

    if args.no_history:
        return None
    store = RunStore()
    for note in store.notes:
        print(f"cragru-run: warning: {note}", file=sys.stderr)
    store.on_problem = lambda text: print(_error_line(f"cragru-run: warning: {text}"), file=sys.stderr)
    return store


def _check_outputs(args: argparse.Namespace) -> None:
    """--out, --report, --receipt and the cache folder, before any computation."""
    from core.model_cache import cache_problem
    from core.outputs import check_writable

    for flag in ("out", "report", "receipt"):
        if getattr(args, flag):
            check_writable(getattr(args, flag), f"--{flag}")
    problem = cache_problem() if not args.no_cache else None
    if problem:
        print(f"cragru-run: warning: {problem}; models are trained without the cache", file=sys.stderr)


def _run_all(configs: list, args: argparse.Namespace, store) -> list:
    """Every seed's experiment, one after another, through one progress printer."""
    from core.experiment import run_experiment

    printer = _ProgressPrinter(args.quiet)
    try:
        return run_seeds(
            configs, lambda config: run_experiment(config, printer, store=store), printer if len(configs) > 1 else None
        )
    finally:
        printer.close()


def _save(path: str, write, what: str, name: str) -> Path:
    """Write one output; when that fails, to the fallback the warning names (nothing is lost)."""
    from core.outputs import write_or_fallback

    where, warning = write_or_fallback(path, write, what, name)
    if warning:
        print(f"cragru-run: warning: {warning}", file=sys.stderr)
    return where


def _write_one(result, args: argparse.Namespace) -> None:
    _print_summary(result)  # first: whatever happens to the files, the figures are on screen
    if args.by:  # who was affected, by user attribute (core/reporting/breakdown_text.py)
        from core.reporting.breakdown_text import breakdown_report

        print("\n" + breakdown_report(result, args.by, args.by_metric))
    from core.receipt import build_audit, signed_receipt, write_receipt

    facts = build_audit(result) if args.report or args.receipt else None
    signed = signed_receipt(result, facts) if args.receipt else None  # one receipt: its fingerprint is on the report
    if args.out:
        out = _save(
            args.out,
            lambda p: p.write_text(result.to_json(include_topk=False)),
            "the result",
            f"{result.run_id}-result.json",
        )
        print(f"result written to {out}")
    if args.receipt:
        receipt_path = _save(
            args.receipt,
            lambda p: write_receipt(result, p, signed=signed),
            "the receipt",
            f"{result.run_id}-receipt.json",
        )
        print(f"receipt written to {receipt_path}")
    if args.report:
        from core.reporting.export import write_report  # fpdf and its fonts: only for a report

        where = _save(
            args.report,
            lambda p: write_report(result, p, audit=facts, receipt=signed),
            "the report",
            f"{result.run_id}-report{Path(args.report).suffix or '.html'}",
        )
        print(f"report written to {where}")


def _keep_partial(result, args: argparse.Namespace) -> str:
    """A run cut short by a failed method: its finished models printed and written to --out
    (or the fallback). Returns what was kept, for the error line."""
    result.partial = True  # the file says the run did not finish
    names = ", ".join(result.models)
    print(f"run {result.run_id} on {result.dataset.get('name', '?')}: partial (a method failed)")
    print(models_table(result))
    if not args.out:
        return f"the models that finished ({names}) are shown above and kept in the history"
    out = _save(
        args.out,
        lambda p: p.write_text(result.to_json(include_topk=False)),
        "the partial result",
        f"{result.run_id}-partial.json",
    )
    return f"the models that finished ({names}) are written to {out}"


def seeds_json(results: list) -> str:
    """Every seed's result (without top-10 lists) and the mean/spread summary, as JSON."""
    import json

    return json.dumps(
        {
            "seeds": [r.config.get("split", {}).get("seed") for r in results],
            "runs": [r.to_dict(include_topk=False) for r in results],
            "summary": summary_dict(summarise(results)),
        },
        indent=1,
        allow_nan=False,
    )


def _write_seeds(results: list, args: argparse.Namespace) -> None:
    for result in results:
        print(f"run {result.run_id}: split seed {result.config['split']['seed']}")
    print(f"mean ± std over {len(results)} seeds on {results[0].dataset['name']} ({results[0].environment['device']})")
    print(spread_table(summarise(results)))
    if args.by:  # who was affected, by user attribute: each seed's table (the groups are each split's own)
        from core.reporting.breakdown_text import breakdown_report

        for result in results:
            seed = result.config["split"]["seed"]
            print(f"\nsplit seed {seed}:\n" + breakdown_report(result, args.by, args.by_metric))
    if args.out:
        out = _save(
            args.out,
            lambda p: p.write_text(seeds_json(results)),
            "the runs and summary",
            f"{results[0].run_id}-seeds.json",
        )
        print(f"runs and summary written to {out}")
    if args.report:  # each through _save: a failed write goes to the fallback like --out
        from core.reporting.export import write_report

        base = Path(args.report)
        for result in results:
            name = f"{base.stem}-seed{result.config['split']['seed']}{base.suffix or '.html'}"
            where = _save(
                base.with_name(name), lambda p, r=result: write_report(r, p), "the report", f"{result.run_id}-{name}"
            )
            print(f"report written to {where}")
    if args.receipt:
        from core.receipt import write_receipt

        base = Path(args.receipt)
        for result in results:
            name = f"{base.stem}-seed{result.config['split']['seed']}.json"
            where = _save(
                base.with_name(name), lambda p, r=result: write_receipt(r, p), "the receipt", f"{result.run_id}-{name}"
            )
            print(f"receipt written to {where}")


def _history(argv: list[str]) -> int:
    from core.history import RunStore

    parser = argparse.ArgumentParser(prog="cragru-run history", description="List stored runs.")
    parser.add_argument("--limit", type=int, default=50)
    args = parser.parse_args(argv)
    store = RunStore(read_only=True)
    for note in store.notes:
        print(f"cragru-run: warning: {note}", file=sys.stderr)
    runs = store.list(args.limit)
    if not runs:
        print("no stored runs")
        return 0
    for r in runs:
        when = datetime.fromtimestamp(r.started_at).strftime("%Y-%m-%d %H:%M")
        print(f"{r.run_id}  {when}  {r.status:<9}  {r.dataset:<20}  {r.request:<18}  {r.methods}")
    return 0


def _error_line(text: str) -> str:
    """A message fit for the terminal: no credential, no control character, not endless."""
    from core.redact import redact
    from core.safe_text import safe_line

    return safe_line(redact(text))


def main(argv: list[str] | None = None) -> int:
    """Every failure ends in one line on stderr and a non-zero exit; an unexpected one also
    leaves its traceback in the log file, which the line names. Every line is redacted
    (no key, token or URL password) and escaped (no terminal control sequence)."""
    import logging

    from core.logs import log_to_file

    argv = list(sys.argv[1:] if argv is None else argv)
    log_path = log_to_file("cragru-run")
    try:
        return _main(argv)
    except Cancelled:
        print("cragru-run: cancelled", file=sys.stderr)
        return 130
    except KeyboardInterrupt:
        print("cragru-run: interrupted", file=sys.stderr)
        return 130
    except CragruError as exc:
        logging.getLogger("cragru-run").info("error: %s", exc, exc_info=True)
        print(_error_line(f"cragru-run: error: {exc}"), file=sys.stderr)
        return 2
    except OSError as exc:
        logging.getLogger("cragru-run").info("error: %s", exc, exc_info=True)
        where = f" ({exc.filename})" if exc.filename and str(exc.filename) not in str(exc) else ""
        print(_error_line(f"cragru-run: error: {exc}{where}"), file=sys.stderr)
        return 2
    except (Exception, RecursionError, MemoryError) as exc:  # a bug, not the user's doing: keep the traceback
        logging.getLogger("cragru-run").exception("unexpected failure")
        detail = f"; the traceback is in {log_path}" if log_path else ""
        text = _error_line(f"{type(exc).__name__}: {exc}")[:300]
        print(f"cragru-run: internal error: {text}{detail}", file=sys.stderr)
        return 1


def _main(argv: list[str]) -> int:
    """The command itself; :func:`main` turns its failures into one line."""
    if argv[:1] == ["history"]:
        return _history(argv[1:])
    if argv[:1] == ["verify"]:
        from core.receipt_verify import verify_main

        return verify_main(argv[1:])
    if argv[:1] in (["sweep"], ["stream"]):  # core/sweeps/sweep_command.py, stream_command.py
        from importlib import import_module

        return import_module(f"core.sweeps.{argv[0]}_command").main(argv[1:])
    args = build_parser().parse_args(argv)
    if args.list_methods:
        from core.methods.registry import list_methods

        load_plugins(args)

        specs = list_methods()
        for spec in specs:
            if spec.has("control") and not any(s.has("control") for s in specs[: specs.index(spec)]):
                print("\ncontrols (not methods: calibrate the verdicts, their right answer is known):")
            print(f"{spec.name}: {spec.label}")
            for p in spec.params:
                demo = f"; demo preset {p.demo}" if p.demo is not None and p.demo != p.default else ""
                print(f"    {p.name} ({p.type.__name__}, default {p.default}{demo}): {p.help}")
        return 0
    config = config_from_args(args)
    config.validate()  # before any progress bar or history row
    validate_methods(config)
    _check_outputs(args)
    configs = seed_configs(config, args.seeds)
    try:
        results = _run_all(configs, args, _open_history(args))
    except MethodFailed as failed:  # the models that finished are shown and saved, then the one line
        raise CragruError(f"{failed}; {_keep_partial(failed.partial, args)}") from None
    except SeedFailed as failed:  # the seeds that finished are shown and written, then the one line
        if len(failed.finished) == 1:
            _write_one(failed.finished[0], args)
        else:
            _write_seeds(failed.finished, args)
        kept = ", ".join(str(r.config.get("split", {}).get("seed")) for r in failed.finished)
        raise CragruError(f"{failed}; the seeds that finished ({kept}) are shown above and written") from None
    if len(results) == 1:
        _write_one(results[0], args)
    else:
        _write_seeds(results, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
