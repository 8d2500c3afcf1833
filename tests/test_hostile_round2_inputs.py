"""Issue 26, inputs: every grid, flag and data file refused in one line before any work
(no expansion, no Ray, no data read), or read correctly (a BOM)."""

from __future__ import annotations

import gzip
import os
import random
import time

import pytest

from tests.hostile import corpus, warm
from tests.test_hostile_cli import QUICK, assert_one_line_error, run_cli

pytestmark = pytest.mark.timeout(30)
warm.engine()  # the lazy imports at collection: a test's time is its own work
GRID = corpus.sweep_grid()


def _sweep(capsys, tmp_path, grid_text: str, *flags) -> tuple[int, str, float]:
    grid = tmp_path / "grid.toml"
    grid.write_text(grid_text)
    started = time.monotonic()
    code, out, err = run_cli(capsys, "sweep", str(grid), "--out", str(tmp_path / "out"), *flags)
    return code, err, time.monotonic() - started


@pytest.mark.parametrize(
    "change, words",
    [
        ("seeds = -3", ["seeds = -3", "1..1000"]),
        ("seeds = true", ["seeds", "boolean"]),
        ("seeds = 1000000", ["seeds = 1000000"]),
        ('mia = "no"', ["mia", "true or false", "'no'"]),
        ("ks = 5", ["ks", "list"]),
        ("similar_top_n = 0", ["similar_top_n", "[1, 1000]"]),
        ("data = 5", ["[data]", "table"]),
    ],
)
def test_bad_grid_values_are_refused_before_expansion(capsys, isolated_home, tmp_path, change, words):
    key = change.split(" = ")[0]
    lines = [line for line in GRID.splitlines() if not line.startswith(f"{key} =")]
    text = change + "\n" + "\n".join(lines) + "\n"
    if key == "data":
        text = text.replace('[data]\npath = "demo"\n', "")
    code, err, seconds = _sweep(capsys, tmp_path, text)
    assert_one_line_error(code, err, *words)
    assert seconds < 10 and not (tmp_path / "out" / "cells").exists()


@pytest.mark.parametrize(
    "params, words",
    [("5", ["params must be a table"]), ('{ epochs = ["a"] }', ["epochs", "integer"]), ("{ epochs = -1 }", ["epochs"])],
)
def test_bad_method_parameters_in_a_grid(capsys, isolated_home, tmp_path, params, words):
    code, err, _ = _sweep(capsys, tmp_path, GRID + f'[[methods]]\nname = "finetune"\nparams = {params}\n')
    assert_one_line_error(code, err, "finetune", *words)


def test_a_grid_of_millions_of_cells_is_counted_not_expanded(capsys, isolated_home, tmp_path):
    braces = "{" + ",".join(f"0.{i:04d}" for i in range(1, 3500)) + "}"
    text = GRID.replace('requests = ["users:random:0.05"]', f'requests = ["users:random:{braces}:{braces}"]')
    code, err, seconds = _sweep(capsys, tmp_path, text)
    assert_one_line_error(code, err, "12,243,001 cells", "--max-cells")
    assert seconds < 5
    code, err, _ = _sweep(capsys, tmp_path, GRID.replace("seeds = [0]", "seeds = 3"), "--max-cells", "2")
    assert_one_line_error(code, err, "3 cells", "limit is 2")


@pytest.mark.parametrize(
    "flags, words",
    [
        (["--num-cpus", "0"], ["--num-cpus", "at least 1"]),
        (["--ray-address", "not-a-host:abc"], ["not-a-host:abc", "host:port"]),
        (["--max-cells", "0"], ["--max-cells"]),
    ],
)
def test_bad_sweep_flags_are_refused_before_ray(capsys, isolated_home, tmp_path, flags, words):
    code, err, seconds = _sweep(capsys, tmp_path, GRID, *flags)
    assert_one_line_error(code, err, *words)
    assert seconds < 10


def test_an_unreachable_ray_address_is_one_line_within_seconds(capsys, isolated_home, tmp_path):
    code, err, seconds = _sweep(capsys, tmp_path, GRID, "--ray-address", "127.0.0.1:1")
    assert_one_line_error(code, err, "no Ray cluster answers at 127.0.0.1:1 within 10 s")
    assert seconds < 15


@pytest.mark.parametrize(
    "argv, words",
    [
        (["--param", ".epochs=3"], ["'.epochs=3'", "method name", "empty"]),
        (["--param", "finetune.=3", "--methods", "finetune"], ["parameter name", "empty"]),
        (["--k-core", "-5"], ["k-core", "-5"]),
        (["--threshold", "nan"], ["threshold", "finite"]),
    ],
)
def test_bad_experiment_flags(capsys, isolated_home, argv, words):
    code, out, err = run_cli(capsys, *argv, *QUICK)
    assert_one_line_error(code, err, *words)
    assert "Loading" not in out + err


@pytest.mark.parametrize("flag", [["--report", "r.html"], ["--receipt", "r.json"], ["--seeds", "2"]])
def test_stream_refuses_flags_it_would_ignore(capsys, isolated_home, tmp_path, flag):
    code, out, err = run_cli(capsys, "stream", "--steps", "2", *QUICK, *flag)
    assert_one_line_error(code, err, flag[0], "not produced by a stream")


def test_a_bom_prefixed_csv_is_read(capsys, isolated_home, tmp_path):
    plain = corpus.ratings(tmp_path / "plain.csv")
    bom = tmp_path / "bom.csv"
    bom.write_bytes(b"\xef\xbb\xbf" + plain.read_bytes())
    from core.data.loaders import load_dataset

    assert load_dataset(str(bom)).n_interactions == load_dataset(str(plain)).n_interactions


def test_a_gzip_file_and_random_bytes_are_named_never_echoed(capsys, isolated_home, tmp_path):
    packed = tmp_path / "ratings.csv"
    packed.write_bytes(gzip.compress(corpus.ratings(tmp_path / "x.csv").read_bytes()))
    code, _, err = run_cli(capsys, "--data", str(packed), *QUICK)
    assert_one_line_error(code, err, "gzip-compressed", "gunzip")
    assert all(ch.isprintable() for ch in err.strip())
    noise = tmp_path / "noise.csv"
    noise.write_bytes(random.Random(3).randbytes(20_000))
    code, _, err = run_cli(capsys, "--data", str(noise), *QUICK)
    assert_one_line_error(code, err, "binary data")
    assert all(ch.isprintable() for ch in err.strip())


def test_terminal_escapes_and_huge_fields_are_escaped_and_cut(capsys, isolated_home, tmp_path):
    path = tmp_path / "esc.csv"
    path.write_text("\x1b[31mred,\x1b]0;title\x07x\n1,2\n3,4\n" + "5,6\n" * 20)
    code, _, err = run_cli(capsys, "--data", str(path), *QUICK)
    assert_one_line_error(code, err, "no user column", "\\x1b[31mred")
    assert "\x1b" not in err and "\x07" not in err
    big = tmp_path / "big.csv"
    big.write_text("user,item,rating\n" + "1,2," + "9" * 10_000_000 + "x\n" + "3,4,5\n" * 5)
    code, _, err = run_cli(capsys, "--data", str(big), *QUICK)
    assert_one_line_error(code, err, "line 2", "10,000,001 characters")
    assert len(err) < 1000
    log = (isolated_home / "home" / "logs" / "cragru-run.log").read_text()
    assert len(log) < 200_000 and "\x1b" not in log


@pytest.mark.parametrize("value", ["NaN", "2020-13-45", "1e30"])
def test_nan_and_impossible_timestamps_are_named_with_their_line(capsys, isolated_home, tmp_path, value):
    path = corpus.ratings(tmp_path / "ts.csv", timestamp=lambda u, i: value if u == 3 else "2020-01-01")
    code, _, err = run_cli(capsys, "--data", str(path), "--split", "chrono", *QUICK)
    assert_one_line_error(code, err, "timestamp", f"'{value}'", "line ")


def test_dates_beyond_pandas_nanosecond_range_are_read_as_seconds(tmp_path):
    from core.data.csv_loader import load_csv

    path = tmp_path / "far.csv"
    path.write_text("user,item,timestamp\n1,2,9999-12-31\n3,4,1677-01-01\n5,6,2020-01-01\n")
    seconds = load_csv(path).frame["timestamp"].tolist()
    assert seconds == [253402214400, -9246096000, 1577836800]  # datetime(1677, 1, 1) - epoch


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
@pytest.mark.parametrize("where", ["--data", "--out", "grid", "--report", "--receipt", "verify"])
def test_a_named_pipe_is_refused_by_type(capsys, isolated_home, tmp_path, where):
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    if where == "grid":
        code, _, err = run_cli(capsys, "sweep", str(fifo), "--out", str(tmp_path / "o"))
    elif where == "verify":  # the receipt to verify
        code, _, err = run_cli(capsys, "verify", str(fifo), "--data", "demo")
        assert code == 2 and err.strip().startswith("cragru-run verify: error: the receipt") and "\n" not in err.strip()
        assert "named pipe" in err
        return
    else:
        code, _, err = run_cli(capsys, where, str(fifo), *QUICK)
    assert_one_line_error(code, err, "named pipe")


def test_a_port_where_something_else_listens_is_not_taken_for_ray(capsys, isolated_home, tmp_path, monkeypatch):
    import socket

    import core.cluster.connect

    monkeypatch.setattr(core.cluster.connect, "CONNECT_S", 1.0)
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        address = f"127.0.0.1:{silent.getsockname()[1]}"
        code, err, seconds = _sweep(capsys, tmp_path, GRID, "--ray-address", address)
    assert_one_line_error(code, err, f"no Ray cluster answers at {address} within 1 s", "does not speak Ray")
    assert seconds < 10
