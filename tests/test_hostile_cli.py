"""Issue 16, "tracebacks instead of errors": every failure a user can cause ends in one line
on stderr and a non-zero exit, the traceback (if any) only in the log file."""

from __future__ import annotations

import pytest

from core.cli import main
from core.errors import ConfigError
from core.methods.registry import get_method
from tests.hostile import corpus, warm

pytestmark = pytest.mark.timeout(30)
warm.engine()  # the lazy imports at collection: a test's time is its own work
QUICK = ["--epochs", "1", "--quiet", "--no-mia", "--no-history"]


def run_cli(capsys, *argv) -> tuple[int, str, str]:
    code = main([*argv])
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(code: int, err: str, *words: str) -> None:
    assert code != 0
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("cragru-run: error:"), lines[0]
    for word in words:
        assert word in lines[0], (word, lines[0])


def test_header_of_100k_columns(capsys, isolated_home, tmp_path):
    code, _, err = run_cli(capsys, "--data", str(corpus.wide_header(tmp_path / "wide.csv")), *QUICK)
    assert_one_line_error(code, err, "100000 columns", "line 1")


def test_huge_quoted_field_is_named_not_a_csv_error(capsys, isolated_home, tmp_path):
    path = tmp_path / "long.csv"
    path.write_text('user,item,"' + "x" * 200_000 + '"\n1,2,3\n')  # beyond the csv module's field limit
    code, _, err = run_cli(capsys, "--data", str(path), *QUICK)
    assert_one_line_error(code, err, str(path), "too long")


def test_movielens_ratings_csv_with_another_header(capsys, isolated_home, tmp_path):
    code, _, err = run_cli(capsys, "--data", str(corpus.wrong_ml_header(tmp_path / "abc")), *QUICK)
    assert_one_line_error(code, err, "missing column 'userId'", "a, b, c")


@pytest.mark.parametrize("seed", ["-1", "1180591620717411303424"])
def test_seed_out_of_range(capsys, isolated_home, seed):
    code, _, err = run_cli(capsys, "--seed", seed, *QUICK)
    assert_one_line_error(code, err, "seed", "2147483647")


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "1e400"])
def test_float_parameters_refuse_non_finite_values(capsys, isolated_home, value):
    code, _, err = run_cli(capsys, "--methods", "finetune", "--param", f"finetune.lr_scale={value}", *QUICK)
    assert_one_line_error(code, err, "finetune", "lr_scale", "finite")


def test_cross_field_check_runs_in_validation_before_training(capsys, isolated_home):
    # side_layers names decoder blocks; the model has model_layers (2) of them
    with pytest.raises(ConfigError, match="0..1"):
        get_method("dual_memory").validate({"side_layers": "7,9"})
    assert get_method("dual_memory").validate({"side_layers": "7", "model_layers": 8})["side_layers"] == "7"
    code, out, err = run_cli(capsys, "--methods", "dual_memory", "--param", "dual_memory.side_layers=7,9", *QUICK)
    assert_one_line_error(code, err, "dual_memory", "side-memory layers")
    assert "Loading" not in out + err  # refused before any stage started


def test_unexpected_failure_is_one_line_and_the_traceback_goes_to_the_log(capsys, isolated_home, monkeypatch):
    import core.cli

    def broken(*_a, **_k):
        raise KeyError("a bug")

    monkeypatch.setattr(core.cli, "config_from_args", broken)
    code, _, err = run_cli(capsys, *QUICK)
    assert code == 1 and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert "KeyError" in err and "cragru-run.log" in err
    log = (isolated_home / "home" / "logs" / "cragru-run.log").read_text()
    assert "Traceback" in log and "a bug" in log


# -- data refused with a message (issue 16, "silent nonsense") --------------------------------
def test_a_dataset_where_nothing_can_be_evaluated(capsys, isolated_home, tmp_path):
    code, _, err = run_cli(capsys, "--data", str(corpus.one_row_per_user(tmp_path / "one.csv")), *QUICK)
    assert_one_line_error(code, err, "nothing can be evaluated", "one.csv")


def test_timestamps_beyond_64_bits(capsys, isolated_home, tmp_path):
    path = corpus.ratings(tmp_path / "ts.csv", timestamp=lambda u, i: "9" * 25)
    code, _, err = run_cli(capsys, "--data", str(path), *QUICK)
    assert_one_line_error(code, err, "timestamp", "line 2", "64-bit")


@pytest.mark.parametrize("bad", ["inf", "-inf", "Infinity"])
def test_infinite_ratings(capsys, isolated_home, tmp_path, bad):
    path = corpus.ratings(tmp_path / "inf.csv", rating=lambda u, i: bad if u == 3 else 4)
    code, _, err = run_cli(capsys, "--data", str(path), *QUICK)
    assert_one_line_error(code, err, "rating", "finite")


@pytest.mark.parametrize("data", ["", "   "])
def test_an_empty_data_argument_is_not_the_current_folder(capsys, isolated_home, tmp_path, monkeypatch, data):
    corpus.ratings(tmp_path / "lonely.csv")  # would be picked up as "the single CSV of the folder"
    monkeypatch.chdir(tmp_path)
    code, _, err = run_cli(capsys, "--data", data, *QUICK)
    assert_one_line_error(code, err, "no dataset given")


def test_a_utf16_file_is_named_as_such(capsys, isolated_home, tmp_path):
    code, _, err = run_cli(capsys, "--data", str(corpus.utf16(tmp_path / "wide16.csv")), *QUICK)
    assert_one_line_error(code, err, "UTF-16", "UTF-8")


def test_fewer_items_than_the_largest_cutoff(capsys, isolated_home, tmp_path):
    # 10 items against K = 5, 10, 20: refused before any training, not "asked for @20" at evaluation
    path = corpus.ratings(tmp_path / "ten.csv", users=40, per_user=6, items=10)
    code, out, err = run_cli(capsys, "--data", str(path), *QUICK)
    assert_one_line_error(code, err, "ten.csv", "10 items", "K = 20", "5, 10, 20")
    assert "Training" not in out + err
