"""`readmit worker-version`: the Temporal worker deployment version this build's case workers
poll as (docs/operations.md, "Releasing new workers"), as JSON, so a release script knows the
build id to ramp to and make current without starting a worker."""

from __future__ import annotations

from pydantic import ValidationError

from adapters.settings import Settings
from readmit.cli.common import fail, print_json
from workers.versioning import build_id, code_hash, package_version


def worker_version_command() -> None:
    """Print the worker deployment, build id and versioning behaviour of this build (JSON)."""
    try:
        settings = Settings()
    except ValidationError as error:
        first = error.errors()[0]
        fail(f"READMIT_{str(first['loc'][0]).upper()}: {first['msg']}")
    print_json(
        {
            "versioned": settings.worker_deployment is not None,
            "deployment": settings.worker_deployment,
            "build_id": build_id(settings),
            "behavior": settings.worker_versioning_behavior,
            "package_version": package_version(),
            "workflow_code_hash": code_hash(),
        }
    )
