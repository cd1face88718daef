"""MRZ reading by OCR on images the suite renders itself (tests/mrz_specimens.py): straight,
rotated a little or upside down, blurred, scaled down and JPEG-compressed like a phone photo.
Tesseract and the OCR-B font must be installed: these tests fail (never skip) without them."""

from __future__ import annotations

import shutil
from datetime import date
from typing import Any

import mrz_specimens as specimens
import pytest

from adapters.mrz_scan import read_mrz
from adapters.mrz_scan.prepare import bands, load, rotate, skew
from adapters.mrz_scan.reading import fitted

TODAY = date(2026, 12, 8)


def test_tesseract_and_the_font_are_installed() -> None:
    assert shutil.which("tesseract"), "install the Debian package tesseract-ocr"
    assert specimens.OCR_B.exists(), "install the Debian package fonts-ocr-b"


def test_the_specimens_have_valid_check_digits() -> None:
    from domain.identity.mrz import parse_mrz

    for zone in (
        specimens.TD3_ICAO,
        specimens.TD1_ICAO,
        specimens.TD3_UKRAINE,
        specimens.TD1_POLAND,
    ):
        assert parse_mrz(zone, today=TODAY).valid, zone


@pytest.mark.parametrize("angle", [0, -6, 90, 180])
def test_the_band_is_found_on_a_turned_card(angle: float) -> None:
    """Deskew to the nearest level orientation, then a band of two lines as wide as the zone."""
    photo = specimens.phone_photo(specimens.render(specimens.TD3_ICAO), angle=angle, scale=0.6)
    gray = load(photo)
    upright = rotate(gray, skew(gray))
    found = bands(upright)
    assert found, "no band found"
    assert found[0].lines == 2
    assert found[0].right - found[0].left > 0.5 * min(upright.size)
    assert (skew(gray) + angle) % 90 in (0, 0.5, 89.5)


def test_a_short_filler_run_is_lengthened_to_the_shape() -> None:
    text = (
        "P<UTOERIKSSON<<ANNA<MARIA<<<<<K<<<<<<K<<\nL898902C36UTO7408122F1204159ZE184226B<<<<<10\n"
    )
    assert fitted(text)[0] == specimens.TD3_ICAO


@pytest.mark.parametrize(
    ("zone", "photo", "surname"),
    [
        (specimens.TD3_ICAO, {}, "ERIKSSON"),
        (specimens.TD1_ICAO, {"angle": 180, "blur": 0.8, "scale": 0.7, "jpeg": 75}, "ERIKSSON"),
        (specimens.TD3_UKRAINE, {"angle": -7, "blur": 1.2, "scale": 0.5, "jpeg": 60}, "SHEVCHENKO"),
        (specimens.TD1_POLAND, {"angle": 3, "blur": 1.5, "scale": 0.45, "jpeg": 65}, "KOWALSKA"),
    ],
    ids=["td3-straight", "td1-upside-down-jpeg", "td3-tilted-blurred", "td1-tilted-small"],
)
def test_a_photographed_zone_is_read_and_checked(
    zone: tuple[str, ...], photo: dict[str, Any], surname: str
) -> None:
    scan = read_mrz(specimens.phone_photo(specimens.render(zone), **photo), today=TODAY)
    assert scan.found, scan.reason
    assert scan.result is not None and scan.result.valid, scan.result and scan.result.failed
    assert scan.result.fields.surname == surname
    # the lines the check digits cover are read exactly; names are offered for confirmation
    protected = zone[:2] if len(zone) == 3 else zone[1:]
    assert scan.lines[: len(protected)] == protected or scan.lines[1:] == protected
    assert "document_number" in scan.passed_check_digits


def test_the_icao_passport_fields() -> None:
    scan = read_mrz(specimens.phone_photo(specimens.render(specimens.TD3_ICAO)), today=TODAY)
    assert scan.result is not None
    fields = scan.result.fields
    assert (fields.document_code, fields.issuing_state, fields.document_number) == (
        "P",
        "UTO",
        "L898902C3",
    )
    assert fields.given_names.startswith("ANNA")
    assert (fields.surname, fields.nationality, fields.sex) == ("ERIKSSON", "UTO", "F")
    assert fields.birth_date == date(1974, 8, 12)
    assert fields.expiry_date == date(2012, 4, 15)


@pytest.mark.parametrize(
    "image",
    [specimens.blank(), specimens.random_photo(), b"not an image at all"],
    ids=["blank", "random-photo", "garbage"],
)
def test_no_readable_mrz_is_a_result_not_an_exception(image: bytes) -> None:
    scan = read_mrz(image, today=TODAY)
    assert not scan.found
    assert scan.reason
    assert scan.result is None


def test_the_deadline_bounds_the_reading() -> None:
    photo = specimens.phone_photo(specimens.render(specimens.TD3_ICAO))
    scan = read_mrz(photo, today=TODAY, deadline=0.0)
    assert not scan.found
    assert scan.reason == "reading the image took too long"


def test_an_image_of_too_many_pixels_is_not_decoded() -> None:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("1", (10_000, 6_000)).save(out, "PNG")  # 60 megapixels in a few kilobytes
    scan = read_mrz(out.getvalue(), today=TODAY)
    assert not scan.found
    assert scan.reason == "the file is not an image that can be read"
