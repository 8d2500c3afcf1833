"""Issue 16, templates validated completely: a prompt template with an unknown field, a
conversion, a nested or oversized format spec, or an unknown profile field is refused
with one line before any stage (``{history:>999999999999}`` used to raise MemoryError)."""

from __future__ import annotations

import pytest

from core.errors import ConfigError
from core.methods.cragru.prompts import DEFAULT_TEMPLATE, MAX_FIELD_WIDTH, parse_template
from core.methods.registry import get_method
from tests.test_hostile_cli import QUICK, assert_one_line_error, run_cli

BODY = "{history}\n{candidates}"
BAD_TEMPLATES = [
    ("{profile!x} " + BODY, "conversions"),
    ("{profile!r} " + BODY, "conversions"),
    ("{profile:{profile}} " + BODY, "another placeholder"),
    ("{history:>999999999999}\n{candidates}", f"at most {MAX_FIELD_WIDTH}"),
    ("{history:.99999999999999999999999}\n{candidates}", f"at most {MAX_FIELD_WIDTH}"),
    ("{profile:d} " + BODY, "not a format spec for text"),
    ("{profile:,} " + BODY, "not a format spec for text"),
    ("{profile.upper} " + BODY, "unknown placeholder"),
    ("{0} " + BODY, "unknown placeholder"),
    ("{user} " + BODY, "unknown placeholder"),
    ("{profile " + BODY, "not valid"),
    ("{profile}", "must contain {history}"),
]


@pytest.mark.parametrize("template, words", BAD_TEMPLATES)
def test_bad_templates_refused_by_validate(template, words):
    with pytest.raises(ConfigError, match="prompt template") as caught:
        get_method("cragru").validate({"prompt_template": template})
    assert words in str(caught.value)


def test_good_templates_pass_and_format():
    spec = get_method("cragru")
    assert spec.validate({})["prompt_template"] == ""
    template = "{profile:<20}|{noun_title:.3}\\n{history:>40}\\n{candidates}\\n{instruction}"
    assert spec.validate({"prompt_template": template})["prompt_template"] == template
    text = parse_template(template).format(
        profile="p", noun_title="Movie", history="h", candidates="c", instruction="i"
    )
    assert text.splitlines() == ["p" + " " * 19 + "|Mov", " " * 39 + "h", "c", "i"]
    assert parse_template("") == DEFAULT_TEMPLATE


def test_unknown_profile_fields_are_named_with_the_known_ones():
    spec = get_method("cragru")
    assert spec.validate({"profile_fields": "age, gender"})["profile_fields"] == "age, gender"
    assert spec.validate({"profile_fields": ""})["profile_fields"] == ""
    with pytest.raises(ConfigError) as caught:
        spec.validate({"profile_fields": "age,zipcode,income"})
    message = str(caught.value)
    assert "'zipcode', 'income'" in message and "age, occupation, gender" in message


@pytest.mark.parametrize(
    "param, words",
    [
        ("prompt_template={profile!x} {history} {candidates}", ("cragru", "conversions")),
        ("prompt_template={profile:{profile}} {history} {candidates}", ("cragru", "another placeholder")),
        ("prompt_template={history:>999999999999} {candidates}", ("cragru", "at most")),
        ("profile_fields=age,zipcode", ("cragru", "zipcode", "age, occupation, gender")),
    ],
)
def test_cli_refuses_before_any_stage(capsys, isolated_home, param, words):
    code, out, err = run_cli(capsys, "--methods", "cragru", "--param", f"cragru.{param}", *QUICK)
    assert_one_line_error(code, err, *words)
    assert "Loading" not in out + err  # refused before any stage started
