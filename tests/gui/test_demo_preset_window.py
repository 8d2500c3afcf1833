"""The window takes each method's demo preset on the built-in demo and says so in the form."""

from __future__ import annotations


def _write_small_csv(path):
    rows = ["user,item,rating"] + [f"{u},{(u * 7 + k) % 40},{1 + (u + k) % 5}" for u in range(60) for k in range(12)]
    path.write_text("\n".join(rows) + "\n")


def test_demo_preset_on_the_demo_and_standard_values_elsewhere(make_window, qtbot, tmp_path, shown_errors):
    window = make_window()
    entry = window.method_panel.entries["e2urec"]
    entry.set_checked(True)
    assert entry.form.values()["forget_samples"] == 3 and entry.form.values()["lora_last_layers"] == 4
    note = entry.preset_note
    assert note.isVisibleTo(entry) and "Demo preset" in note.text() and "Forget samples 3 (standard 16)" in note.text()
    assert not window.method_panel.entries["retrain"].preset_note.isVisibleTo(window.method_panel)  # nothing sized
    data = tmp_path / "small.csv"
    _write_small_csv(data)
    window.load_dataset({"path": str(data), "fmt": "csv"})
    qtbot.waitUntil(lambda: window.dataset is not None and window.dataset.source != "demo", timeout=20_000)
    assert not shown_errors
    assert entry.form.values()["forget_samples"] == 16 and entry.form.values()["lora_last_layers"] == 0
    assert not note.isVisibleTo(entry)
