"""Test set-up: offscreen Qt, and history/cache folders that never touch the user's own."""

import os
import tempfile

# Qt aborts the whole process on a machine without a display unless this is set first.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
# An object outside the engine's event family reaching a dispatcher is an error here.
os.environ["CRAGRU_STRICT_EVENTS"] = "1"
_session_dir = tempfile.mkdtemp(prefix="cragru-tests-")
os.environ["CRAGRU_HOME"] = os.path.join(_session_dir, "home")
os.environ["CRAGRU_CACHE_DIR"] = os.path.join(_session_dir, "cache")
os.environ["CRAGRU_CONFIG_DIR"] = os.path.join(_session_dir, "config")  # the receipt signing key (core/signing.py)
# The bundled LLM's converted copy (keyed and checksummed, only ever read): the one `make
# setup` wrote, so a test session does not de-quantise the GGUF again.
if "CRAGRU_LLM_CACHE" not in os.environ:
    import platformdirs

    os.environ["CRAGRU_LLM_CACHE"] = os.path.join(platformdirs.user_cache_dir("cragru-studio", appauthor=False), "llm")

import pytest  # noqa: E402


@pytest.fixture
def isolated_home(tmp_path, monkeypatch):
    """A fresh history and cache folder for one test."""
    monkeypatch.setenv("CRAGRU_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("CRAGRU_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path


@pytest.fixture
def bundled_llm():
    """Skip (with the reason) where the bundled SmolLM2 GGUF or the gguf reader is missing."""
    pytest.importorskip("gguf")
    from core.errors import ConfigError
    from core.llm.local import bundled_gguf_path

    try:
        return bundled_gguf_path()
    except ConfigError as exc:
        pytest.skip(str(exc))


@pytest.fixture
def hand_built_result():
    """A run built by hand (no training): base, retrain, a method close to retrain ("close")
    and one far from it ("far"), so verdicts and colours are known in advance."""
    from core.result import ModelReport, RunResult

    def report(name, label, retain, forget, similar, recall, mia, time_s, speedup):
        groups = {
            g: {"hit@10": 2 * v, "ndcg@10": v}
            for g, v in (("retain", retain), ("forget", forget), ("similar", similar))
        }
        return ModelReport(
            name,
            label,
            groups,
            {"forgotten_recall@10": recall},
            time_s=time_s,
            speedup_vs_retrain=speedup,
            mia_auc=mia,
            notes=[f"{name} note"] if name == "far" else [],
        )

    models = {
        "base": report("base", "Base model", 0.30, 0.30, 0.30, 0.40, 0.90, 10.0, None),
        "retrain": report("retrain", "Retrain", 0.29, 0.10, 0.28, 0.10, 0.55, 8.0, 1.0),
        "close": report("close", "Close method", 0.29, 0.11, 0.28, 0.11, 0.56, 0.5, 16.0),
        "far": report("far", "Far method", 0.15, 0.30, 0.14, 0.40, 0.90, 20.0, 0.4),
    }
    return RunResult(
        run_id="handmade",
        config={"mia": True},
        dataset={"name": "hand-built", "n_users": 10},
        split={"mode": "random"},
        request={"description": "users: ids 1,2", "n_removed_rows": 12},
        groups={"n_retain": 6, "n_forget": 2, "n_similar": 2, "similar_rule": "top-10 neighbours"},
        models=models,
        environment={"device": "cpu"},
        timings={},
        started_at=1.0e9,
    )


def _evidence_report(name, forget_ndcg, diff=None, attack=None, vs_retrain=None, agreement=None, known=None):
    """A hand-built report carrying forgetting evidence (intervals, paired differences, an
    attack, agreement, the known-user count) as core/evidence.py stores it."""
    from core.attacks import AttackResult, KnownUserCheck
    from core.evaluation.agreement import Agreement
    from core.evaluation.bootstrap import Interval
    from core.evaluation.estimates import Bounds, Estimate
    from core.result import ModelReport

    report = ModelReport(
        name, name.title(), {"forget": {"ndcg@10": forget_ndcg}}, {"forgotten_recall@10": 0.1}, time_s=1.0
    )
    report.intervals = {"forget/ndcg@10": Bounds(forget_ndcg - 0.01, forget_ndcg + 0.01)}
    if diff is not None:
        report.differences = {"retrain": {"forget/ndcg@10": Estimate(*diff)}}
    if attack is not None:
        report.attacks = {
            "fold-in": AttackResult(
                "fold-in",
                attack,
                Interval(attack, attack - 0.03, attack + 0.03, 40),
                n_members=40,
                n_non_members=90,
                neutral_note="≈ 0.5 for random users",
                vs_retrain=None if vs_retrain is None else Estimate(*vs_retrain),
            )
        }
    if agreement is not None:
        report.agreement = {"similar": Agreement(rbo=Estimate(*agreement))}
    if known is not None:
        report.known_users = KnownUserCheck(n_users=42, n_known=known, note="a count")
    return report


@pytest.fixture
def evidence_result():
    """A hand-built run with evidence: "forgot" (equivalent to retrain within the tolerance),
    "kept" (clearly different) and "few" (intervals too wide: not enough users to tell)."""
    from core.result import RunResult

    r = _evidence_report
    models = {
        "base": r(
            "base",
            0.30,
            diff=(0.20, 0.17, 0.23),
            attack=0.95,
            vs_retrain=(0.45, 0.40, 0.50),
            agreement=(0.60, 0.58, 0.62),
            known=42,
        ),
        "retrain": r("retrain", 0.10, attack=0.50, agreement=(1.0, 1.0, 1.0), known=0),
        "forgot": r(
            "forgot",
            0.101,
            diff=(0.001, -0.004, 0.006),
            attack=0.51,
            vs_retrain=(0.01, -0.02, 0.04),
            agreement=(0.90, 0.88, 0.92),
            known=0,
        ),
        "kept": r(
            "kept",
            0.28,
            diff=(0.18, 0.15, 0.21),
            attack=0.90,
            vs_retrain=(0.40, 0.35, 0.45),
            agreement=(0.50, 0.47, 0.53),
            known=42,
        ),
        "few": r(
            "few",
            0.11,
            diff=(0.01, -0.03, 0.05),
            attack=0.55,
            vs_retrain=(0.05, -0.10, 0.20),
            agreement=(0.64, 0.50, 0.78),
            known=3,
        ),
    }
    return RunResult(
        run_id="evidence",
        config={"mia": True},
        dataset={"name": "hand-built"},
        split={},
        request={"description": "users: 42 at random", "kind": "users", "n_removed_rows": 300},
        groups={"n_retain": 100, "n_forget": 42, "n_similar": 30},
        models=models,
        environment={"device": "cpu"},
        timings={},
    )
