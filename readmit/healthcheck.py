"""`python -m readmit.healthcheck [api|worker]`: the container health check of the image.

- api: `GET /health` on the API's own port answers 200: the process serves, whether or not it
  has reached PostgreSQL and Temporal yet (`GET /ready` says that);
- worker: the metrics endpoint the worker serves answers (the SDK's, else Readmit's own, when
  one is configured); without one, a running worker process is all there is to check;
- anything else (the one-shot `db migrate`): healthy.

Without an argument the role is read from PID 1's command line (`readmit <role> ...`), so the
image's one HEALTHCHECK fits every service. Exit 0 = healthy, 1 = unhealthy.
"""

from __future__ import annotations

import sys
import urllib.error
import urllib.request
from pathlib import Path

from adapters.settings import Settings, get_settings

TIMEOUT_SECONDS = 3.0


def role_of_pid1(cmdline: Path = Path("/proc/1/cmdline")) -> str:
    """The `readmit` subcommand PID 1 runs (`api`, `worker`, `db`...), '' if none."""
    try:
        argv = cmdline.read_bytes().decode(errors="replace").split("\0")
    except OSError:
        return ""
    for index, arg in enumerate(argv[:-1]):
        if Path(arg).name == "readmit":
            return argv[index + 1]
    return ""


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_SECONDS) as response:
            status: int = response.status
            return 200 <= status < 300
    except (urllib.error.URLError, OSError):
        return False


def local_url(address: str, path: str) -> str:
    """`http://127.0.0.1:<port><path>` for a listen address such as `0.0.0.0:9464`."""
    return f"http://127.0.0.1:{address.rpartition(':')[2]}{path}"


def healthy(role: str, settings: Settings) -> bool:
    if role == "api":
        return answers(f"http://127.0.0.1:{settings.api_port}/health")
    if role == "worker":
        address = settings.sdk_metrics_address or settings.metrics_address
        return answers(local_url(address, "/metrics")) if address else True
    return True


def main(argv: list[str]) -> int:
    role = argv[1] if len(argv) > 1 else role_of_pid1()
    return 0 if healthy(role, get_settings()) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
