"""`read_mrz`: the scan's MRZ band found, read by Tesseract and checked; see the package."""

from __future__ import annotations

import time
from datetime import date

import pytesseract
from PIL import Image
from pydantic import BaseModel, ConfigDict

from adapters.mrz_scan.prepare import NotAnImage, bands, crop_band, for_ocr, load, rotate, skew
from adapters.mrz_scan.reading import Reading, fitted, parsed, passed_digits, score, voted
from domain.identity.mrz import MrzResult

MAX_BANDS = 3  # the widest candidate bands tried
# (line height in pixels, black and white): the readings tried in turn until one is valid
ATTEMPTS = ((28, False), (36, False), (48, True), (48, False), (32, True))
TESSERACT_CONFIG = (
    "--psm 6 --oem 1 -c tessedit_char_whitelist=ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789< "
    "-c load_system_dawg=0 -c load_freq_dawg=0"
)
NO_MRZ = "no readable MRZ was found in the image"
NOT_AN_IMAGE = "the file is not an image that can be read"
TIMED_OUT = "reading the image took too long"


class TesseractUnavailable(RuntimeError):
    """The `tesseract` program is not installed (Debian package `tesseract-ocr`)."""


class MrzScan(BaseModel):
    """What a scan gave: the best reading of its MRZ (valid when every check passed), its
    lines, the angle (degrees, counter-clockwise) that turned the image upright, or why
    nothing was read."""

    model_config = ConfigDict(frozen=True)

    found: bool
    reason: str | None = None
    result: MrzResult | None = None
    lines: tuple[str, ...] = ()
    rotation: float = 0.0

    @property
    def passed_check_digits(self) -> list[str]:
        checks = self.result.checks if self.result else ()
        return [c.name for c in checks if c.kind == "check_digit" and c.ok]


def read_mrz(image: bytes, *, today: date, deadline: float = 15.0) -> MrzScan:
    """The MRZ of a passport or identity card image (PNG, JPEG...), checked; `found=False` with
    a reason when there is none, the image cannot be decoded or `deadline` seconds ran out."""
    started = time.monotonic()
    try:
        gray = load(image)
    except NotAnImage:
        return MrzScan(found=False, reason=NOT_AN_IMAGE)
    angle = skew(gray)
    upright = rotate(gray, angle)
    best: tuple[Reading, float] | None = None
    for band in bands(upright)[:MAX_BANDS]:
        strip = crop_band(upright, band)
        for flip in (0, 180):
            turned = strip.rotate(flip) if flip else strip
            candidates: list[tuple[str, ...]] = []
            for height, binarise in ATTEMPTS:
                remaining = deadline - (time.monotonic() - started)
                if remaining <= 0.2:
                    return _answer(best, TIMED_OUT)
                read = _ocr(for_ocr(turned, band, height, binarise), remaining)
                found = fitted(read)
                readings = [*parsed(found, today), *parsed(voted(candidates + found), today)]
                if not candidates and not any(passed_digits(r.result) for r in readings):
                    break  # nothing like an MRZ this way up: turn it over or move on
                candidates += found
                for reading in readings:
                    if best is None or score(reading) > score(best[0]):
                        best = (reading, (angle + flip) % 360)
                if best and best[0].result.valid:
                    return _answer(best, NO_MRZ)
    return _answer(best, NO_MRZ)


def _ocr(strip: Image.Image, timeout: float) -> str:
    try:
        text: str = pytesseract.image_to_string(
            strip, lang="eng", config=TESSERACT_CONFIG, timeout=timeout
        )
    except pytesseract.TesseractNotFoundError as error:
        raise TesseractUnavailable("install the Debian package tesseract-ocr") from error
    except RuntimeError:  # pytesseract's timeout: the caller's deadline decides what next
        return ""
    return text


def _answer(best: tuple[Reading, float] | None, reason: str) -> MrzScan:
    """A reading counts when at least two of its check digits pass; otherwise nothing."""
    if best is None or passed_digits(best[0].result) < 2:
        return MrzScan(found=False, reason=reason)
    reading, rotation = best
    return MrzScan(found=True, result=reading.result, lines=reading.rows, rotation=rotation)
