"""When the certificates a process was given expire, as a gauge the alert rules watch.

"Where known": the certificates Readmit reads itself are the Temporal connection's (its
server CA bundle and the client certificate of mutual TLS, `READMIT_TEMPORAL_TLS_*`). Each sets
`readmit_certificate_expiry_timestamp_seconds{certificate=<setting>}` to the earliest
`notAfter` in its file, once at start (a new certificate takes a restart, as TLS files do).
A file that is not PEM certificates sets nothing: `adapters.temporal.client.tls_config` has
already refused it with one line. The API's own TLS ends at the operator's terminator, whose
certificate Prometheus's blackbox exporter or the terminator itself reports.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from cryptography import x509

from adapters import metrics
from adapters.settings import Settings


def earliest_expiry(pem: bytes) -> datetime | None:
    """The earliest `notAfter` among the PEM certificates in `pem`; None if there are none."""
    try:
        certificates = x509.load_pem_x509_certificates(pem)
    except ValueError:
        return None
    return min((c.not_valid_after_utc for c in certificates), default=None)


def _files(settings: Settings) -> Iterator[tuple[str, Path]]:
    for name in ("temporal_tls_server_ca", "temporal_tls_client_cert"):
        path = getattr(settings, name)
        if path is not None:
            yield name, Path(path)


def record_certificate_expiry(settings: Settings) -> dict[str, datetime]:
    """Set the gauge for each certificate file the settings name; what was found, by setting."""
    found = {}
    for name, path in _files(settings):
        try:
            expiry = earliest_expiry(path.read_bytes())
        except OSError:
            continue
        if expiry is not None:
            metrics.CERTIFICATE_EXPIRY.labels(name).set(expiry.timestamp())
            found[name] = expiry
    return found
