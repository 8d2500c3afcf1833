"""Typed results keep the stored JSON byte for byte (issue 21, item 2).

``tests/data/result_before_typed_results.json.gz`` is what ``run_experiment`` wrote before the
results were typed (commit c12e5b5; the demo, retrain / finetune / ids_only / sisa, attacks on,
3 epochs, R = 2; its breakdown and top-10 lists left out to keep the file small). It must open into
the dataclasses and be written back unchanged, since result files, history rows and signed
receipts compare and sign that JSON.
"""

from __future__ import annotations

import gzip
import json
import math
from pathlib import Path

import pytest

from core.attacks import AttackResult, KnownUserCheck
from core.evaluation.agreement import Agreement
from core.evaluation.estimates import Bounds, Estimate
from core.result import ModelReport, RunResult, _current_series_name, model_json

FIXTURE = Path(__file__).parent / "data" / "result_before_typed_results.json.gz"


@pytest.fixture(scope="module")
def stored() -> str:
    return gzip.decompress(FIXTURE.read_bytes()).decode("utf-8")


def test_a_result_written_before_is_written_back_byte_for_byte(stored):
    result = RunResult.from_dict(json.loads(stored))
    assert result.to_json(include_topk=False) == stored
    raw = json.loads(stored)
    for name, report in result.models.items():  # a history row holds one model as model_json writes it
        assert model_json(report) == json.dumps(raw["models"][name], allow_nan=False), name


def test_it_opens_into_the_dataclasses(stored):
    raw = json.loads(stored)
    finetune = RunResult.from_dict(raw).models["finetune"]
    entry = raw["models"]["finetune"]
    assert finetune.intervals["retain/ndcg@10"] == Bounds(*entry["intervals"]["retain/ndcg@10"])
    assert finetune.differences["base"]["forget/hit@10"] == Estimate(*entry["differences"]["base"]["forget/hit@10"])
    assert isinstance(finetune.agreement["forget"], Agreement)
    assert finetune.agreement["forget"].rbo == Estimate(*entry["agreement"]["forget"]["rbo@10"])
    fold_in = finetune.attacks["fold-in"]
    assert isinstance(fold_in, AttackResult) and fold_in.auc == entry["attacks"]["fold-in"]["auc"]
    assert fold_in.vs_retrain == Estimate(*entry["attacks"]["fold-in"]["vs_retrain"])
    assert finetune.known_users == KnownUserCheck(n_users=14, n_known=14, note=entry["known_users"]["note"])
    white_box = RunResult.from_dict(raw).models["sisa"].attacks["white-box"]
    assert white_box.not_applicable and math.isnan(white_box.auc)  # stored as null, read as NaN


def test_figures_come_from_fields(stored):
    raw = json.loads(stored)
    report = RunResult.from_dict(raw).models["finetune"]
    entry = raw["models"]["finetune"]
    attack = report.figure("attack/fold_in_auc")
    stored_interval = entry["attacks"]["fold-in"]["interval"]
    assert attack.value == entry["attacks"]["fold-in"]["auc"]
    assert attack.interval == Bounds(stored_interval["low"], stored_interval["high"])
    assert attack.versus("retrain") == Estimate(*entry["attacks"]["fold-in"]["vs_retrain"])
    assert attack.versus("base") is None  # an attack is paired against retrain only
    ndcg = report.figure("similar/ndcg@10")
    assert ndcg.interval.to_json() == entry["intervals"]["similar/ndcg@10"]
    assert ndcg.vs_base.to_json() == entry["differences"]["base"]["similar/ndcg@10"]
    assert report.figure("agreement/retain/jaccard@10").interval == Bounds(
        *entry["agreement"]["retain"]["jaccard@10"][1:]
    )
    assert report.figure("time_s").interval is None and report.figure("no such key").value is None
    assert {k: f.value for k, f in report.figures().items()} == report.flat()


def test_same_sample_figures_are_a_field_stored_inside_extras():
    extras = {
        "fusion_weight": 0.5,
        "same_sample/base/retain/hit@10": 0.25,
        "same_sample/retrain/forgotten_recall@10": 0.1,
    }
    entry = ModelReport("llm", "LLM", {}, {}, extras=dict(extras)).to_dict()
    report = ModelReport.from_dict(entry)
    assert report.extras == {"fusion_weight": 0.5}
    assert report.same_sample == {"base": {"retain/hit@10": 0.25}, "retrain": {"forgotten_recall@10": 0.1}}
    assert report.to_dict()["extras"] == extras


def test_a_model_stored_before_the_evidence_still_opens():
    entry = {"name": "base", "label": "Base", "groups": {"retain": {"hit@10": 0.5}}, "forgotten_recall": {}}
    entry["mia_auc"] = 0.61
    report = ModelReport.from_dict(entry)
    assert report.known_users is None and report.attacks == {} and report.flat()["mia_auc"] == 0.61
    stored = report.to_dict()
    assert stored["known_users"] == {} and stored["person_tests"] is None and stored["intervals"] == {}


def test_curve_names_of_a_method_named_like_a_stage():
    assert _current_series_name("finetune/train") == "finetune/train"  # the finetune method's curve
    assert _current_series_name("train/finetune") == "finetune/train"  # the layout before curves named models
    assert _current_series_name("train/sisa-shards") == "sisa/shards"


def test_a_fresh_run_is_written_back_unchanged():
    from core.config import ExperimentConfig, MethodChoice
    from core.experiment import run_experiment
    from core.models.base import ModelConfig

    config = ExperimentConfig(
        model=ModelConfig(epochs=2),
        methods=(MethodChoice("retrain"), MethodChoice("ids_only")),
        use_cache=False,
        references=0,
        device="cpu",
    )
    text = run_experiment(config).to_json()
    assert RunResult.from_dict(json.loads(text)).to_json() == text
