"""The lock files agree with pyproject.toml and pin no release with a known advisory.

`make install`, CI and the image install only from `locks/*.txt` (`pip install --require-hashes`),
so a dependency added to pyproject.toml without `make lock` would be missing at install time, and
a floor raised past an advisory would change nothing while the lock still pins the old release.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
HINT = "run `make lock` and commit locks/"

# Each lock file and the extras it must cover (see the Makefile's `lock` target).
LOCKS = {
    "runtime.txt": ("tracing",),  # the image
    "run.txt": ("dev", "embedded"),  # make run
    "test.txt": ("test", "dev", "embedded", "tracing"),  # make install / make test / CI
}


@dataclass(frozen=True)
class Advisory:
    """Releases of `package` from `introduced` (None: every earlier one) up to `fixed`."""

    package: str
    introduced: str | None
    fixed: str
    ids: str
    what: str

    def affects(self, version: Version) -> bool:
        low = self.introduced is None or version >= Version(self.introduced)
        return low and version < Version(self.fixed)


# Published advisories of packages the project installs, directly or through another package.
ADVISORIES = (
    Advisory("python-multipart", None, "0.0.7", "CVE-2024-24762", "ReDoS in Content-Type"),
    Advisory("python-multipart", None, "0.0.18", "CVE-2024-53981", "DoS by boundary padding"),
    Advisory("starlette", None, "0.40.0", "CVE-2024-47874", "form fields without a size limit"),
    Advisory("starlette", None, "0.47.2", "CVE-2025-54121", "large uploads block the loop"),
    Advisory("starlette", None, "0.49.1", "CVE-2025-62727", "ReDoS in the Range header"),
    Advisory("fastapi", None, "0.109.1", "CVE-2024-24762", "ReDoS in Content-Type"),
    Advisory("pyjwt", None, "2.4.0", "CVE-2022-29217", "algorithm confusion"),
    Advisory("pyjwt", "2.10.0", "2.10.1", "CVE-2024-53861", "`iss` matched as a substring"),
    Advisory("jinja2", None, "3.1.3", "CVE-2024-22195", "attribute injection in xmlattr"),
    Advisory("jinja2", None, "3.1.4", "CVE-2024-34064", "attribute injection in xmlattr"),
    Advisory("jinja2", None, "3.1.5", "CVE-2024-56201, CVE-2024-56326", "sandbox escapes"),
    Advisory("jinja2", None, "3.1.6", "CVE-2025-27516", "sandbox escape through |attr"),
    Advisory("cryptography", None, "42.0.0", "CVE-2023-50782", "Bleichenbacher timing oracle"),
    Advisory("cryptography", None, "42.0.4", "CVE-2024-26130", "NULL dereference in PKCS#12"),
    Advisory("cryptography", None, "43.0.1", "GHSA-h4gh-qq45-vh27", "OpenSSL in the wheels"),
    Advisory("cryptography", "42.0.0", "44.0.1", "CVE-2024-12797", "OpenSSL in the wheels"),
    Advisory("h11", None, "0.16.0", "CVE-2025-43859", "request smuggling (chunked bodies)"),
    Advisory("httpx", None, "0.23.0", "CVE-2021-41945", "URL parsing"),
    Advisory("aiosmtpd", None, "1.4.5", "CVE-2024-27305", "SMTP smuggling"),
    Advisory("aiosmtpd", None, "1.4.6", "CVE-2024-34083", "command injection after STARTTLS"),
    Advisory("setuptools", None, "70.0.0", "CVE-2024-6345", "code injection in package_index"),
    Advisory("setuptools", None, "78.1.1", "CVE-2025-47273", "path traversal in PackageIndex"),
    Advisory("requests", None, "2.32.0", "CVE-2024-35195", "verify=False sticks to a session"),
    Advisory("requests", None, "2.32.4", "CVE-2024-47081", ".netrc credentials leak"),
    Advisory("urllib3", None, "2.5.0", "CVE-2025-50181", "redirects despite retries=0"),
    Advisory("certifi", None, "2024.7.4", "CVE-2024-39689", "distrusted GLOBALTRUST roots"),
    Advisory("idna", None, "3.7", "CVE-2024-3651", "quadratic time in encode"),
    Advisory("protobuf", None, "4.25.8", "CVE-2025-4565", "unbounded recursion"),
    Advisory("protobuf", "5.0.0", "5.29.5", "CVE-2025-4565", "unbounded recursion"),
    Advisory("protobuf", "6.0.0", "6.31.1", "CVE-2025-4565", "unbounded recursion"),
    Advisory("werkzeug", None, "3.0.6", "CVE-2024-49767", "multipart memory exhaustion"),
    Advisory("zipp", None, "3.19.1", "CVE-2024-5569", "infinite loop on crafted zips"),
    Advisory("pygments", None, "2.15.0", "CVE-2022-40896", "ReDoS in lexers"),
    Advisory("pydantic", None, "2.4.0", "CVE-2024-3772", "ReDoS in e-mail validation"),
    Advisory("pyyaml", None, "5.4", "CVE-2020-14343", "code execution in full_load"),
    Advisory("babel", None, "2.9.1", "CVE-2021-42771", "path traversal in locale names"),
    Advisory("uvicorn", None, "0.11.7", "CVE-2020-7694", "log injection"),
)


@dataclass(frozen=True)
class Pin:
    name: str
    version: Version
    hashes: int


def parse_lock(text: str) -> dict[str, Pin]:
    """`name==version [; marker] --hash=...` entries of a pip requirements file."""
    pins: dict[str, Pin] = {}
    for line in re.sub(r"\\\n", " ", text).splitlines():
        line = line.split("#", 1)[0].strip()
        if not line or line.startswith("-"):
            continue
        match = re.match(r"([A-Za-z0-9._-]+)==(\S+?)\s*(;[^-]*)?((?:\s*--hash=\S+)*)\s*$", line)
        assert match, f"not an exact pin: {line!r}"
        name = canonicalize_name(match[1])
        pins[name] = Pin(name, Version(match[2]), match[4].count("--hash="))
    return pins


def lock(name: str) -> dict[str, Pin]:
    path = ROOT / "locks" / name
    assert path.is_file(), f"locks/{name} is missing; {HINT}"
    return parse_lock(path.read_text(encoding="utf-8"))


def required(extras: tuple[str, ...]) -> list[Requirement]:
    """The project's own requirements with these extras, self-references (`readmit[x]`)
    followed, and what builds the project (`pip install --no-build-isolation`)."""
    project = PYPROJECT["project"]
    found = [Requirement(r) for r in project["dependencies"]]
    found += [Requirement(r) for r in PYPROJECT["build-system"]["requires"]]
    wanted, seen = list(extras), set()
    while wanted:
        extra = wanted.pop()
        if extra in seen:
            continue
        seen.add(extra)
        for text in project["optional-dependencies"][extra]:
            requirement = Requirement(text)
            if canonicalize_name(requirement.name) == canonicalize_name(project["name"]):
                wanted.extend(requirement.extras)
            else:
                found.append(requirement)
    return found


def floor(requirement: Requirement) -> Version | None:
    """The lowest release a requirement admits, if it names one (>=, ==, ~=, >)."""
    floors = [Version(s.version) for s in requirement.specifier if s.operator in (">=", "==", "~=")]
    return max(floors) if floors else None


def problems_between(extras: tuple[str, ...], pins: dict[str, Pin]) -> list[str]:
    problems = []
    for requirement in required(extras):
        pin = pins.get(canonicalize_name(requirement.name))
        if pin is None:
            problems.append(f"{requirement} is not in the lock")
        elif not requirement.specifier.contains(pin.version, prereleases=True):
            problems.append(f"{requirement} but the lock pins {pin.version}")
    return problems


@pytest.mark.parametrize("name", sorted(LOCKS))
def test_the_lock_pins_every_dependency_at_or_above_its_floor(name: str) -> None:
    problems = problems_between(LOCKS[name], lock(name))
    assert not problems, f"locks/{name} disagrees with pyproject.toml: {problems}; {HINT}"


@pytest.mark.parametrize("name", sorted(LOCKS))
def test_every_pin_carries_its_hashes(name: str) -> None:
    unhashed = sorted(p.name for p in lock(name).values() if not p.hashes)
    assert not unhashed, f"locks/{name} pins without --hash: {unhashed}; {HINT}"


def test_the_smaller_locks_pin_what_the_test_lock_pins() -> None:
    """What the tests ran against is what the image and `make run` install."""
    full = lock("test.txt")
    for name in ("runtime.txt", "run.txt"):
        differ = {
            p.name: (str(p.version), str(full[p.name].version) if p.name in full else None)
            for p in lock(name).values()
            if p.name not in full or full[p.name].version != p.version
        }
        assert not differ, f"locks/{name} and locks/test.txt differ (it, test): {differ}; {HINT}"


@pytest.mark.parametrize("name", sorted(LOCKS))
def test_no_pinned_release_has_a_known_advisory(name: str) -> None:
    pins = lock(name)
    hits = [
        f"{a.package}=={pins[a.package].version}: {a.ids} ({a.what}), fixed in {a.fixed}"
        for a in ADVISORIES
        if a.package in pins and a.affects(pins[a.package].version)
    ]
    assert not hits, f"locks/{name} pins vulnerable releases: {hits}; raise the floor, {HINT}"


def admitted(requirement: Requirement) -> list[str]:
    """The advisories whose affected releases the requirement's floor lets in."""
    name = canonicalize_name(requirement.name)
    lowest = floor(requirement)
    return [
        f"{requirement} admits {a.ids} (fixed in {a.fixed})"
        for a in ADVISORIES
        if a.package == name and (lowest is None or lowest < Version(a.fixed))
    ]


def test_no_floor_admits_a_release_with_a_known_advisory() -> None:
    """pyproject.toml's floors are what others installing Readmit get: past every advisory."""
    found = [hit for r in required(("test", "dev", "embedded", "tracing")) for hit in admitted(r)]
    assert not found, f"raise these floors in pyproject.toml: {found}"


# --- the checks themselves, on made-up locks --------------------------------------------------

MADE_UP = """\
# a comment
pyjwt==2.10.0 \\
    --hash=sha256:00
    # via readmit
uvloop==0.21.0 ; sys_platform != 'win32' \\
    --hash=sha256:11 \\
    --hash=sha256:22
"""


def test_the_checks_catch_a_vulnerable_pin_a_missing_dependency_and_a_low_pin() -> None:
    pins = parse_lock(MADE_UP)
    assert pins["uvloop"] == Pin("uvloop", Version("0.21.0"), 2)
    assert [a.ids for a in ADVISORIES if a.package == "pyjwt" and a.affects(pins["pyjwt"].version)]
    problems = problems_between((), pins)
    assert any(p.startswith("pyjwt[crypto]") and "pins 2.10.0" in p for p in problems)
    assert any(p.startswith("fastapi") and "not in the lock" in p for p in problems)
    assert not any(p.startswith("uvloop") for p in problems)
    # yesterday's floors
    assert floor(Requirement("python-multipart>=0.0.9")) == Version("0.0.9")
    assert admitted(Requirement("python-multipart>=0.0.9"))
    assert any("CVE-2024-53861" in hit for hit in admitted(Requirement("pyjwt[crypto]>=2.8")))
    assert admitted(Requirement("jinja2>=3.1")) and admitted(Requirement("cryptography>=42"))
    assert not admitted(Requirement("pyjwt[crypto]>=2.10.1"))
