"""Small files for the attachment tests, made by the suite itself: a PNG, a JPEG and a PDF that
real tools read, and files that are none of them."""

from __future__ import annotations

import contextlib
import io
import socket
from collections.abc import Iterator

from fpdf import FPDF
from PIL import Image


def png(seed: int = 0, size: int = 16) -> bytes:
    """A distinct PNG per `seed` (its pixels differ), so hashes differ."""
    image = Image.new("RGB", (size, size), (seed % 256, 80, 160))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def jpeg(seed: int = 0) -> bytes:
    image = Image.new("RGB", (16, 16), (200, seed % 256, 40))
    out = io.BytesIO()
    image.save(out, "JPEG")
    return out.getvalue()


def gif() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8)).save(out, "GIF")
    return out.getvalue()


def pdf(text: str = "Readmission scan") -> bytes:
    document = FPDF()
    document.add_page()
    document.set_font("helvetica", size=12)
    document.cell(text=text)
    return bytes(document.output())


@contextlib.contextmanager
def moto_s3() -> Iterator[str]:
    """A real S3-compatible HTTP server (moto's) on a free local port: its `host:port`."""
    from moto.server import ThreadedMotoServer

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"127.0.0.1:{port}"
    finally:
        server.stop()
