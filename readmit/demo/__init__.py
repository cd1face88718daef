"""Synthetic demo data (obviously fake persons and documents) for trying Readmit out.

`registry.csv` holds a registry for UA, MD, PL, RO and DE; load it with
`readmit registry import readmit/demo/registry.csv`.
"""

from __future__ import annotations

from pathlib import Path

REGISTRY_CSV = Path(__file__).parent / "registry.csv"
