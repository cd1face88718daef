"""The layout of `readmit run --federated` on this machine: one node per state, each with its
own home `<READMIT_HOME>/nodes/<STATE>/` holding its node key file (`readmit node init`'s), its
API key set (`keys.env`: what `readmit keys init` prints, made once and kept, mode 0600), its
Temporal dev server's data, and its own database on the one PostgreSQL server
(`<database>_node_<state>`: `readmit_node_pl` on the embedded server).

`readmit run` builds each node's Settings here; `readmit token --node` reads a node's key set
here, so that a token it signs is the one node's and no other's.
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import secrets
from datetime import datetime
from importlib.resources import as_file, files
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from adapters.directory import Officer, load_directory
from adapters.federation.identity import (
    IdentityError,
    NodeIdentity,
    check_url,
    default_keys_file,
)
from adapters.settings import Settings
from readmit.cli.keys import production_key_set

FEDERATED_STATES = ("PL", "UA")
KEY_SET_FILE = "keys.env"
NOT_FOR_RUN = {"READMIT_ENV"}  # `readmit run` is the development mode whatever the key set says


class NodeSetupError(Exception):
    """A node's files cannot be made or read; one line, without key material."""


def node_home(home: Path, state: str) -> Path:
    return home / "nodes" / state


def key_set_file(home: Path, state: str) -> Path:
    return node_home(home, state) / KEY_SET_FILE


def ensure_key_set(home: Path, state: str, now: datetime) -> dict[str, str]:
    """The node's API key set: read from its `keys.env`, else made by `readmit keys init`'s
    code and written there (0600) for the next start and for `readmit token --node`."""
    path = key_set_file(home, state)
    if path.exists():
        return read_key_set(path)
    values = {k: v for k, v in production_key_set(now).items() if k not in NOT_FOR_RUN}
    lines = [f"# Keys of the {state} node of `readmit run --federated` (development only)."]
    lines += [f"{name}={value}" for name, value in values.items()]
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    partial = path.with_name(f".{KEY_SET_FILE}.{secrets.token_hex(4)}")
    try:
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            os.fchmod(handle.fileno(), 0o600)
            handle.write("\n".join(lines) + "\n")
        os.replace(partial, path)
    except OSError as error:
        raise NodeSetupError(f"cannot write {path}: {error.strerror or error}") from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()
    return read_key_set(path)


def read_key_set(path: Path) -> dict[str, str]:
    """The `NAME=value` lines of a key set as `readmit keys init` writes them (a value may be
    single-quoted); comments and blank lines skipped."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise NodeSetupError(
            f"no key set at {path}: start the node with `readmit run --federated`"
        ) from None
    except OSError as error:
        raise NodeSetupError(f"cannot read {path}: {error.strerror or error}") from None
    values: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, value = line.partition("=")
        if not sep or not name.startswith("READMIT_"):
            raise NodeSetupError(f"{path}:{number}: not a READMIT_NAME=value line")
        if len(value) >= 2 and value[0] == value[-1] == "'":
            value = value[1:-1]
        values[name] = value
    return values


def with_key_set(settings: Settings, values: dict[str, str]) -> Settings:
    """`settings` with the keys of a key set (the variables `readmit keys init` prints)."""
    try:
        update = {
            "payload_keys": dict(json.loads(values["READMIT_PAYLOAD_KEYS"])),
            "payload_key_id": values["READMIT_PAYLOAD_KEY_ID"],
            "master_keys": dict(json.loads(values["READMIT_MASTER_KEYS"])),
            "master_key_id": values["READMIT_MASTER_KEY_ID"],
            "audit_signing_key": values["READMIT_AUDIT_SIGNING_KEY"],
            "command_signing_key": values["READMIT_COMMAND_SIGNING_KEY"],
            "command_verify_keys": tuple(json.loads(values["READMIT_COMMAND_VERIFY_KEYS"])),
            "jwt_secret": values["READMIT_JWT_SECRET"],
        }
    except KeyError as missing:
        raise NodeSetupError(f"the node's key set lacks {missing.args[0]}") from None
    except (TypeError, ValueError):
        raise NodeSetupError("the node's key set has a value that is not JSON") from None
    return settings.model_copy(update=update)


def node_jwt_secret(home: Path, state: str) -> str:
    """The HS256 secret of the node of `state`'s API (`readmit token --node`)."""
    path = key_set_file(home, state)
    secret = read_key_set(path).get("READMIT_JWT_SECRET")
    if not secret:
        raise NodeSetupError(f"{path} has no READMIT_JWT_SECRET")
    return secret


def ensure_identity(home: Path, state: str, url: str) -> NodeIdentity:
    """The node's identity from its key file, made on the first start; a node moved to
    another URL (another port) keeps its keys and takes the new URL."""
    path = default_keys_file(home, state)
    try:
        if not path.exists():
            identity = NodeIdentity.create(state, url)
            identity.save(path)
            return identity
        identity = NodeIdentity.load(path)
        if identity.state != state:
            raise NodeSetupError(f"{path} holds the keys of node {identity.state}, not {state}")
        if identity.url != check_url(url):
            identity = NodeIdentity(
                state, check_url(url), identity.signing_key, identity.encryption_key,
                identity.created_at,
            )  # fmt: skip
            identity.save(path, force=True)
        return identity
    except IdentityError as error:
        raise NodeSetupError(str(error)) from None


def node_settings(
    base: Settings, state: str, index: int, now: datetime
) -> tuple[Settings, NodeIdentity]:
    """The Settings of the node of `state`, the `index`-th of `--state` (its home, its API port
    READMIT_API_PORT + index, its key set), and its identity."""
    home = node_home(base.home, state)
    port = base.api_port + index
    host = "127.0.0.1" if base.api_host in ("0.0.0.0", "") else base.api_host
    shown = f"[{host}]" if ":" in host else host
    identity = ensure_identity(base.home, state, f"http://{shown}:{port}")
    settings = with_key_set(base, ensure_key_set(base.home, state, now))
    node = settings.model_copy(
        update={
            "home": home,
            "api_port": port,
            "node_state": state,
            "node_url": identity.url,
            "node_keys_file": default_keys_file(base.home, state),
        }
    )
    return node, identity


def node_database(dsn: str, state: str) -> str:
    """`dsn` naming the node's database, `<its database>_node_<state>` on the same server."""
    parts = urlsplit(dsn)
    database = parts.path.lstrip("/") or "readmit"
    return urlunsplit(parts._replace(path=f"/{database}_node_{state.lower()}"))


def database_name(dsn: str) -> str:
    return urlsplit(dsn).path.lstrip("/")


def demo_officers(state: str) -> list[Officer]:
    """The demo directory's entries of `state` only: a node knows its own state's officers."""
    with as_file(files("readmit.demo") / "officers.toml") as officers_file:
        return [o for o in load_directory(Path(officers_file)) if o.state == state]


def demo_registry_rows(state: str, target: Path) -> Path:
    """The demo registry's rows of `state` written to `target` (CSV, header kept)."""
    with (
        as_file(files("readmit.demo") / "registry.csv") as registry_file,
        Path(registry_file).open(encoding="utf-8", newline="") as source,
    ):
        reader = csv.DictReader(source)
        fields = list(reader.fieldnames or ())
        rows = [row for row in reader if row.get("state") == state]
    with target.open("w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    return target
