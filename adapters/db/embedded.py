"""A private PostgreSQL under `<home>/postgres`, for laptops and tests when DATABASE_URL is unset.

Binaries come from the `pgserver` wheel (pip extra `embedded`, PostgreSQL 16, no system install
needed), else from the system (`/usr/lib/postgresql/*/bin`, then `pg_ctl` on PATH); an existing
cluster is always started with binaries of its own major version. We drive initdb/pg_ctl
ourselves rather than through pgserver's API so that start, reuse and stop are explicit (pgserver
stops the server at interpreter exit and widens permissions of every parent directory).

The server listens on a Unix socket only (no TCP port to collide), with trust authentication;
the socket lives in the data directory (mode 0700), so only its owner and root can connect.
PostgreSQL refuses to run as root: under root the cluster belongs to the system user
`readmit-pg` (created if missing; `nobody` if it cannot be), and the parents of the data and
binary directories get the search (x) bit for others so that user can reach them.
"""

from __future__ import annotations

import fcntl
import hashlib
import importlib.util
import os
import pwd
import re
import shlex
import shutil
import stat
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

SERVER_USER = "readmit-pg"
DATABASE = "readmit"
PORT = 5432
_SOCKET_PATH_MAX = 107  # sun_path is 108 bytes on Linux, including the NUL


class EmbeddedPostgresError(RuntimeError):
    """The embedded server could not be found, initialised or started."""


def candidate_bin_dirs() -> list[Path]:
    """Directories holding initdb, pg_ctl and postgres, in order of preference."""
    found: list[Path] = []
    spec = importlib.util.find_spec("pgserver")  # located, not imported: importing has effects
    if spec is not None and spec.origin is not None:
        found.append(Path(spec.origin).parent / "pginstall" / "bin")
    system = Path("/usr/lib/postgresql").glob("*/bin")
    found += sorted(system, key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0)[
        ::-1
    ]
    on_path = shutil.which("pg_ctl")
    if on_path:
        found.append(Path(on_path).resolve().parent)
    needed = ("initdb", "pg_ctl", "postgres")
    usable = [d for d in found if all((d / exe).is_file() for exe in needed)]
    return list(dict.fromkeys(usable))


def major_version(bin_dir: Path) -> int:
    """The PostgreSQL major version of the binaries in `bin_dir` (`postgres --version`)."""
    out = subprocess.run(
        [str(bin_dir / "postgres"), "--version"], capture_output=True, text=True, check=True
    ).stdout
    match = re.search(r"(\d+)(?:\.\d+)?", out)
    if match is None:
        raise EmbeddedPostgresError(f"cannot read the version of {bin_dir}/postgres: {out!r}")
    return int(match.group(1))


class EmbeddedPostgres:
    """One cluster in `<home>/postgres`: `start()` returns a DSN, reusing a running server."""

    def __init__(self, home: Path, *, bin_dir: Path | None = None) -> None:
        self.home = home.expanduser().resolve()
        self.data_dir = self.home / "postgres"
        self._bin_dir = bin_dir
        self.started_here = False  # True once this object started the server (not reused it)

    def is_running(self) -> bool:
        return self._postmaster() is not None

    @property
    def dsn(self) -> str:
        info = self._postmaster()
        if info is None:
            raise EmbeddedPostgresError(f"no server is running in {self.data_dir}")
        socket_dir, port = info
        return f"postgresql://postgres@/{DATABASE}?host={socket_dir}&port={port}"

    def start(self) -> str:
        """Initialise the cluster if new, start it unless running, and return its DSN."""
        with self._lock():
            if self.is_running():
                return self.dsn
            bin_dir = self.bin_dir()
            user = _server_user()
            self.data_dir.mkdir(mode=0o700, exist_ok=True)
            if user is not None:
                _make_reachable(self.data_dir)
                _make_reachable(bin_dir)
                _own(self.data_dir, user)
            if not (self.data_dir / "PG_VERSION").exists():
                self._run(
                    [bin_dir / "initdb", "-D", self.data_dir, "--auth=trust",
                     "--username=postgres", "--encoding=UTF8", "--no-locale"],
                    user,
                )  # fmt: skip
            socket_dir = self._socket_dir(user)
            options = f"-c listen_addresses='' -k {shlex.quote(str(socket_dir))} -p {PORT}"
            self._run(
                [bin_dir / "pg_ctl", "start", "-w", "-t", "60", "-D", self.data_dir,
                 "-l", self.data_dir / "server.log", "-o", options],
                user,
            )  # fmt: skip
            self.started_here = True
            self._create_database(bin_dir, socket_dir)
            return self.dsn

    def stop(self) -> None:
        """Stop the server (fast shutdown: sessions are ended, data is kept)."""
        with self._lock():
            if not self.is_running():
                return
            pg_ctl = self.bin_dir() / "pg_ctl"
            self._run([pg_ctl, "stop", "-w", "-m", "fast", "-D", self.data_dir], _server_user())

    def bin_dir(self) -> Path:
        """The given binaries, else the first candidate matching the cluster's version."""
        if self._bin_dir is not None:
            return self._bin_dir
        candidates = candidate_bin_dirs()
        if not candidates:
            raise EmbeddedPostgresError(
                "no PostgreSQL binaries: `pip install 'readmit[embedded]'` (pgserver) "
                "or install PostgreSQL, or set DATABASE_URL"
            )
        version_file = self.data_dir / "PG_VERSION"
        if not version_file.exists():
            return candidates[0]
        wanted = int(version_file.read_text().strip())
        for candidate in candidates:
            if major_version(candidate) == wanted:
                return candidate
        raise EmbeddedPostgresError(f"{self.data_dir} needs PostgreSQL {wanted} binaries")

    def _postmaster(self) -> tuple[str, int] | None:
        """(socket dir, port) of a live, ready server from postmaster.pid; None if none."""
        try:
            lines = (self.data_dir / "postmaster.pid").read_text().splitlines()
        except OSError:
            return None
        if len(lines) < 8 or lines[7].strip() != "ready":
            return None
        if not _is_postgres(lines[0].strip()):
            return None
        return lines[4].strip(), int(lines[3])

    def _socket_dir(self, user: pwd.struct_passwd | None) -> Path:
        if len(str(self.data_dir / f".s.PGSQL.{PORT}")) <= _SOCKET_PATH_MAX:
            return self.data_dir
        digest = hashlib.sha256(str(self.data_dir).encode()).hexdigest()[:12]
        short = Path(tempfile.gettempdir()) / f"readmit-pg-{digest}"
        short.mkdir(mode=0o700, exist_ok=True)
        if user is not None:
            os.chown(short, user.pw_uid, user.pw_gid)
        return short

    def _create_database(self, bin_dir: Path, socket_dir: Path) -> None:
        createdb = bin_dir / "createdb"
        args = [createdb, "-h", socket_dir, "-p", str(PORT), "-U", "postgres", DATABASE]
        result = subprocess.run(
            [str(a) for a in args], capture_output=True, text=True, env=_clean_env(), check=False
        )
        if result.returncode != 0 and "already exists" not in result.stderr:
            raise EmbeddedPostgresError(f"createdb failed: {result.stderr.strip()}")

    def _run(self, args: list[object], user: pwd.struct_passwd | None) -> None:
        """Run a server tool, as `user` when given; its output goes into the error if it fails."""
        as_user: dict[str, object] = {}
        if user is not None:
            as_user = {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}
        with tempfile.TemporaryFile("w+") as output:  # pipes could be inherited by postgres
            result = subprocess.run(  # type: ignore[call-overload]
                [str(a) for a in args],
                stdout=output,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd="/",
                env=_clean_env(),
                start_new_session=True,
                check=False,
                **as_user,
            )
            output.seek(0)
            if result.returncode != 0:
                log = self.data_dir / "server.log"
                tail = log.read_text()[-2000:] if log.exists() else ""
                raise EmbeddedPostgresError(
                    f"{Path(str(args[0])).name} failed ({result.returncode}): "
                    f"{output.read().strip()}\n{tail}"
                )

    @contextmanager
    def _lock(self) -> Iterator[None]:
        self.home.mkdir(parents=True, exist_ok=True)
        with open(self.home / "postgres.lock", "w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)


def _server_user() -> pwd.struct_passwd | None:
    """None when not root; else the unprivileged user the cluster runs as."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(SERVER_USER)
    except KeyError:
        pass
    created = subprocess.run(
        ["useradd", "--system", "--user-group", "--no-create-home", "--home-dir", "/nonexistent",
         "--shell", "/usr/sbin/nologin", SERVER_USER],
        capture_output=True, check=False,
    )  # fmt: skip
    return pwd.getpwnam(SERVER_USER if created.returncode == 0 else "nobody")


def _make_reachable(path: Path) -> None:
    """Give every parent of `path` the search bit for others (not read: listing stays closed)."""
    for parent in path.parents:
        mode = parent.stat().st_mode
        if not mode & stat.S_IXOTH:
            parent.chmod(mode | stat.S_IXOTH)


def _own(data_dir: Path, user: pwd.struct_passwd) -> None:
    """Hand the data directory to the server user (once; initdb wants it owned and 0700)."""
    if data_dir.stat().st_uid == user.pw_uid:
        return
    for root, dirs, files in os.walk(data_dir):
        for name in [root, *(os.path.join(root, n) for n in dirs + files)]:
            os.chown(name, user.pw_uid, user.pw_gid)


def _is_postgres(pid: str) -> bool:
    """Whether process `pid` is alive and (where /proc tells) a postgres, not a reused pid."""
    try:
        os.kill(int(pid), 0)
    except (ValueError, ProcessLookupError):
        return False
    except PermissionError:
        pass  # alive, owned by the server user
    comm = Path(f"/proc/{pid}/comm")
    return not comm.exists() or comm.read_text().strip() in ("postgres", "postmaster")


def _clean_env() -> dict[str, str]:
    """The environment without PG* variables, which would redirect the tools elsewhere."""
    return {k: v for k, v in os.environ.items() if not k.startswith("PG")} | {"LC_ALL": "C"}
