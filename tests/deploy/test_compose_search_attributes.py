"""Compose registers the case workflows' search attributes in every namespace it creates (the
single installation's and each federated node's), so a case can start: a server refuses a
workflow naming an attribute it does not know."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from workflows.search_attributes import REGISTRATION

COMPOSE = Path(__file__).parents[2] / "docker-compose.yml"


def test_every_namespace_setup_registers_every_case_attribute() -> None:
    text = COMPOSE.read_text()
    setups = re.findall(r"for attribute in ([^;]+); do", text)
    assert len(setups) == text.count("operator namespace create") == 2
    expected = {f"{name}={kind}" for name, kind in REGISTRATION}
    for listed in setups:
        assert set(listed.split()) == expected
    single = yaml.safe_load(text)["services"]["temporal-namespace"]["command"][0]
    assert "search-attribute create" in single
