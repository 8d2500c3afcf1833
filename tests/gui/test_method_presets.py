"""Issue 23: tick all / none and presets by what methods declare; long forms fold behind "more…";
the splash is mapped before the heavy imports."""

from __future__ import annotations

from cragru_gui.panels.method_presets import apply_preset


def test_presets_tick_by_capability_and_keep_retraining(make_window):
    window = make_window(tiny=False)
    panel = window.method_panel
    specs = {name: entry.spec for name, entry in panel.entries.items()}
    methods = [n for n, s in specs.items() if not s.has("control")]
    assert sorted(apply_preset(panel, "All")) == sorted(methods)
    assert sorted(panel.selected_methods()) == sorted(methods)
    assert apply_preset(panel, "None") == [] and panel.selected_methods() == []
    llm = apply_preset(panel, "LLM")
    assert llm[0] == "retrain" and all(specs[n].has("uses_llm") for n in llm[1:]) and len(llm) >= 2
    assert set(panel.selected_methods()) == set(llm)
    exact = apply_preset(panel, "Exact")
    assert all(specs[n].has("exact") for n in exact)
    quick = apply_preset(panel, "Quick")
    assert not any(specs[n].has("uses_llm") for n in quick) and "retrain" in quick
    panel.preset_buttons["None"].click()
    assert panel.selected_methods() == []


def test_long_forms_fold_behind_more(make_window):
    window = make_window(tiny=False)
    folded = [e for e in window.method_panel.entries.values() if e.form.more_button is not None]
    assert folded, "some method has a long form"
    entry = max(folded, key=lambda e: len(e.spec.params))
    entry.set_checked(True)
    visible = [n for n, ed in entry.form.editors.items() if ed.isVisibleTo(entry)]
    assert len(visible) < len(entry.spec.params)
    assert set(entry.spec.demo_changes()) <= set(visible) or len(visible) == 3
    entry.form.more_button.click()
    assert all(ed.isVisibleTo(entry) for ed in entry.form.editors.values())
    entry.form.values()  # every field still read, shown or not


def test_the_splash_is_mapped_before_the_heavy_imports(qapp):
    from cragru_gui.app import _splash

    splash = _splash(qapp)
    assert splash is not None and splash.isVisible()
    assert splash.windowHandle().isExposed()
    splash.close()
