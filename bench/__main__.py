"""Run the bench modules, print one summary table, and write each result to bench/results/."""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import pkgutil
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg

from adapters import aio
from adapters.db.pool import connect
from adapters.settings import ConfigurationError, get_settings
from bench.machine import machine_info

BENCH_DIR = Path(__file__).parent
RESULTS_DIR = BENCH_DIR / "results"
NOT_BENCHES = {"machine"}


def bench_modules(selected: list[str]) -> list[str]:
    """Names of the modules in bench/ that define `run`, optionally only those `selected`."""
    names = [
        info.name
        for info in pkgutil.iter_modules([str(BENCH_DIR)])
        if not info.name.startswith("_") and info.name not in NOT_BENCHES
    ]
    unknown = set(selected) - set(names)
    if unknown:
        raise SystemExit(f"bench: no such bench module: {', '.join(sorted(unknown))}")
    return sorted(n for n in names if not selected or n in selected)


def format_number(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:,.2f}" if abs(value) < 10 else f"{value:,.0f}"


def print_table(rows: list[tuple[str, dict[str, Any]]]) -> None:
    header = ("bench", "metric", "value", "baseline", "ratio", "unit")
    lines = [header] + [
        (
            module,
            str(m.get("name", "?")),
            format_number(m.get("value")),
            format_number(m.get("baseline")),
            "-" if m.get("ratio") is None else f"{m['ratio']:.2f}",
            str(m.get("unit", "")),
        )
        for module, m in rows
    ]
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    for index, line in enumerate(lines):
        cells = [
            cell.ljust(w) if i < 2 or i == 5 else cell.rjust(w)
            for i, (cell, w) in enumerate(zip(line, widths, strict=True))
        ]
        print("  ".join(cells).rstrip())
        if index == 0:
            print("  ".join("-" * w for w in widths))


SETTLE_SECONDS = 5.0


async def settle() -> None:
    """Before each bench, let the previous one's background work end: PostgreSQL writes its
    dirty pages now (CHECKPOINT, where the role may) instead of during the next measurement,
    then a short pause. A bench's own baseline and value are then measured on the same quiet
    machine, whichever bench ran before."""
    try:
        conn = await connect(get_settings().dsn())
    except (OSError, asyncpg.PostgresError, ConfigurationError):
        conn = None  # no database yet: nothing to settle
    if conn is not None:
        try:
            await conn.execute("CHECKPOINT")
        except asyncpg.InsufficientPrivilegeError:
            pass
        finally:
            await conn.close()
    await asyncio.sleep(SETTLE_SECONDS)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller sizes, one round")
    parser.add_argument("names", nargs="*", help="bench modules to run (default: all)")
    args = parser.parse_args(argv)
    RESULTS_DIR.mkdir(exist_ok=True)
    rows: list[tuple[str, dict[str, Any]]] = []
    failed = []
    for name in bench_modules(args.names):
        module = importlib.import_module(f"bench.{name}")
        if not hasattr(module, "run"):
            continue
        aio.run(settle())
        print(f"bench: running {name}{' (quick)' if args.quick else ''} ...", flush=True)
        started = time.perf_counter()
        try:
            result = aio.run(module.run(args.quick))
        except Exception as error:  # one broken bench must not hide the others' numbers
            print(f"bench: {name} failed: {type(error).__name__}: {error}", file=sys.stderr)
            failed.append(name)
            continue
        record = {
            "bench": name,
            "finished_at": datetime.now(UTC).isoformat(),
            "seconds": round(time.perf_counter() - started, 1),
            "quick": args.quick,
            "machine": machine_info(**result.pop("machine", {})),
            **result,
        }
        path = RESULTS_DIR / f"{name}.json"
        path.write_text(json.dumps(record, indent=2, default=str) + "\n")
        print(f"bench: {name} took {record['seconds']} s, wrote {path}", flush=True)
        rows += [(name, metric) for metric in result.get("metrics", [])]
    print()
    print_table(rows)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
