"""Benchmarks: `python -m bench [--quick] [NAME ...]` runs every module here that has `run`.

A bench module exposes `async def run(quick: bool) -> dict`; the dict should hold `metrics`, a
list of `{"name", "unit", "value"}` with optional `"baseline"` and `"ratio"` (value/baseline),
which the summary table shows; everything else is kept in `bench/results/<module>.json`.
"""
