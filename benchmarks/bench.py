"""`make bench EVENTS=1M`: how the build's cost compares with the engine's floor, and
how an incremental run's cost follows the new data.

In one process tree, over fresh copies of one generated warehouse, interleaved
(round after round, every stage once per round):

- floor: one DuckDB statement that parses every raw record once into the core typed
  columns (provider, event name, user, time): what any pipeline must at least pay;
- full `dbt run` and full `dbt build` (models, then models + tests) from scratch;
- +1 % new records (one more day of loads), incremental `dbt run` and `dbt build`;
- a no-op `dbt build` right after;
- the same two builds as `outbound-events build` runs them (data tests, no unit tests).

`--once` (for 100M events, where copies of the warehouse would not fit the disk):
generate, the floor, then one full `dbt build` in the same file, no copies, and then
+1 % (one more day of loads) with an incremental `dbt build` on the same file.

Prints the median of each stage, its ratio to its reference, and the peak RSS of the
dbt process tree. Timings are wall-clock on a shared machine: compare the ratios, which
are measured side by side.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).parent))
from generate import Batch, generate, parse_count  # noqa: E402
from outbound_events import dbt  # noqa: E402
from outbound_events.project import DB_ENV, project_dir  # noqa: E402

# Each record's JSON parsed once (one multi-path extraction), malformed ones giving nulls.
FLOOR = """
    create or replace table main.floor as
    select
        provider,
        coalesce(event_type, fields[1]) as event_name,
        fields[2] as user_id,
        coalesce(
            try_cast(fields[3] as timestamp),
            to_timestamp(try_cast(fields[3] as double))::timestamp
        ) as occurred_at
    from (
        {selects}
    ) as records
"""
FLOOR_SELECT = """
        select '{provider}' as provider, {event_type} as event_type,
            try(json_extract_string(payload, ['$.event', '$.{user}', '$.{time}'])) as fields
        from raw.{provider}__events"""
FLOOR_FIELDS = {
    "braze": ("event_type", "user_id", "time"),
    "crossengage": ("null", "id", "timestamp"),
    "activatepro": ("null", "userId", "timestamp"),
    "outbound": ("null", "user_id", "timestamp"),
    "customerio": ("null", "user_id", "timestamp"),
}
DBT_CHILD = (
    "import resource, sys\n"
    "from outbound_events import dbt\n"
    "dbt.run_dbt(sys.argv[1:])\n"
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
)


def floor_statement() -> str:
    selects = [
        FLOOR_SELECT.format(provider=provider, event_type=event_type, user=user, time=time_field)
        for provider, (event_type, user, time_field) in FLOOR_FIELDS.items()
    ]
    return FLOOR.format(selects="\n        union all".join(selects))


def timed_floor(database: Path) -> tuple[float, int]:
    start = time.perf_counter()
    with duckdb.connect(str(database)) as connection:
        connection.execute("set threads = 2")
        connection.execute(floor_statement())
    return time.perf_counter() - start, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def timed_dbt(database: Path, *args: str) -> tuple[float, int]:
    """Seconds and peak RSS (KiB) of one dbt command in a fresh child process."""
    environment = {**__import__("os").environ, DB_ENV: str(database)}
    start = time.perf_counter()
    completed = subprocess.run(
        [sys.executable, "-c", DBT_CHILD, *args, "--exclude", dbt.SAMPLE_SEEDS],
        env=environment, capture_output=True, text=True, check=False,
    )  # fmt: skip
    seconds = time.perf_counter() - start
    if completed.returncode != 0:
        sys.exit(f"dbt {' '.join(args)} failed:\n{completed.stdout[-4000:]}{completed.stderr}")
    return seconds, int(completed.stdout.strip().splitlines()[-1])


def model_timings(target: Path) -> list[tuple[str, float]]:
    results = json.loads((target / "run_results.json").read_text())["results"]
    return sorted(
        ((r["unique_id"].split(".")[-1], r["execution_time"]) for r in results),
        key=lambda item: -item[1],
    )


def prepare(workdir: Path, events: int) -> tuple[Path, Batch]:
    base = workdir / "base.duckdb"
    print(f"generating {events:,} events ...", flush=True)
    with duckdb.connect(str(base)) as connection:
        landed = generate(connection, Batch(events))
    print("raw records:", ", ".join(f"{p} {n:,}" for p, n in landed.items()), flush=True)
    timed_dbt(base, "seed")  # the semantics seeds are part of the starting state
    # the base's last loads (late events, duplicates) are on day 31: the new day is 32
    return base, Batch(max(1, events // 100), days=1, first_day=32, seed=2)


def add_increment(database: Path, increment: Batch) -> None:
    with duckdb.connect(str(database)) as connection:
        generate(connection, increment)


def run(events: int, rounds: int) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="outbound-bench-"))
    try:
        base, increment = prepare(workdir, events)
        stages: dict[str, list[tuple[float, int]]] = {}

        def record(stage: str, measured: tuple[float, int]) -> None:
            stages.setdefault(stage, []).append(measured)
            print(f"  {stage:<28} {measured[0]:8.2f} s  {measured[1] / 1024:7.0f} MiB", flush=True)

        for round_number in range(1, rounds + 1):
            print(f"round {round_number}", flush=True)
            work = workdir / "work.duckdb"
            shutil.copy(base, work)
            record("floor", timed_floor(work))
            shutil.copy(base, work)
            record("full dbt run", timed_dbt(work, "run", "--full-refresh"))
            full_timings = model_timings(project_dir() / "target")
            shutil.copy(base, work)
            record("full dbt build", timed_dbt(work, "build", "--full-refresh"))
            built = workdir / "built.duckdb"
            shutil.copy(work, built)
            add_increment(work, increment)
            record("+1% incremental dbt run", timed_dbt(work, "run"))
            shutil.copy(built, work)
            add_increment(work, increment)
            record("+1% incremental dbt build", timed_dbt(work, "build"))
            timings = model_timings(project_dir() / "target")
            record("no-op dbt build", timed_dbt(work, "build"))
            # what `outbound-events build` runs: the data tests, not dbt's unit tests
            shutil.copy(built, work)
            add_increment(work, increment)
            record("+1% outbound-events build", timed_dbt(work, "build", *dbt.PRODUCTION_EXCLUDES))
            record(
                "no-op outbound-events build", timed_dbt(work, "build", *dbt.PRODUCTION_EXCLUDES)
            )
        report(events, stages, full_timings, timings)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


STEPPED_CHILD = (
    "import resource, sys\n"
    "from pathlib import Path\n"
    "from outbound_events import dbt\n"
    "dbt.build_loaded(Path(sys.argv[1]), loads_per_run=int(sys.argv[2]))\n"
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
)


def timed_stepped_build(database: Path, loads_per_run: int) -> tuple[float, int]:
    """Seconds and peak RSS (KiB) of `outbound-events build --loads-per-run N`."""
    environment = {**__import__("os").environ, DB_ENV: str(database)}
    start = time.perf_counter()
    completed = subprocess.run(
        [sys.executable, "-c", STEPPED_CHILD, str(database), str(loads_per_run)],
        env=environment, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if completed.returncode != 0:
        sys.exit(f"stepped build failed:\n{completed.stdout[-4000:]}{completed.stderr}")
    return time.perf_counter() - start, int(completed.stdout.strip().splitlines()[-1])


def run_once(events: int, loads_per_run: int | None = None) -> None:
    """The floor and one full build over one generated warehouse, no copies, then a
    +1 % incremental build on it (with `loads_per_run`: only `outbound-events build
    --loads-per-run N` instead of the full build)."""
    workdir = Path(tempfile.mkdtemp(prefix="outbound-bench-"))
    try:
        start = time.perf_counter()
        base, increment = prepare(workdir, events)
        print(f"  generated in {time.perf_counter() - start:.0f} s", flush=True)
        floor, floor_rss = timed_floor(base)
        with duckdb.connect(str(base)) as connection:
            connection.execute("drop table main.floor")
        size = base.stat().st_size / 2**30
        print(f"  floor {floor:.1f} s, {floor_rss / 1024:.0f} MiB; raw warehouse {size:.1f} GiB")
        if loads_per_run:
            build, build_rss = timed_stepped_build(base, loads_per_run)
        else:
            build, build_rss = timed_dbt(base, "build", "--full-refresh")
        size = base.stat().st_size / 2**30
        how = f"build in steps of {loads_per_run} loads" if loads_per_run else "full dbt build"
        print(f"\n{events:,} events, one {how}: {build:.0f} s "
              f"({build / floor:.1f}× floor), peak RSS {build_rss / 1024:.0f} MiB, "
              f"warehouse {size:.1f} GiB")  # fmt: skip
        print("\nslowest nodes (run_results.json):")
        for name, seconds in model_timings(project_dir() / "target")[:10]:
            print(f"  {name:<60} {seconds:7.1f} s")
        if loads_per_run:
            return
        add_increment(base, increment)
        more, more_rss = timed_dbt(base, "build")
        print(f"\n+1 % incremental dbt build: {more:.0f} s ({more / build:.1%} of the full "
              f"build), peak RSS {more_rss / 1024:.0f} MiB")  # fmt: skip
        print("slowest nodes (run_results.json):")
        for name, seconds in model_timings(project_dir() / "target")[:10]:
            print(f"  {name:<60} {seconds:7.1f} s")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


REFERENCE = {
    "floor": None,
    "full dbt run": "floor",
    "full dbt build": "floor",
    "+1% incremental dbt run": "full dbt run",
    "+1% incremental dbt build": "full dbt build",
    "no-op dbt build": "full dbt build",
    "+1% outbound-events build": "full dbt build",
    "no-op outbound-events build": "full dbt build",
}


def report(
    events: int, stages: dict[str, list[tuple[float, int]]], full: list, incremental: list
) -> None:
    median = {stage: statistics.median(s for s, _ in runs) for stage, runs in stages.items()}
    print(f"\n{events:,} events, median of {len(stages['floor'])} interleaved rounds")
    print("| stage | wall | vs | peak RSS |\n|---|---|---|---|")
    for stage, reference in REFERENCE.items():
        ratio = f"{median[stage] / median[reference]:.2f}× {reference}" if reference else "1×"
        if reference and reference != "floor":
            ratio = f"{median[stage] / median[reference]:.0%} of the {reference}"
        peak = max(rss for _, rss in stages[stage]) / 1024
        print(f"| {stage} | {median[stage]:.1f} s | {ratio} | {peak:.0f} MiB |")
    for title, timings in [("full dbt run", full), ("+1% incremental dbt build", incremental)]:
        print(f"\nslowest nodes of the last {title} (run_results.json):")
        for name, seconds in timings[:8]:
            print(f"  {name:<60} {seconds:6.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", default="1M", help="events to generate (1M, 10M, ...)")
    parser.add_argument("--rounds", type=int, default=2, help="interleaved repetitions")
    parser.add_argument("--once", action="store_true", help="floor + one full build, no copies")
    parser.add_argument("--loads-per-run", type=int, help="with --once: build in steps of N loads")
    parser.add_argument("--loader", action="store_true", help="only the loader's figures")
    args = parser.parse_args()
    if args.loader:
        run_loader(args.rounds)
        return
    if args.once:
        run_once(parse_count(args.events), args.loads_per_run)
    else:
        run(parse_count(args.events), args.rounds)
    run_loader(args.rounds)


# ------------------------------------------------------------------ the loader (#21 item 5)

LOADER_LINES = 1_000_000
LOADER_AVRO_RECORDS = 300_000


def write_loader_files(folder: Path, lines: int, avro_records: int) -> tuple[Path, Path]:
    """A `lines`-line NDJSON file (Customer.io reporting webhooks and Outbound custom
    events: UUIDs, 24-hex ids, nested properties, prices, unicode subjects, keys in
    export order) and a Braze Currents email Send Avro file (deflate) of
    `avro_records` records, both reproducible."""
    import random
    import uuid

    import fastavro
    import orjson

    rng = random.Random(21)

    def hex24() -> str:
        return f"{rng.getrandbits(96):024x}"

    def uid() -> str:
        return str(uuid.UUID(int=rng.getrandbits(128), version=4))

    ndjson = folder / "events.ndjson"
    with ndjson.open("wb") as stream:
        for number in range(lines):
            at = 1714521600 + rng.randrange(30 * 86400)
            if number % 2:
                record: dict[str, object] = {
                    "user_id": uid(), "event": rng.choice(["pageView", "renewMembership", "Café ✓"]),
                    "timestamp": at,
                    "properties": {"page": f"/p/{rng.randrange(10**5)}",
                                   "price": round(rng.uniform(1, 500), 2), "quantity": rng.randrange(1, 5),
                                   "membership": {"renewalDate": "2025-05-01", "tier": rng.choice(["gold", "silver"])},
                                   "tags": [hex24() for _ in range(rng.randrange(3))], "referrer": None,
                                   "first": rng.random() < 0.5},
                }  # fmt: skip
            else:
                record = {
                    "event_id": uid(), "object_type": "email", "timestamp": at,
                    "metric": rng.choice(["sent", "delivered", "opened", "clicked"]),
                    "data": {"customer_id": hex24(), "delivery_id": hex24(), "campaign_id": rng.randrange(1000),
                             "identifiers": {"id": hex24(), "email": f"u{rng.randrange(10**6)}@example.io"},
                             "subject": rng.choice(["Welcome!", "Ihre Bestellung ✓", "日本語の件名"]),
                             "recipient": f"u{rng.randrange(10**6)}@example.io"},
                }  # fmt: skip
            stream.write(orjson.dumps(record) + b"\n")
    optional = ["external_user_id", "timezone", "app_group_id", "campaign_id", "campaign_name",
                "message_variation_id", "canvas_id", "canvas_name", "canvas_variation_id",
                "canvas_step_id", "send_id", "dispatch_id", "ip_pool", "message_extras"]  # fmt: skip
    schema = {
        "type": "record", "name": "Send", "namespace": "dataexport.S3.inner.users.messages.email",
        "fields": [{"name": "id", "type": "string"}, {"name": "user_id", "type": "string"},
                   {"name": "time", "type": "int"}, {"name": "email_address", "type": "string"},
                   *({"name": name, "type": ["null", "string"], "default": None} for name in optional)],
    }  # fmt: skip

    def records() -> Iterator[dict[str, object]]:
        for _ in range(avro_records):
            canvas = rng.random() < 0.5
            yield {"id": uid(), "user_id": hex24(), "time": 1714521600 + rng.randrange(86400),
                   "email_address": f"u{rng.randrange(10**6)}@example.com",
                   "external_user_id": f"ext-{rng.randrange(10**7)}", "timezone": "Europe/Berlin",
                   "app_group_id": uid(), "campaign_id": None if canvas else uid(),
                   "campaign_name": None if canvas else "Spring sale ✓", "message_variation_id": uid(),
                   "canvas_id": uid() if canvas else None, "canvas_name": "Onboarding" if canvas else None,
                   "dispatch_id": hex24()}  # fmt: skip

    avro = folder / "currents" / "event_type=users.messages.email.Send" / "part-0.avro"
    avro.parent.mkdir(parents=True)
    with avro.open("wb") as stream:
        fastavro.writer(stream, fastavro.parse_schema(schema), records(), codec="deflate")
    return ndjson, avro


def timed_read_json(path: Path, database: Path) -> float:
    """DuckDB's own `create table as select * from read_json(...)` of the file."""
    start = time.perf_counter()
    with duckdb.connect(str(database)) as connection:
        connection.execute("create table events as select * from read_json(?)", [str(path)])
    seconds = time.perf_counter() - start
    database.unlink()
    return seconds


def timed_load(provider: str, path: Path, database: Path) -> tuple[float, int]:
    """`outbound-events load` of `path` into a new warehouse: seconds, records landed."""
    from outbound_events.loading import files_to_load, load_files, provider_for

    start = time.perf_counter()
    chosen = provider_for(provider)
    summary = load_files(chosen, files_to_load(chosen, [path]).files, database)
    seconds = time.perf_counter() - start
    database.unlink()
    return seconds, summary.records_landed


def run_loader(rounds: int) -> None:
    """The loader vs DuckDB's read_json on a 1M-line NDJSON file (interleaved, median
    of `rounds`), and Braze Avro records a second."""
    workdir = Path(tempfile.mkdtemp(prefix="outbound-bench-loader-"))
    try:
        print(
            f"loader: writing {LOADER_LINES:,} NDJSON lines, {LOADER_AVRO_RECORDS:,} Avro records"
        )
        ndjson, avro = write_loader_files(workdir, LOADER_LINES, LOADER_AVRO_RECORDS)
        read_json, loads, avro_rates = [], [], []
        for _ in range(rounds):
            read_json.append(timed_read_json(ndjson, workdir / "read_json.duckdb"))
            seconds, landed = timed_load("customerio", ndjson, workdir / "loaded.duckdb")
            if landed != LOADER_LINES:
                sys.exit(f"the loader landed {landed:,} of {LOADER_LINES:,} lines")
            loads.append(seconds)
            seconds, landed = timed_load("braze", avro.parent.parent, workdir / "avro.duckdb")
            avro_rates.append(landed / seconds)
            print(f"  read_json {read_json[-1]:.2f} s, load {loads[-1]:.2f} s, "
                  f"Avro {avro_rates[-1]:,.0f} records/s", flush=True)  # fmt: skip
        size = ndjson.stat().st_size / 2**20
        ratio = statistics.median(read_json) / statistics.median(loads)
        print(f"\nloader, median of {rounds} interleaved rounds:")
        print(
            f"| NDJSON {LOADER_LINES:,} lines ({size:.0f} MiB) | load {statistics.median(loads):.2f} s "
            f"| read_json {statistics.median(read_json):.2f} s | loader at {ratio:.2f}× read_json's speed |"
        )
        print(f"| Braze Avro {LOADER_AVRO_RECORDS:,} records ({avro.stat().st_size / 2**20:.0f} MiB, deflate) "
              f"| {statistics.median(avro_rates):,.0f} records/s | | |")  # fmt: skip
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
