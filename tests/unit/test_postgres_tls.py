"""A managed PostgreSQL over verified TLS: the libpq options of a DSN (`sslmode=verify-full`,
`sslrootcert`, `sslcert`/`sslkey`) reach asyncpg's connection attempt through Readmit's own
pool and single connections (adapters/db/pool.py) as an SSL context that checks the server's
certificate against the given CA and its host name. No server is dialled: the attempt is
caught where asyncpg would open the socket."""

from __future__ import annotations

import datetime as dt
import ssl
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from asyncpg import connect_utils
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from adapters.db.pool import connect, create_pool

HOST = "readmit.abc123.eu-central-1.rds.amazonaws.com"


def _certificate(
    name: str, key: ec.EllipticCurvePrivateKey, issuer: str, signer: ec.EllipticCurvePrivateKey
) -> x509.Certificate:
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=name == issuer, path_length=None), critical=True)
    )
    return builder.sign(signer, hashes.SHA256())


@pytest.fixture
def pki(tmp_path: Path) -> dict[str, Path]:
    """A CA (the provider's, e.g. the RDS bundle) and a client certificate it signed."""
    ca_key, client_key = (
        ec.generate_private_key(ec.SECP256R1()),
        ec.generate_private_key(ec.SECP256R1()),
    )
    files = {
        "ca": _certificate("Managed PostgreSQL CA", ca_key, "Managed PostgreSQL CA", ca_key),
        "cert": _certificate("readmit_app", client_key, "Managed PostgreSQL CA", ca_key),
    }
    paths = {}
    for label, certificate in files.items():
        paths[label] = tmp_path / f"{label}.pem"
        paths[label].write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    paths["key"] = tmp_path / "client.key"
    paths["key"].write_bytes(
        client_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    paths["key"].chmod(0o600)
    return paths


class Dialled(Exception):
    pass


@pytest.fixture
def attempts(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """asyncpg's connection parameters at the moment it would open the socket."""
    seen: list[Any] = []

    async def caught(*, params: Any, **_: Any) -> None:
        seen.append(params)
        raise Dialled

    monkeypatch.setattr(connect_utils, "_connect_addr", caught)
    return seen


def dsn(pki: dict[str, Path], **options: str) -> str:
    query = "&".join(f"{name}={quote(value, safe='/')}" for name, value in options.items())
    return f"postgresql://readmit_app:secret@{HOST}:5432/readmit?{query}"


async def test_verify_full_with_a_ca_checks_the_certificate_and_the_host_name(
    pki: dict[str, Path], attempts: list[Any]
) -> None:
    given = dsn(pki, sslmode="verify-full", sslrootcert=str(pki["ca"]))
    for opening in (connect(given, schema="public"), create_pool(given, min_size=1)):
        with pytest.raises(Dialled):
            await opening
    assert len(attempts) == 2
    for params in attempts:
        context = params.ssl
        assert isinstance(context, ssl.SSLContext)
        assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
        subjects = [str(ca["subject"]) for ca in context.get_ca_certs()]
        assert any("Managed PostgreSQL CA" in subject for subject in subjects)
        assert params.sslmode.name == "verify_full"


async def test_a_client_certificate_is_presented(
    pki: dict[str, Path], attempts: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    loaded: list[tuple[str, str | None]] = []
    original = ssl.SSLContext.load_cert_chain

    def load(context: ssl.SSLContext, certfile: Any, keyfile: Any = None, **rest: Any) -> None:
        loaded.append((str(certfile), None if keyfile is None else str(keyfile)))
        original(context, certfile, keyfile, **rest)  # the pair must match, or this raises

    monkeypatch.setattr(ssl.SSLContext, "load_cert_chain", load)
    given = dsn(
        pki,
        sslmode="verify-full",
        sslrootcert=str(pki["ca"]),
        sslcert=str(pki["cert"]),
        sslkey=str(pki["key"]),
    )
    with pytest.raises(Dialled):
        await connect(given)
    [params] = attempts
    assert params.ssl.verify_mode == ssl.CERT_REQUIRED
    assert params.sslmode.name == "verify_full"
    assert loaded == [(str(pki["cert"]), str(pki["key"]))]


async def test_require_encrypts_but_does_not_verify(
    pki: dict[str, Path], attempts: list[Any]
) -> None:
    """Why the guide asks for verify-full: `require` takes any certificate."""
    with pytest.raises(Dialled):
        await connect(dsn(pki, sslmode="require"))
    [params] = attempts
    assert params.ssl.verify_mode == ssl.CERT_NONE and not params.ssl.check_hostname
