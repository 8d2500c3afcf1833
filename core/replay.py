"""``cragru-run verify --replay``: run the experiment of a signed receipt again (same
configuration, same seeds, on the CPU, the model cache left aside) and compare what comes
out with what was signed: each model's weights digest, every figure and interval, and the
verdict words that rest on figures.

Timings cannot replay (a second run is never exactly as fast), so the figures made of time
(``time_s``, speed-ups, ``*_ms``), the cost verdict and what a cache held when each run began
(``clusters_from_cache``, ``cache_entries_purged``) are left out, and said so. A model
whose run cannot replay bit-identically — recorded on a GPU, or whose LLM answers came from
an HTTP server — is compared within its 95 % intervals instead, and the line says why.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from core.reporting.numbers import is_finite

TIME_KEYS = ("time_s", "prep_time_s", "speedup_vs_retrain", "speedup_incl_setup", "peak_memory_mb")
JUDGED = ("forgotten", "affected")
"""Verdicts compared (the cost verdict rests on timings)."""


@dataclass(frozen=True)
class Replayed:
    ok: bool
    message: str


def _timing(key: str) -> bool:
    return key in TIME_KEYS or key.endswith(("_ms", "_s", "_seconds"))


def _cache_state(key: str) -> bool:
    """Whether a cache served a step or how many entries a deletion purged from one
    (``clusters_from_cache``, ``cache_entries_purged``): that depends on what the cache held
    when each run started, not on the run, so a faithful replay may differ there."""
    return "cache" in key


def not_bit_identical(signed: dict, name: str) -> str | None:
    """Why model ``name`` of the receipt cannot replay bit-identically on this CPU, or None."""
    device = signed.get("environment", {}).get("device_type")
    if device not in (None, "cpu"):
        return f"recorded on {device}: its arithmetic does not replay bit-identically on the CPU"
    for method in signed.get("config", {}).get("methods", []):
        if method.get("name") == name and method.get("params", {}).get("backend") == "http":
            return "its LLM answers came from an HTTP server, which need not answer the same twice"
    return None


def _figure_difference(name: str, mine: dict, theirs: dict) -> str | None:
    for key in sorted(set(mine["figures"]) | set(theirs["figures"])):
        if _timing(key):
            continue
        a, b = mine["figures"].get(key), theirs["figures"].get(key)
        if a != b:
            return f"{key} of {name}: {a} replayed, signed {b}"
    for key in sorted(set(mine["intervals"]) | set(theirs["intervals"])):
        a, b = mine["intervals"].get(key), theirs["intervals"].get(key)
        if a != b:
            return f"95 % interval of {key} of {name}: {a} replayed, signed {b}"
    for key in sorted(set(mine["extras"]) | set(theirs["extras"])):
        if not _timing(key) and not _cache_state(key) and mine["extras"].get(key) != theirs["extras"].get(key):
            return f"{key} of {name}: {mine['extras'].get(key)} replayed, signed {theirs['extras'].get(key)}"
    return None


def _within_intervals(name: str, mine: dict, theirs: dict) -> str | None:
    """The first replayed figure outside the signed 95 % interval, or None."""
    for key, (low, high) in sorted(theirs["intervals"].items()):
        value = mine["figures"].get(key)
        if not _timing(key) and is_finite(value) and not low <= value <= high:
            return f"{key} of {name}: {value:.4g} replayed, outside the signed interval [{low:.4g}, {high:.4g}]"
    return None


def _verdict_difference(mine: list, theirs: list) -> str | None:
    replayed = {v["model"]: v for v in mine}
    for entry in theirs:
        other = replayed.get(entry["model"])
        for question in JUDGED:
            if other is None or other[question]["light"] != entry[question]["light"]:
                now = other[question]["word"] if other else "absent"
                return (
                    f"verdict of {entry['model']} ({entry[question]['question']}): {now} replayed, "
                    f"signed {entry[question]['word']}"
                )
    return None


def compare(signed: dict, replayed: dict) -> Replayed:
    """What the replay found against the signed content, in one line."""
    theirs, mine = signed["models"], replayed["models"]
    if set(theirs) != set(mine):
        return Replayed(False, f"replayed models {sorted(mine)}, signed {sorted(theirs)}")
    identical, within, reasons, undigested = 0, 0, set(), 0
    for name in theirs:
        reason = not_bit_identical(signed, name)
        a, b = mine[name].get("weights_sha256"), theirs[name].get("weights_sha256")
        if reason is not None:
            found = _within_intervals(name, mine[name], theirs[name])
            if found:
                return Replayed(False, f"replayed: {found} ({reason})")
            within, reasons = within + 1, reasons | {reason}
            continue
        if a != b:
            return Replayed(False, f"replayed: weights of {name} differ (replayed {_short(a)}, signed {_short(b)})")
        found = _figure_difference(name, mine[name], theirs[name])
        if found:
            return Replayed(False, f"replayed: {found}")
        identical, undigested = identical + 1, undigested + (a is None)
    found = _verdict_difference(replayed["verdicts"], signed["verdicts"])
    if found:
        return Replayed(False, f"replayed: {found}")
    digests = f" ({undigested} without a weights digest)" if undigested else ""
    text = f"replayed: {identical} models bit-identical{digests}, every figure equal"
    if within:
        text += f"; {within} compared within their 95 % intervals, all inside ({'; '.join(sorted(reasons))})"
    text += "; timings and the cost verdict are not compared (a re-run is never as fast twice)"
    cached = sorted({k for m in theirs.values() for k in m.get("extras", {}) if _cache_state(k)})
    if cached:
        text += f", nor what a cache held ({', '.join(cached)})"
    return Replayed(True, text)


def _short(digest) -> str:
    return f"{digest[:12]}…" if isinstance(digest, str) else "none"


def replay_receipt(signed: dict, data_path: str | None = None) -> Replayed:
    """Re-run the signed experiment on ``data_path`` (default: the signed source) and compare."""
    from core.config import ExperimentConfig
    from core.data.fingerprint import changed_files, fingerprint_data
    from core.experiment import run_experiment
    from core.receipt import build_audit, receipt_content

    path = data_path or (signed.get("data") or {}).get("source") or signed["config"]["data"]["path"]
    config = ExperimentConfig.from_dict(signed["config"])
    config = replace(config, data=replace(config.data, path=str(path)), device="cpu", use_cache=False)
    result = run_experiment(config)
    found = compare(signed, receipt_content(result, build_audit(result)))
    if found.ok or not signed.get("data"):
        return found
    current = fingerprint_data(path)
    if current.sha256 == signed["data"]["sha256"]:
        return found
    changed = ", ".join(changed_files(signed["data"], current)[:5]) or "contents"
    return Replayed(False, f"{found.message}; the data differ from the signed fingerprint (changed: {changed})")
