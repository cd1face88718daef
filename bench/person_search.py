"""Searching for a person among 100,000 indexed persons (quick: 20,000), against the same search
among 1,000 as its baseline.

Two scratch schemas get `cases` rows from the read-model bench's generator and one generated
person per case (Ukrainian names in Cyrillic, a birth date, a passport number), indexed through
the search's own code (`search_tokens` and `BlindIndex`, memoised per distinct name), bulk-copied
into `person_index`, its hash index rebuilt, then VACUUM ANALYZE. The measured call is the API's
search without its HTTP layer and log (`api.person_search.ranked`: the index lookup within the
caller's scope, the scoring, the read-model rows), asked for people who exist, spelt in Latin as
their passports would have them. Value and baseline are the same queries on the large and the
small index; the ratio (baseline / value) says what 100 times more persons cost.
"""

from __future__ import annotations

import random
import time
from datetime import date, timedelta
from functools import cache
from typing import Any

import asyncpg
import translitua

from adapters.db.case_queries import some_case_ids
from adapters.protection.blind_index import BlindIndex, Entry, PersonQuery
from api.person_search import ranked
from bench._support import latency_metrics, schema_pool, scratch_schema
from bench.read_model import fill, timings
from domain.identity import search_tokens as tokens

LOAD_SECONDS = 600.0
BATCH = 10_000  # persons per COPY
INDEX = BlindIndex(bytes(range(7, 39)))


def words(text: str) -> list[str]:
    return text.split()


STEMS_A = words("Ко Ша Бо Пе Мо Ли Гр Ти Ку Ро Са Да Че Ва Бі Жу Ха Ле Ор Сте")
STEMS_B = words("вал бан рон тр сен нч зар мч лік сик рил дор ман бчук тюк щер ган лен рот сл")
SUFFIXES = words("енко ук ський чук ишин ович ак ець")
GIVEN = words(
    "Олександр Андрій Богдан Василь Дмитро Іван Максим Микола Олег Петро Сергій Тарас Юрій"
    " Ярослав Олена Ірина Наталія Оксана Тетяна Юлія Марія Світлана Людмила Галина Катерина"
)
QUERIES = ("surname and date of birth", "document number", "surname and given names")


def person(rng: random.Random) -> tuple[str, str, date, str]:
    surname = rng.choice(STEMS_A) + rng.choice(STEMS_B) + rng.choice(SUFFIXES)
    born = date(1950, 1, 1) + timedelta(days=rng.randrange(365 * 55))
    number = f"{rng.choice('EFKM')}{rng.choice('ABCEHKMOPT')}{rng.randrange(10**6):06d}"
    return surname, rng.choice(GIVEN), born, number


@cache
def surname_entries(surname: str) -> tuple[Entry, ...]:
    return tuple(INDEX.entries(set().union(*tokens.surname_words(surname))))


@cache
def given_entries(given: str) -> tuple[Entry, ...]:
    return tuple(INDEX.entries(set().union(*tokens.given_name_words(given))))


def entries(surname: str, given: str, born: date, number: str) -> list[Entry]:
    """What `BlindIndex.person_entries` gives for the person, its names' hashes memoised."""
    own = {(tokens.Kind.BIRTH_DATE, born.isoformat()), (tokens.Kind.DOCUMENT, number)}
    return [*surname_entries(surname), *given_entries(given), *INDEX.entries(own)]


async def index_persons(pool: asyncpg.Pool, case_ids: list[str], seed: int) -> list[Any]:
    """One generated person per case, indexed; returns the persons (to ask for)."""
    rng = random.Random(seed)
    persons = [person(rng) for _ in case_ids]
    started = time.perf_counter()
    async with pool.acquire() as conn:
        # the hash index dropped for the load and rebuilt from its own (the migration's) definition
        by_hash = await conn.fetchval(
            "SELECT indexdef FROM pg_indexes WHERE schemaname = current_schema()"
            " AND indexname = 'person_index_by_hash'"
        )
        await conn.execute("DROP INDEX person_index_by_hash")
        for first in range(0, len(case_ids), BATCH):
            records = [
                (case_id, e.kind, e.hash)
                for case_id, p in zip(
                    case_ids[first : first + BATCH], persons[first : first + BATCH], strict=True
                )
                for e in entries(*p)
            ]
            await conn.copy_records_to_table(
                "person_index", records=records, columns=("case_id", "kind", "hash")
            )
        await conn.execute("SET maintenance_work_mem = '256MB'")
        await conn.execute(by_hash, timeout=LOAD_SECONDS)
        await conn.execute("VACUUM ANALYZE person_index", timeout=LOAD_SECONDS)
        count = await conn.fetchval("SELECT count(*) FROM person_index")
    took = time.perf_counter() - started
    print(f"  indexed {len(case_ids):,} persons ({count:,} entries) in {took:.1f} s")
    return persons


def query(kind: str, p: tuple[str, str, date, str]) -> PersonQuery:
    surname, given, born, number = p
    latin = translitua.translit(surname)  # as a Ukrainian passport spells it
    if kind == "surname and date of birth":
        return PersonQuery(surname=latin, birth_date=born)
    if kind == "document number":
        return PersonQuery(document_number=number)
    return PersonQuery(surname=latin, given_names=translitua.translit(given))


async def measure_index(persons_count: int, runs: int, seed: int) -> dict[str, list[float]]:
    """Milliseconds of `runs` searches of each kind among `persons_count` indexed persons."""
    async with scratch_schema("bench_ps") as scratch, schema_pool(scratch, size=4) as pool:
        await fill(pool, persons_count)
        case_ids = sorted(await some_case_ids(pool, persons_count))
        persons = await index_persons(pool, case_ids, seed)
        rng = random.Random(seed + 1)
        asked = [rng.choice(persons) for _ in range(runs + 5)]
        found: dict[str, list[float]] = {}
        for kind in QUERIES:

            async def search(i: int, kind: str = kind) -> None:
                items = await ranked(pool, INDEX, ("*",), query(kind, asked[i]).asked(), 20)
                assert items and items[0]["score"] == 1.0, (kind, asked[i])

            found[kind] = await timings(pool, search, runs)
    return found


async def run(quick: bool) -> dict[str, Any]:
    large, runs = (20_000, 100) if quick else (100_000, 300)
    baseline = await measure_index(1_000, runs, seed=5)
    value = await measure_index(large, runs, seed=6)
    metrics: list[dict[str, Any]] = []
    for kind in QUERIES:
        rows = latency_metrics(f"{kind} among {large:,}", value[kind], baseline[kind])
        for row in rows:
            print(f"  {row['name']}: {row['value']:.2f} ms (among 1,000: {row['baseline']:.2f} ms)")
        metrics += rows
    return {"metrics": metrics, "persons": large, "baseline_persons": 1_000, "runs": runs}
