"""Malformed inputs and faulty files for the hostile-input tests, generated under tmp_path.

Each function writes one case and returns its path; the cases are named after the issue
(16) rows they reproduce, so the corpus grows by adding a function here.
"""

from __future__ import annotations

import os
import random
import sqlite3
import subprocess
from pathlib import Path

import pytest


def sweep_grid(data: str = "demo") -> str:
    """The smallest sweep grid: one request, seed and cell (BPR, one epoch, retraining) on ``data``."""
    return f"""requests = ["users:random:0.05"]
seeds = [0]
mia = false
[data]
path = "{data}"
[[models]]
name = "bpr"
epochs = 1
[[methods]]
name = "retrain"
"""


def ratings(
    path: Path,
    users: int = 40,
    per_user: int = 12,
    items: int = 60,
    *,
    rating=lambda u, i: 3,
    timestamp=lambda u, i: 1000 + u * 100 + i,
    header: str = "user,item,rating,timestamp",
) -> Path:
    """A small valid interaction table (every user has ``per_user`` distinct items)."""
    rng = random.Random(0)
    lines = [header]
    for u in range(users):
        for i in rng.sample(range(items), per_user):
            lines.append(f"{u},{i},{rating(u, i)},{timestamp(u, i)}")
    path.write_text("\n".join(lines) + "\n")
    return path


def wide_header(path: Path, columns: int = 100_000) -> Path:
    path.write_text(",".join(f"c{i}" for i in range(columns)) + "\n" + ",".join("1" * columns) + "\n")
    return path


def wrong_ml_header(folder: Path) -> Path:
    folder.mkdir(exist_ok=True)
    (folder / "ratings.csv").write_text("a,b,c\n1,2,3\n4,5,6\n")
    return folder


def one_row_per_user(path: Path) -> Path:
    path.write_text("user,item,rating\n" + "\n".join(f"{u},{u % 70},3" for u in range(300)) + "\n")
    return path


def utf16(path: Path) -> Path:
    plain = ratings(path.with_suffix(".plain.csv"))
    path.write_bytes(plain.read_text().encode("utf-16"))
    return path


# -- history files -----------------------------------------------------------------------
def random_bytes(path: Path) -> Path:
    path.write_bytes(random.Random(1).randbytes(8192))
    return path


def malformed_page(path: Path) -> Path:
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE runs (run_id TEXT)")
    db.executemany("INSERT INTO runs VALUES (?)", [("x" * 500,)] * 300)
    db.commit()
    db.close()
    data = bytearray(path.read_bytes())
    data[4096 * 3 : 4096 * 3 + 200] = random.Random(2).randbytes(200)
    path.write_bytes(bytes(data))
    return path


def other_schema(path: Path) -> Path:
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE runs (id INTEGER PRIMARY KEY, name TEXT)")
    db.execute("INSERT INTO runs (name) VALUES ('someone else''s table')")
    db.commit()
    db.close()
    return path


def dead_pid() -> int:
    """The pid of a process that has ended (reaped)."""
    child = subprocess.Popen(["true"])
    child.wait(timeout=10)
    return child.pid


def make_read_only(path: Path, undo: list) -> None:
    """Read-only for this user, root included (root ignores modes: the immutable flag)."""
    if os.geteuid() != 0:
        os.chmod(path, 0o555 if path.is_dir() else 0o444)
        undo.append(lambda: os.chmod(path, 0o755 if path.is_dir() else 0o644))
        return
    done = subprocess.run(["chattr", "+i", str(path)], capture_output=True, timeout=10)
    if done.returncode != 0:
        pytest.skip("running as root without chattr +i: a read-only path cannot be made here")
    undo.append(lambda: subprocess.run(["chattr", "-i", str(path)], capture_output=True, timeout=10))
