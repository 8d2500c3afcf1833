"""The audit report and the receipt on a small CSV dataset with raw IDs unlike its row numbers:
subjects listed by real ID, the PDF written with pages, ``verify`` accepting the untouched
data and rejecting a changed row."""

import json
import re

import numpy as np
import pytest

from core.cli import build_parser, config_from_args, main
from core.data.fingerprint import fingerprint_data
from core.receipt import write_receipt
from core.receipt_verify import verify
from core.reporting.audit import build_audit
from core.reporting.export import write_report

FORGOTTEN = ("u104", "u013")  # users 14 and 1 of the file


def _write_csv(path, n_users=40, n_items=30, per_user=12, seed=0):
    rng = np.random.default_rng(seed)
    lines = ["user,item,rating,timestamp"]
    for u in range(n_users):
        for j, item in enumerate(rng.choice(n_items, per_user, replace=False)):
            lines.append(f"u{7 * u + 6:03d},m{item * 7 + 3},{1 + (u + j) % 5},{1000 + j}")
    path.write_text("\n".join(lines) + "\n")
    return path


ARGS = [
    "--methods",
    "retrain,finetune",
    "--epochs",
    "2",
    "--dim",
    "8",
    "--device",
    "cpu",
    "--no-history",
    "--quiet",
    "--no-cache",
    "--forget",
    "users:ids:" + ",".join(FORGOTTEN),
]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    from core.experiment import run_experiment

    folder = tmp_path_factory.mktemp("data")
    data = _write_csv(folder / "interactions.csv")
    config = config_from_args(build_parser().parse_args(["--data", str(data), *ARGS]))
    return data, run_experiment(config)


def test_report_lists_forgotten_users_by_real_id(run, tmp_path):
    data, result = run
    facts = build_audit(result)
    assert sorted(facts.subjects.forgotten_users) == sorted(FORGOTTEN)
    assert "people named by the request" in facts.subjects.who_counts
    page = write_report(result, tmp_path / "report.html", audit=facts).read_text()
    assert page.index("<h2>Verdicts</h2>") < page.index("Who and what was forgotten") < page.index("Key results")
    listed = re.search(r"Forgotten users by their dataset ID \(2\)</h3><p class='ids'>([^<]*)</p>", page).group(1)
    assert sorted(listed.split(", ")) == sorted(FORGOTTEN)
    assert facts.data.sha256 in page and facts.subjects.request_sha256 in page
    assert "User u" in page  # before/after examples name the user by real ID
    assert "numpy" in page and "split seed" in page


def test_pdf_is_written_with_pages(run, tmp_path):
    _data, result = run
    path = write_report(result, tmp_path / "report.pdf", images={"time": _png()})
    raw = path.read_bytes()
    assert raw.startswith(b"%PDF")
    assert len(re.findall(rb"/Type /Page\b", raw)) >= 3
    assert b"/Subtype /Image" not in raw  # the window's grabs are not pasted in: the charts are drawn as vectors


def test_item_request_says_who_counts_as_a_forgotten_user(run):
    from dataclasses import replace

    from core.config import ExperimentConfig
    from core.experiment import load_data
    from core.reporting.subjects import forgotten_subjects

    _data, result = run
    config = ExperimentConfig.from_dict(result.config)
    config = replace(config, request=replace(config.request, kind="items", selector="ids", ids=("m3", "m10")))
    subjects = forgotten_subjects(load_data(config), config)
    assert [i for i, _ in subjects.items] == ["m10", "m3"]
    assert "anyone whose training data held an interaction with the 2 forgotten items" in subjects.who_counts
    assert all(u.startswith("u") for u in subjects.forgotten_users)


def test_receipt_verifies_untouched_data_and_rejects_a_changed_row(run, tmp_path):
    data, result = run
    receipt = write_receipt(result, tmp_path / "receipt.json")
    facts = json.loads(receipt.read_text())
    assert facts["data"]["sha256"] == fingerprint_data(str(data)).sha256
    assert sorted(facts["subjects"]["forgotten_users"]) == sorted(FORGOTTEN)
    assert {"forgotten", "affected", "cost"} <= set(facts["verdicts"][0])
    assert verify(receipt, str(data)).ok
    copy = tmp_path / "copy" / "interactions.csv"
    copy.parent.mkdir()
    lines = data.read_text().splitlines()
    lines[5] = lines[5].rsplit(",", 2)[0] + ",5,1005"  # one rating changed
    copy.write_text("\n".join(lines) + "\n")
    found = verify(receipt, str(copy))
    assert not found.ok and "interactions.csv" in found.message


def test_cli_writes_receipt_and_pdf_and_verify_exits(tmp_path, capsys):
    data = _write_csv(tmp_path / "interactions.csv", seed=1)
    receipt, pdf = tmp_path / "r.json", tmp_path / "r.pdf"
    assert main(["--data", str(data), *ARGS, "--report", str(pdf), "--receipt", str(receipt)]) == 0
    out = capsys.readouterr().out
    assert "Is the data forgotten?" in out and "What did it cost?" in out
    assert pdf.read_bytes().startswith(b"%PDF")
    assert main(["verify", str(receipt), "--data", str(data)]) == 0
    assert "verified" in capsys.readouterr().out
    data.write_text(data.read_text().replace("u104,", "u105,", 1))  # a row changes owner
    assert main(["verify", str(receipt), "--data", str(data)]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("cragru-run verify: error:") and "\n" not in err


def _png() -> bytes:
    """A 1×1 PNG, enough to check a chart image goes into the PDF."""
    import base64

    return base64.b64decode(
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
    )


def test_erasure_audit_and_sample_flag_reach_the_report(hand_built_result):
    from core.reporting.html_report import html_report

    close = hand_built_result.models["close"]
    close.extras.update({"audit_findings": 0.0, "rows_deleted": 12.0, "eval_sample/forget": 2.0})
    facts = build_audit(hand_built_result)
    assert facts.subjects is None and facts.data is None  # a hand-built run has no data to re-read
    assert facts.erasure_audits == {"close": {"audit_findings": 0.0, "rows_deleted": 12.0}}
    assert "measured on a user sample (forget 2)" in facts.sample_notes[0]
    page = html_report(hand_built_result, audit=facts)
    assert "found no trace of the request left" in page and "measured on a user sample (forget 2)" in page
    assert page.index("<h2>Verdicts</h2>") < page.index("<h2>Erasure audit</h2>")
