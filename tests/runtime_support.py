"""The runtime role as the tests log in as it (the `runtime_dsn` fixture of tests/conftest.py):
the default name, LOGIN, and a password, since a shared test cluster may want one (with trust
authentication it is ignored). Importable from any test folder (tests/ is on pytest's
pythonpath)."""

from __future__ import annotations

from adapters.db.roles import RuntimeRole

RUNTIME_ROLE = RuntimeRole(login=True, password="readmit-app-tests")
