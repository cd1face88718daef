"""Everywhere a category is chosen or shown offers `stateless`: the open-case page (with its
words in every language) and scenario files, where an unknown category exits 2 naming the key."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from api.web.i18n import translations
from api.web.labels import label
from api.web.open_form import Choices, open_sections
from domain.agreements import Category
from readmit.cli.main import app
from readmit.simulate.scenario import ScenarioError, load_scenario


def test_the_open_form_offers_every_category_with_its_words() -> None:
    fields = [f for _, group in open_sections(Choices([], [], [], [])) for f in group]
    category = next(f for f in fields if f.name == "category")
    assert [code for code, _ in category.options] == [c.value for c in Category]
    words = {
        lang: translations(lang).gettext(label("category", "stateless")) for lang in ("uk", "ro")
    }
    assert label("category", "stateless") == "Stateless person"
    assert words == {"uk": "Особа без громадянства", "ro": "Apatrid"}


def test_a_scenario_with_an_unknown_category_exits_2_naming_the_key(tmp_path: Path) -> None:
    case: dict[str, Any] = {
        "requesting": "PL",
        "requested": "UA",
        "category": "stateless",
        "person": {"surname": "S", "given_names": "O", "birth_date": "1990-05-17"},
    }
    scenario = {"agreement": "EU-UA", "case": case, "until": "2027-12-01T00:00:00Z"}
    good = tmp_path / "stateless.json"
    good.write_text(json.dumps(scenario), encoding="utf-8")
    assert load_scenario(good).case.category is Category.STATELESS
    bad = tmp_path / "refugee.json"
    bad.write_text(json.dumps({**scenario, "case": {**case, "category": "refugee"}}))
    with pytest.raises(ScenarioError, match=r"case\.category: Input should be .*'stateless'"):
        load_scenario(bad)
    result = CliRunner().invoke(app, ["simulate", "--quiet", str(bad)])
    assert result.exit_code == 2, result.output
    assert "refugee.json: case.category: Input should be" in result.output
    assert "Traceback" not in result.output
