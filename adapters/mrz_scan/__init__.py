"""Reading the machine-readable zone of a passport or identity card from a scan or photo.

`read_mrz(image)` finds the zone (deskew, text lines, bands of two or three like lines), has
Tesseract (Debian's `tesseract-ocr`, `eng` model, through `pytesseract`) read each band with the
MRZ alphabet only, turning it upside down when the first reading fails, and keeps the reading
whose check digits pass (`domain.identity.mrz`). A scan without a readable zone gives a result
with `found=False` and a reason, never an exception. It is CPU-bound and blocking: the API calls
it in a thread (`asyncio.to_thread`); `deadline` bounds the whole reading. Nothing it reads is
logged.
"""

from adapters.mrz_scan.scan import MrzScan, TesseractUnavailable, read_mrz

__all__ = ["MrzScan", "TesseractUnavailable", "read_mrz"]
