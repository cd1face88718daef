"""`readmit simulate SCENARIO`: what happens to a case, through the real workflow, on a clock
that runs months in seconds."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer

from adapters.agreements.catalogue import Catalogue, CatalogueError, NotInCatalogue, load_catalogue
from adapters.logs import configure_logging
from adapters.settings import get_settings
from adapters.temporal.binaries import BinaryNotFound, test_server_path
from adapters.temporal.runtime import exit_now, install_runtime
from domain.terms import TermsError
from readmit.cli.common import EXIT_BAD_INPUT, fail, owner_database_url, print_json
from readmit.simulate.runner import simulate
from readmit.simulate.scenario import ScenarioError, load_scenario


def register(app: typer.Typer) -> None:
    app.command("simulate")(simulate_command)


def simulate_command(
    scenario_file: Annotated[Path, typer.Argument(help="scenario in YAML or JSON")],
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="no progress lines")] = False,
) -> None:
    """Run a scenario on the time-skipping test server and print the timeline as JSON."""
    settings = get_settings()
    configure_logging("ERROR" if quiet else settings.log_level)
    install_runtime("ERROR")
    try:
        test_server_path()  # before PostgreSQL starts: a missing extra is one line
    except BinaryNotFound as error:
        fail(str(error))
    try:
        scenario = load_scenario(scenario_file)
        extra = [scenario.agreement_file] if scenario.agreement_file else []
        catalogue = load_catalogue(settings.agreements_dir, extra)
        agreement_id = scenario.agreement
        if agreement_id is None:
            agreement_id = _id_in_file(catalogue, scenario.agreement_file)
        terms = catalogue.terms(
            agreement_id, scenario.case.requesting, scenario.case.requested, scenario.protocol
        )
    except CatalogueError as error:
        fail(error.one_line())
    except (ScenarioError, NotInCatalogue, TermsError) as error:
        fail(str(error))
    dsn = owner_database_url()  # a schema of its own, created and dropped

    def progress(message: str) -> None:
        if not quiet:
            typer.echo(f"· {message}", err=True)

    try:
        report = asyncio.run(simulate(scenario, terms, settings, dsn, progress))
    except ScenarioError as error:  # found once the server's clock is known
        typer.echo(f"readmit: {error}", err=True)
        exit_now(EXIT_BAD_INPUT)
    print_json(report)
    exit_now()


def _id_in_file(catalogue: Catalogue, path: Path | None) -> str:
    for key, origin in catalogue.origins.items():
        if isinstance(key, str) and origin == str(path):
            return key
    fail(f"{path}: holds no agreement (a protocol file needs 'agreement' in the scenario)")
