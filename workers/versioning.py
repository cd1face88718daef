"""Worker versioning: which Temporal worker deployment version the case queue's workers are.

With `READMIT_WORKER_DEPLOYMENT` set, the case queue's worker polls as one version (the
deployment's name and a build id) of a Temporal worker deployment. The server then gives it no
workflow task until an operator makes that version current (or ramps to it), and, once it is,
gives tasks of a case either to it (`auto_upgrade`: running cases move to the current version,
which is safe because every release replays the previous release's histories, patched where a
path's commands changed) or to the version the case started on (`pinned`: for an installation
that keeps each release's workers running until its last case ends). A new release's workers
therefore never take a task the operator has not released to them (docs/operations.md,
"Releasing new workers").

The build id defaults to the package version and a hash of the code a workflow task runs (the
`workflows` and `domain` packages): two builds whose workflow code differs never share an id,
while a release that changes only activities, the API or the CLI keeps it. The states' queues
carry only activities (identity checks) and stay unversioned: their tasks go to whichever
worker polls them, as before.
"""

from __future__ import annotations

import hashlib
from importlib import metadata
from pathlib import Path

from temporalio.common import VersioningBehavior, WorkerDeploymentVersion
from temporalio.worker import WorkerDeploymentConfig

import domain
import workflows
from adapters.settings import Settings

PACKAGE = "readmit"
HASHED = (workflows, domain)  # what a workflow task executes
BEHAVIOURS = {
    "auto_upgrade": VersioningBehavior.AUTO_UPGRADE,
    "pinned": VersioningBehavior.PINNED,
}


def code_hash(length: int = 12) -> str:
    """Hex digest of every Python file of the workflow and domain packages (their paths and
    bytes, in a stable order), cut to `length` characters."""
    digest = hashlib.sha256()
    for package in HASHED:
        root = Path(next(iter(package.__path__)))
        for path in sorted(root.rglob("*.py")):
            digest.update(f"{package.__name__}/{path.relative_to(root).as_posix()}\0".encode())
            digest.update(path.read_bytes())
            digest.update(b"\0")
    return digest.hexdigest()[:length]


def package_version() -> str:
    try:
        return metadata.version(PACKAGE)
    except metadata.PackageNotFoundError:  # a source tree that is not installed
        return "0+unknown"


def build_id(settings: Settings) -> str:
    """READMIT_BUILD_ID, else `<package version>+<code hash>` (a `+` joins them: the local part
    of a version, so `0.2.0+1a2b…` still sorts and reads as release 0.2.0)."""
    if settings.build_id:
        return settings.build_id
    version = package_version().split("+", 1)[0]
    return f"{version}+{code_hash()}"


def deployment_config(settings: Settings) -> WorkerDeploymentConfig | None:
    """What the case queue's `Worker` is given as `deployment_config`: None (unversioned) while
    READMIT_WORKER_DEPLOYMENT is unset, else this build as a version of that deployment, with
    the configured behaviour as the default of every workflow it runs (the workflow definitions
    name none, so the choice stays one setting of the installation)."""
    if settings.worker_deployment is None:
        return None
    return WorkerDeploymentConfig(
        version=WorkerDeploymentVersion(
            deployment_name=settings.worker_deployment, build_id=build_id(settings)
        ),
        use_worker_versioning=True,
        default_versioning_behavior=BEHAVIOURS[settings.worker_versioning_behavior],
    )
