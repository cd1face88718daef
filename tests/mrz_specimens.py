"""Passport and identity card images the suite renders itself, to test MRZ reading by OCR.

The zones are ICAO Doc 9303's specimens (parts 4 and 5) and two made-up Ukrainian and Polish
documents with correct check digits, drawn in OCR-B (Debian's `fonts-ocr-b`) on a card with
other printed text and noise; `phone_photo` then rotates, blurs, scales down and JPEG-compresses
it the way a hand-held phone photo does. A missing font fails loudly: OCR tests never skip.
"""

from __future__ import annotations

import io
import random
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter, ImageFont

from domain.identity.mrz import check_digit

OCR_B = Path("/usr/share/fonts/opentype/ocr-b/OCRB.otf")

TD3_ICAO = (
    "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
    "L898902C36UTO7408122F1204159ZE184226B<<<<<10",
)
TD1_ICAO = (
    "I<UTOD231458907<<<<<<<<<<<<<<<",
    "7408122F1204159UTO<<<<<<<<<<<6",
    "ERIKSSON<<ANNA<MARIA<<<<<<<<<<",
)


def _digit(data: str) -> str:
    return str(check_digit(data))


def td3(code: str, state: str, name: str, number: str, nat: str, birth: str, sex: str,
        expiry: str, personal: str = "") -> tuple[str, str]:  # fmt: skip
    """A TD3 (passport) zone with every check digit computed."""
    line1 = f"{code:<<2}{state}{name}".ljust(44, "<")[:44]
    num = number.ljust(9, "<")
    pers = personal.ljust(14, "<")
    head = f"{num}{_digit(num)}{nat}{birth}{_digit(birth)}{sex}{expiry}{_digit(expiry)}"
    body = f"{head}{pers}{_digit(pers)}"
    composite = body[0:10] + body[13:20] + body[21:43]
    return line1, body + _digit(composite)


def td1(code: str, state: str, number: str, birth: str, sex: str, expiry: str, nat: str,
        name: str, optional: str = "") -> tuple[str, str, str]:  # fmt: skip
    """A TD1 (identity card) zone with every check digit computed (numbers of up to 9)."""
    num = number.ljust(9, "<")
    line1 = f"{code:<<2}{state}{num}{_digit(num)}{optional}".ljust(30, "<")
    line2 = f"{birth}{_digit(birth)}{sex}{expiry}{_digit(expiry)}{nat}".ljust(29, "<")
    composite = line1[5:30] + line2[0:7] + line2[8:15] + line2[18:29]
    return line1, line2 + _digit(composite), name.ljust(30, "<")[:30]


TD3_UKRAINE = td3("P", "UKR", "SHEVCHENKO<<OLEKSANDR", "FA123456", "UKR", "900517", "M", "310101")
TD1_POLAND = td1("ID", "POL", "ABA300000", "851224", "F", "300615", "POL", "KOWALSKA<<ANNA")


def ocr_b(size: int) -> ImageFont.FreeTypeFont:
    """OCR-B, the MRZ's typeface; its absence fails the test (never a silent skip)."""
    if not OCR_B.exists():
        raise AssertionError(f"{OCR_B} is missing: install the Debian package fonts-ocr-b")
    return ImageFont.truetype(str(OCR_B), size)


def _text_font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size)


def render(zone: tuple[str, ...], *, seed: int = 17) -> Image.Image:
    """The data page of a card: a header, printed labels and values, a photo box, noise,
    and the MRZ in OCR-B along the bottom (about 300 dpi: 10 characters per 25 mm)."""
    ocr = ocr_b(44)  # about 2.5 mm per character at 300 dpi
    width = round(max(ocr.getlength(line) for line in zone))
    card = Image.new("RGB", (max(width + 120, 1000), 430 + 56 * len(zone)), (236, 232, 222))
    draw = ImageDraw.Draw(card)
    rng = random.Random(seed)
    for _ in range(1500):  # the guilloche and dust of a real card
        x, y = rng.randrange(card.width), rng.randrange(card.height)
        shade = rng.randrange(170, 235)
        draw.point((x, y), fill=(shade, shade - 10, shade - 25))
    header, label = _text_font(34), _text_font(20)
    draw.text((60, 30), "PASSPORT / PASSEPORT / UTOPIA", font=header, fill=(40, 50, 110))
    draw.rectangle((60, 100, 300, 380), outline=(90, 90, 90), width=3, fill=(200, 200, 205))
    rows = ("Surname / Nom", "Given names / Prenoms", "Nationality", "Date of birth", "Sex")
    for i, text in enumerate(rows):
        draw.text((340, 100 + i * 56), text, font=label, fill=(90, 90, 120))
        draw.text((340, 124 + i * 56), f"SPECIMEN {i + 1}", font=label, fill=(20, 20, 20))
    top = 410
    for i, line in enumerate(zone):
        draw.text((60, top + i * 56), line, font=ocr, fill=(15, 15, 15))
    return card


def phone_photo(
    card: Image.Image, *, angle: float = 0.0, blur: float = 0.0, scale: float = 1.0,
    jpeg: int | None = None,
) -> bytes:  # fmt: skip
    """The card photographed: on a table, rotated by `angle` degrees, blurred, scaled and
    compressed; PNG unless `jpeg` (a quality) is given."""
    table = Image.new("RGB", (card.width + 200, card.height + 200), (110, 84, 60))
    table.paste(card, (100, 100))
    image = table.rotate(angle, resample=Image.Resampling.BICUBIC, expand=True,
                         fillcolor=(110, 84, 60))  # fmt: skip
    if blur:
        image = image.filter(ImageFilter.GaussianBlur(blur))
    if scale != 1.0:
        size = (round(image.width * scale), round(image.height * scale))
        image = image.resize(size, Image.Resampling.LANCZOS)
    out = io.BytesIO()
    if jpeg is not None:
        image.save(out, "JPEG", quality=jpeg)
    else:
        image.save(out, "PNG")
    return out.getvalue()


def blank(width: int = 900, height: int = 600) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (250, 250, 250)).save(out, "PNG")
    return out.getvalue()


def random_photo(seed: int = 5, width: int = 800, height: int = 600) -> bytes:
    """Coloured shapes and text but no MRZ: what a wrong upload looks like."""
    rng = random.Random(seed)
    image = Image.new("RGB", (width, height), (120, 160, 200))
    draw = ImageDraw.Draw(image)
    for _ in range(40):
        x, y = rng.randrange(width), rng.randrange(height)
        colour = (rng.randrange(256), rng.randrange(256), rng.randrange(256))
        draw.ellipse((x, y, x + rng.randrange(20, 200), y + rng.randrange(20, 200)), fill=colour)
    draw.text((40, 40), "Holiday 2025", font=_text_font(40), fill=(0, 0, 0))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()
