"""The worker and certificate metrics behind issue 18's alerts: a worker process says which
task queues it polls while it runs and stops saying so once it shut down; the certificates a
process is given set their expiry (the earliest in a bundle), and a file that is not one sets
nothing."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from prometheus_client import REGISTRY

from adapters.cert_expiry import earliest_expiry, record_certificate_expiry
from adapters.settings import Settings
from workers.root import WorkerRoot


def sample(name: str, **labels: str) -> float | None:
    return REGISTRY.get_sample_value(name, labels)


class FakeWorker:
    """What WorkerRoot uses of a Temporal worker: its queue, run and shutdown."""

    def __init__(self, task_queue: str) -> None:
        self.task_queue = task_queue
        self._stopped = asyncio.Event()

    async def run(self) -> None:
        await self._stopped.wait()

    async def shutdown(self) -> None:
        self._stopped.set()


async def test_a_worker_reports_the_queues_it_polls_while_it_runs() -> None:
    workers = [FakeWorker("probe-state-PL"), FakeWorker("probe-cases")]
    root = WorkerRoot(
        pool=cast(Any, None), vault=cast(Any, None), workers=cast(Any, workers), loops=[]
    )
    async with root.running():
        await asyncio.sleep(0)
        assert sample("readmit_worker_polling", task_queue="probe-state-PL") == 1
        assert sample("readmit_worker_polling", task_queue="probe-cases") == 1
    assert sample("readmit_worker_polling", task_queue="probe-state-PL") == 0
    assert sample("readmit_worker_polling", task_queue="probe-cases") == 0


def certificate(not_after: datetime) -> bytes:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "readmit-test")])
    built = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_after - timedelta(days=365))
        .not_valid_after(not_after)
        .sign(key, hashes.SHA256())
    )
    return built.public_bytes(serialization.Encoding.PEM)


def test_certificates_set_their_expiry(tmp_path: Path) -> None:
    soon = datetime(2027, 3, 1, 12, tzinfo=UTC)
    later = soon + timedelta(days=90)
    bundle = tmp_path / "ca.pem"
    bundle.write_bytes(certificate(later) + certificate(soon))  # the earliest counts
    client = tmp_path / "client.pem"
    client.write_bytes(certificate(later))
    (tmp_path / "client.key").write_text("not read here")
    settings = Settings(
        _env_file=None,
        temporal_tls_server_ca=bundle,
        temporal_tls_client_cert=client,
        temporal_tls_client_key=tmp_path / "client.key",
    )
    found = record_certificate_expiry(settings)
    assert found == {"temporal_tls_server_ca": soon, "temporal_tls_client_cert": later}
    metric = "readmit_certificate_expiry_timestamp_seconds"
    assert sample(metric, certificate="temporal_tls_server_ca") == soon.timestamp()
    assert sample(metric, certificate="temporal_tls_client_cert") == later.timestamp()


def test_what_is_not_a_certificate_sets_nothing(tmp_path: Path) -> None:
    assert earliest_expiry(b"-----BEGIN NOTHING-----\n") is None
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a certificate")
    missing = tmp_path / "missing.pem"
    settings = Settings(
        _env_file=None, temporal_tls_server_ca=garbage, temporal_tls_client_cert=missing
    )
    assert record_certificate_expiry(settings) == {}
    assert record_certificate_expiry(Settings(_env_file=None)) == {}
