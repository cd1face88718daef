"""`read_mrz`: the scan's MRZ band found, read by Tesseract and checked; see the package."""

from __future__ import annotations

import os
import time
from datetime import date

import pytesseract
from PIL import Image
from pydantic import BaseModel, ConfigDict

from adapters.mrz_scan.prepare import (
    Band,
    NotAnImage,
    bands,
    crop_band,
    for_ocr,
    load,
    rotate,
    skew,
)
from adapters.mrz_scan.reading import (
    Reading,
    alternatives,
    fitted,
    parsed,
    passed_digits,
    score,
    voted,
)
from domain.identity.mrz import MrzResult

MAX_BANDS = 3  # the widest candidate bands tried
# (line height in pixels, black and white): the readings tried in turn until one is valid
ATTEMPTS = ((28, False), (36, False), (48, True), (48, False), (32, True))
TESSERACT_CONFIG = (
    "--psm 6 --oem 1 -c tessedit_char_whitelist=ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789< "
    "-c load_system_dawg=0 -c load_freq_dawg=0"
)
VALID_AT_ONCE = 99
NO_MRZ = "no readable MRZ was found in the image"
NOT_AN_IMAGE = "the file is not an image that can be read"
TIMED_OUT = "reading the image took too long"


# Tesseract's OpenMP threads only slow a small image down on a busy machine (its manual
# suggests one thread when several run at once); the child process inherits the setting.
os.environ.setdefault("OMP_THREAD_LIMIT", "1")


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
    clock = _Deadline(deadline)
    try:
        gray = load(image)
    except NotAnImage:
        return MrzScan(found=False, reason=NOT_AN_IMAGE)
    angle = skew(gray)
    upright = rotate(gray, angle)
    best: tuple[Reading, float] | None = None
    read_from: Band | None = None  # the band the best reading so far came from
    for band in bands(upright)[:MAX_BANDS]:
        if read_from and best and passed_digits(best[0].result) >= 2 and _overlap(band, read_from):
            continue  # the same lines again: the zone was found there, only less well
        strip = crop_band(upright, band)
        # which way up: as it is unless turning it over reads more like an MRZ
        first = {0: _ocr(for_ocr(strip, band, *ATTEMPTS[0]), clock.left)}
        if _likeness(first[0], today)[0] < VALID_AT_ONCE:
            if clock.out:
                return _answer(best, TIMED_OUT)
            first[180] = _ocr(for_ocr(strip.rotate(180), band, *ATTEMPTS[0]), clock.left)
        flip = max(first, key=lambda f: _likeness(first[f], today))
        if "<" not in first[flip]:
            continue  # no filler anywhere: not a zone
        turned = strip.rotate(flip) if flip else strip
        candidates: list[tuple[str, ...]] = []
        for attempt, (height, binarise) in enumerate(ATTEMPTS):
            if attempt and clock.out:
                return _answer(best, TIMED_OUT)
            read = (
                first[flip]
                if not attempt
                else _ocr(for_ocr(turned, band, height, binarise), clock.left)
            )
            found = fitted(read)
            candidates += found
            tried = [*found, *voted(candidates), *alternatives(read)]
            for reading in parsed(tried, today):
                if best is None or score(reading) > score(best[0]):
                    best, read_from = (reading, (angle + flip) % 360), band
            if best and best[0].result.valid:
                return _answer(best, NO_MRZ)
    return _answer(best, NO_MRZ)


def _overlap(a: Band, b: Band) -> bool:
    return a.top < b.bottom and b.top < a.bottom


class _Deadline:
    def __init__(self, seconds: float) -> None:
        self.end = time.monotonic() + seconds

    @property
    def left(self) -> float:
        return self.end - time.monotonic()

    @property
    def out(self) -> bool:
        return self.left <= 0.2


def _likeness(text: str, today: date) -> tuple[int, int]:
    """How much a reading looks like an MRZ: check digits passed (`VALID_AT_ONCE` when every
    check passed), then fillers read."""
    readings = parsed(fitted(text), today)
    if any(r.result.valid for r in readings):
        return VALID_AT_ONCE, text.count("<")
    return max((passed_digits(r.result) for r in readings), default=0), text.count("<")


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
