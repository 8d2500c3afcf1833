"""The Reference models spin box: built from REFERENCES_PARAM, sent to the run, kept in the settings."""

from __future__ import annotations

from core.references.settings import REFERENCES_PARAM


def test_references_spin_box_comes_from_the_spec(make_window):
    window = make_window()  # the demo: the demo's default
    panel = window.method_panel
    spin = panel.references_spin
    assert (spin.minimum(), spin.maximum()) == (REFERENCES_PARAM.low, REFERENCES_PARAM.high)
    assert spin.toolTip() and panel.n_references() == REFERENCES_PARAM.default_for(True)
    spin.setValue(3)
    assert panel.run_settings()["references"] == 3 and window.build_config().references == 3
    assert panel.state()["references"] == {"references": 3}
    panel.restore({**panel.state(), "references": {"references": 0}})
    assert panel.n_references() == 0 and window.build_config().references == 0
