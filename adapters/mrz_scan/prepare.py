"""Image preparation for MRZ reading, with Pillow alone: grayscale, an ink map, the skew, the
text lines and the candidate bands of two or three lines where a machine-readable zone may be.

The ink map is a black-hat: a pixel is ink when it is clearly darker than its blurred
neighbourhood, so dark print counts and a dark table around the card does not. The skew is the
angle whose horizontal projection of the ink is the most sharply peaked (text lines level).
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image, ImageChops, ImageFilter, ImageOps

WORK_SIDE = 900  # the longest side of the image the layout is analysed on
MAX_SIDE = 2400  # larger scans are scaled down before anything else
MAX_PIXELS = 50_000_000  # a phone's photo has 12-50 megapixels; more is a decompression bomb
SMALL_ANGLES = tuple(a / 2 for a in range(-20, 21))  # -10°..10° in half degrees


class NotAnImage(ValueError):
    """The bytes are not an image Pillow can decode."""


@dataclass(frozen=True)
class Band:
    """A horizontal strip of an upright image (pixel rows and columns) holding text lines."""

    top: int
    bottom: int
    left: int
    right: int
    lines: int


def load(data: bytes) -> Image.Image:
    """The image upright per its EXIF orientation, grayscale, at most `MAX_SIDE` pixels."""
    try:
        image = Image.open(io.BytesIO(data))
        if image.width * image.height > MAX_PIXELS:  # checked before decoding a single pixel
            raise NotAnImage(f"more than {MAX_PIXELS} pixels")
        image.load()
    except (OSError, ValueError, Image.DecompressionBombError) as error:
        raise NotAnImage(str(error)) from None
    gray = ImageOps.exif_transpose(image).convert("L")
    if max(gray.size) > MAX_SIDE:
        gray.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
    return gray


def ink(gray: Image.Image, radius: float) -> Image.Image:
    """White where the image is clearly darker than its surroundings (print), black elsewhere."""
    background = gray.filter(ImageFilter.GaussianBlur(radius))
    return ImageChops.subtract(background, gray).point(lambda v: 255 if v > 18 else 0)


def _levels(image: Image.Image) -> list[int]:
    """The pixel values of a one-band image, row by row."""
    return [v for v in image.get_flattened_data() if isinstance(v, int)]


def _row_profile(mask: Image.Image) -> list[int]:
    return _levels(mask.resize((1, mask.height), Image.Resampling.BOX))


def _peakedness(mask: Image.Image, angle: float) -> float:
    rows = _row_profile(mask.rotate(angle, resample=Image.Resampling.NEAREST, expand=True))
    mean = sum(rows) / len(rows)
    return sum((r - mean) ** 2 for r in rows) / len(rows)


def skew(gray: Image.Image) -> float:
    """The rotation (degrees, counter-clockwise, multiple of 90 plus a small angle) that makes
    the text lines horizontal; which way up they read is left to OCR."""
    small = gray.copy()
    small.thumbnail((WORK_SIDE // 2, WORK_SIDE // 2))
    mask = ink(small, 4)
    best = max(
        ((base + a) for base in (0, 90) for a in SMALL_ANGLES),
        key=lambda angle: _peakedness(mask, angle),
    )
    return best


def rotate(gray: Image.Image, angle: float) -> Image.Image:
    if angle % 360 == 0:
        return gray
    return gray.rotate(angle, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=255)


def bands(upright: Image.Image) -> list[Band]:
    """Groups of two or three adjacent text lines of like height and extent, widest first."""
    scale = min(1.0, WORK_SIDE / max(upright.size))
    small = upright.resize(
        (max(1, round(upright.width * scale)), max(1, round(upright.height * scale)))
    )
    mask = ink(small, 6)
    lines = _lines(mask)
    found: list[Band] = []
    for count in (2, 3):
        for i in range(len(lines) - count + 1):
            group = lines[i : i + count]
            if _alike(group):
                top, bottom = group[0][0], group[-1][1]
                left, right = min(g[2] for g in group), max(g[3] for g in group)
                top, bottom, left, right = (round(v / scale) for v in (top, bottom, left, right))
                found.append(Band(top, bottom, left, right, count))
    return sorted(found, key=lambda b: (b.left - b.right, -b.lines))


Line = tuple[int, int, int, int]  # top, bottom, left, right


def _lines(mask: Image.Image) -> list[Line]:
    rows = _row_profile(mask)
    threshold = max(4, max(rows, default=0) * 0.12)
    lines: list[Line] = []
    start: int | None = None
    for y, value in enumerate([*rows, 0]):
        if value > threshold and start is None:
            start = y
        elif value <= threshold and start is not None:
            if y - start >= 4:
                extent = _extent(mask.crop((0, start, mask.width, y)))
                if extent:
                    lines.append((start, y, *extent))
            start = None
    return lines


def _extent(strip: Image.Image) -> tuple[int, int] | None:
    """The columns of a line's text: the run of ink columns (gaps under a line's height
    bridged) with the most ink, so a card's edge or a stray mark beside the line is left out."""
    columns = _levels(strip.resize((strip.width, 1), Image.Resampling.BOX))
    runs: list[list[int]] = []  # [first, last, ink columns]
    for x, value in enumerate(columns):
        if value < 8:
            continue
        if runs and x - runs[-1][1] <= strip.height:
            runs[-1][1], runs[-1][2] = x, runs[-1][2] + 1
        else:
            runs.append([x, x, 1])
    if not runs:
        return None
    first, last, _ = max(runs, key=lambda run: run[2])
    return first, last + 1


def _alike(group: list[Line]) -> bool:
    """Same height within a third, gaps under a line's height, lines as long as each other."""
    heights = [b - t for t, b, _, _ in group]
    widths = [r - left for _, _, left, r in group]
    gaps = [group[i + 1][0] - group[i][1] for i in range(len(group) - 1)]
    return (
        max(heights) <= 1.4 * min(heights)
        and all(g <= 1.2 * max(heights) for g in gaps)
        and max(widths) <= 1.25 * min(widths)
        and min(widths) >= 8 * max(heights)
    )


def crop_band(upright: Image.Image, band: Band) -> Image.Image:
    """The band with a margin, its contrast stretched."""
    height = (band.bottom - band.top) / band.lines
    margin = round(height * 0.6)
    box = (
        max(0, band.left - margin),
        max(0, band.top - margin),
        min(upright.width, band.right + margin),
        min(upright.height, band.bottom + margin),
    )
    return ImageOps.autocontrast(upright.crop(box), cutoff=1)


def for_ocr(strip: Image.Image, band: Band, line_height: int, binarise: bool) -> Image.Image:
    """The strip scaled so a line is `line_height` pixels high, optionally black and white:
    Tesseract errs differently at each size, so several readings can be compared."""
    factor = line_height * band.lines / max(band.bottom - band.top, 1)
    size = (max(1, round(strip.width * factor)), max(1, round(strip.height * factor)))
    scaled = strip.resize(size, Image.Resampling.LANCZOS)
    return scaled.point(lambda v: 255 if v > 128 else 0) if binarise else scaled
