"""`outbound-events dashboard`: what it reads (dashboard/data.py) and the page itself,
served by the command and opened in headless Chromium (Debian's `chromium`, which
the CI script installs; Playwright drives it, its own browser download unused).

The numbers on the page are checked against the marts (sums of the daily funnel's
counts, rates as summed numerators over summed denominators) for the whole sample,
one provider chosen in the page's filter and one campaign; and against hand-worked
values on a warehouse that starts empty and gets two Customer.io loads, each loaded
and built while the page is open."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import duckdb
import pytest

from fixtures.holder import held
from fixtures.loader_files import run_cli, write_text
from outbound_events.dashboard.data import MARTS, Filters, Reader
from outbound_events.project import project_dir

HEADLINE = {
    "Sent": "sent", "Delivered": "delivered", "Opened": "opened", "Clicked": "clicked",
    "Converted": "converted", "Delivery rate": "delivery_rate", "Open rate": "open_rate",
    "Click rate": "click_rate", "Click-to-open rate": "click_to_open_rate",
    "Conversion rate": "conversion_rate",
}  # fmt: skip


def customerio_lines(day: str, users: list[str], opened: list[str]) -> str:
    """Customer.io email: one delivery per user at 08:00, an open at 09:00 for some."""

    def event(name: str, user: str, hour: str) -> str:
        return json.dumps({
            "user_id": user, "action": "track", "event": name,
            "timestamp": f"{day}T{hour}:00:00Z", "messageId": f"{name}-{day}-{user}",
            "properties": {"email_id": f"em-{day}-{user}", "campaign_id": "c1",
                           "campaign_name": "Hello"},
        })  # fmt: skip

    lines = [event("Email Delivered", user, "08") for user in users]
    lines += [event("Email Opened", user, "09") for user in opened]
    return "\n".join(lines) + "\n"


# The headline numbers worked out from message_lifecycle with SPEC §6's definitions,
# independently of the daily mart's numerator columns the page sums.
MESSAGES_WITH_CAMPAIGN_KEY = """
    select *, provider || '/' || case when canvas_id is not null then 'canvas'
        when campaign_id is not null then 'campaign' end
        || '/' || coalesce(canvas_id, campaign_id) as campaign_key
    from marts.message_lifecycle
"""
HEADLINE_SQL = {
    "sent": "count_if(is_sent)",
    "delivered": "count_if(is_delivered)",
    "opened": "count_if(is_opened)",
    "clicked": "count_if(is_clicked)",
    "converted": "count_if(is_converted)",
    "delivery_rate": "count_if(is_sent and is_delivered and is_delivery_reported)"
    " / nullif(count_if(is_sent and is_delivery_reported), 0)",
    "open_rate": "count_if(is_reached and is_opened) / nullif(count_if(is_reached), 0)",
    "click_rate": "count_if(is_reached and is_clicked) / nullif(count_if(is_reached), 0)",
    "click_to_open_rate": "count_if(is_opened and is_clicked) / nullif(count_if(is_opened), 0)",
    "conversion_rate": "count_if(is_reached and is_converted) / nullif(count_if(is_reached), 0)",
}


def mart_totals(database: Path, where: str = "true", parameters: list | None = None) -> dict:
    """The headline numbers of the messages `where` selects."""
    with duckdb.connect(str(database), read_only=True) as connection:
        row = connection.execute(
            f"select {', '.join(HEADLINE_SQL.values())} "
            f"from ({MESSAGES_WITH_CAMPAIGN_KEY}) as messages where {where}",
            parameters or [],
        ).fetchone()
    return dict(zip(HEADLINE_SQL, row, strict=True))


def page_text(totals: dict) -> dict[str, str]:
    """How the page writes them: counts with separators, rates to 0.1 %, – for none."""

    def shown(key: str) -> str:
        value = totals[key]
        if key.endswith("_rate"):
            return "–" if value is None else f"{value:.1%}"
        return f"{int(value or 0):,}"

    return {label: shown(key) for label, key in HEADLINE.items()}


# The data layer, without a browser.


def test_reader_states_and_numbers(sample_warehouse, tmp_path):
    missing = Reader(tmp_path / "none.duckdb").read()
    assert (missing.state, missing.snapshot) == ("no_warehouse", None)

    loaded_only = tmp_path / "loaded.duckdb"
    write_text(tmp_path / "a.ndjson", customerio_lines("2024-03-04", ["u1"], []))
    assert run_cli(loaded_only, "load", "-p", "customerio", tmp_path / "a.ndjson").returncode == 0
    assert Reader(loaded_only).read().state == "not_built"

    # Built, but with nothing loaded (a plain `dbt build` on a fresh clone).
    emptied = tmp_path / "emptied.duckdb"
    shutil.copyfile(sample_warehouse, emptied)
    with duckdb.connect(str(emptied)) as connection:
        for mart in MARTS:
            connection.execute(f"delete from marts.{mart}")
    assert Reader(emptied).read().state == "empty"

    reading = Reader(sample_warehouse).read()
    assert reading.state == "ready" and reading.busy is None
    snapshot = reading.snapshot
    choices = snapshot.choices()
    assert choices["providers"] == ["activatepro", "braze", "crossengage", "customerio"]
    totals = snapshot.funnel(Filters()).iloc[0]
    assert page_text(totals) == page_text(mart_totals(sample_warehouse))
    braze = snapshot.funnel(Filters(providers=["braze"], channels=["email"])).iloc[0]
    assert page_text(braze) == page_text(
        mart_totals(sample_warehouse, "provider = 'braze' and channel = 'email'")
    )
    # Time to first open: every opened message with a send and no clock skew, once.
    with duckdb.connect(str(sample_warehouse), read_only=True) as connection:
        (timed,) = connection.execute(
            "select count(*) from marts.message_lifecycle "
            "where is_opened and seconds_to_open is not null and not has_clock_skew"
        ).fetchone()
        (within_hour,) = connection.execute(
            "select count(*) from marts.message_lifecycle where is_opened "
            "and seconds_to_open < 3600 and not has_clock_skew"
        ).fetchone()
    distribution = snapshot.time_to_open(Filters())
    assert distribution["messages"].sum() == timed > 0
    assert distribution["messages"].head(4).sum() == within_hour
    # Rejects and the ledger of the sample's loads.
    rejects = snapshot.rejects(Filters())
    assert rejects["records"].sum() == mart_count(sample_warehouse, "rejected_events")
    assert len(snapshot.ledger(Filters())) == mart_count(sample_warehouse, "load_ledger")


def mart_count(database: Path, mart: str) -> int:
    with duckdb.connect(str(database), read_only=True) as connection:
        return connection.execute(f"select count(*) from marts.{mart}").fetchone()[0]


def test_a_held_warehouse_keeps_the_last_copy(sample_warehouse, tmp_path):
    database = tmp_path / "copy.duckdb"
    shutil.copyfile(sample_warehouse, database)
    reader = Reader(database)
    first = reader.read()
    assert first.state == "ready"
    with held(database, 60, "write") as holder:
        busy = reader.read()  # the file changed, and its writer holds it
        assert busy.snapshot is first.snapshot
        assert busy.busy is not None and f"PID {holder.pid}" in busy.busy
    again = reader.read()
    assert again.busy is None and again.snapshot is not first.snapshot
    assert again.state == "ready"


def test_writers_wait_out_a_short_read(tmp_path):
    """A load and a plain `dbt build` that start while a reader holds the file for a
    moment (as the dashboard does) wait for it and succeed."""
    database = tmp_path / "warehouse.duckdb"
    write_text(tmp_path / "a.ndjson", customerio_lines("2024-03-04", ["u1", "u2"], ["u1"]))
    with held(database, 2, "write"):
        pass  # create the file
    with held(database, 2, "ro"):
        loaded = run_cli(database, "load", "-p", "customerio", tmp_path / "a.ndjson")
    assert loaded.returncode == 0, loaded.stderr
    with held(database, 3, "ro"):
        built = subprocess.run(
            [str(Path(sys.executable).parent / "dbt"), "build", "--profiles-dir", ".",
             "--exclude", "path:seeds/sample", "test_type:unit"],
            cwd=project_dir(), env={**os.environ, "OUTBOUND_EVENTS_DB": str(database)},
            capture_output=True, text=True, check=False,
        )  # fmt: skip
    assert built.returncode == 0, built.stdout[-3000:]
    totals = mart_totals(database)
    assert (totals["delivered"], totals["opened"], totals["open_rate"]) == (2, 1, 0.5)


# The page, in a browser.


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed (the CI script installs Debian's chromium)")
        pytest.skip("chromium is not installed: apt-get install chromium")
    return found


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def dashboard_process(database: Path) -> Iterator[tuple[subprocess.Popen, str]]:
    """`outbound-events dashboard --port N` over `database`, in a session (and process
    group) of its own, once it serves; the process and its address. Afterwards
    whatever is left of its group is stopped."""
    port = free_port()
    command = [
        str(Path(sys.executable).parent / "outbound-events"),
        "dashboard",
        "--port",
        str(port),
    ]
    log = database.with_name(f"dashboard-{port}.log")
    with log.open("w") as output:  # a file: a pipe nobody reads would block the server
        server = subprocess.Popen(
            command, env={**os.environ, "OUTBOUND_EVENTS_DB": str(database)},
            stdout=output, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    address = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, log.read_text()
            try:
                with urllib.request.urlopen(f"{address}/_stcore/health", timeout=2) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                pass
            assert time.monotonic() < deadline, "the dashboard did not start"
            time.sleep(0.3)
        yield server, address
    finally:
        for stop in (signal.SIGTERM, signal.SIGKILL):
            if not group_alive(server.pid):
                break
            os.killpg(server.pid, stop)
            with suppress(subprocess.TimeoutExpired):
                server.wait(timeout=15)
        server.wait()


def group_alive(group: int) -> bool:
    """Whether a process of process group `group` is still running."""
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    return True


@contextmanager
def dashboard(database: Path) -> Iterator[str]:
    """`outbound-events dashboard --port N` over `database`; its address."""
    with dashboard_process(database) as (_, address):
        yield address


@pytest.fixture(scope="module")
def browser():
    playwright_api = pytest.importorskip("playwright.sync_api")
    executable = chromium()
    with playwright_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        yield launched
        launched.close()


def shown_numbers(page) -> dict[str, str]:
    numbers = {}
    for metric in page.get_by_test_id("stMetric").all():
        label = metric.get_by_test_id("stMetricLabel").inner_text().strip()
        if label in HEADLINE:
            numbers[label] = metric.get_by_test_id("stMetricValue").inner_text().strip()
    return numbers


def wait_for_numbers(page, expected: dict[str, str], seconds: float = 45) -> None:
    """The page's headline numbers become `expected` (Streamlit reruns asynchronously)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if page.get_by_test_id("stException").count():
            pytest.fail(page.get_by_test_id("stException").first.inner_text())
        if shown_numbers(page) == expected:
            return
        page.wait_for_timeout(300)
    if shown_numbers(page) != expected and os.environ.get("OUTBOUND_EVENTS_DEBUG_SHOT"):
        page.screenshot(path=os.environ["OUTBOUND_EVENTS_DEBUG_SHOT"], full_page=True)
    assert shown_numbers(page) == expected


def wait_for_text(page, text: str, seconds: float = 45) -> None:
    page.get_by_text(text).first.wait_for(timeout=seconds * 1000)


def test_the_page_shows_the_marts_numbers_and_follows_its_filters(
    browser, sample_warehouse, tmp_path
):
    database = tmp_path / "sample.duckdb"
    shutil.copyfile(sample_warehouse, database)
    with duckdb.connect(str(database), read_only=True) as connection:
        (campaign,) = connection.execute(
            f"select campaign_key from ({MESSAGES_WITH_CAMPAIGN_KEY}) "
            "where campaign_key is not null group by all order by count(*) desc, 1 limit 1"
        ).fetchone()
    with dashboard(database) as address:
        page = browser.new_page(viewport={"width": 1400, "height": 2400})
        page.goto(address)
        wait_for_numbers(page, page_text(mart_totals(database)))

        # One provider, chosen in the sidebar's filter.
        provider = page.get_by_test_id("stMultiSelect").filter(has_text="Provider")
        provider.locator("input").click()
        page.keyboard.type("braze")
        page.keyboard.press("Enter")
        page.keyboard.press("Escape")
        wait_for_numbers(page, page_text(mart_totals(database, "provider = 'braze'")))
        assert "provider=braze" in page.url  # the filtered view has its own address
        page.screenshot(path=str(tmp_path / "dashboard-braze.png"))

        # One campaign, from a shared address.
        page.goto(f"{address}/?campaign={urllib.parse.quote(campaign)}")
        expected = mart_totals(database, "campaign_key = ?", [campaign])
        wait_for_numbers(page, page_text(expected))
        # and then a channel: a filter changed on a filtered page.
        channel = page.get_by_test_id("stMultiSelect").filter(has_text="Channel")
        channel.locator("input").click()
        page.keyboard.type("email")
        page.keyboard.press("Enter")
        page.keyboard.press("Escape")
        expected = mart_totals(database, "campaign_key = ? and channel = 'email'", [campaign])
        wait_for_numbers(page, page_text(expected))
        # Filters that match nothing: zeros and no rates, not an error.
        page.goto(f"{address}/?provider=customerio&channel=push")
        nothing = {label: "–" if label.endswith("rate") else "0" for label in HEADLINE}
        assert page_text(mart_totals(database, "provider = 'customerio' and channel = 'push'")) == (
            nothing
        )
        wait_for_numbers(page, nothing)
        page.goto(f"{address}/?campaign={urllib.parse.quote(campaign)}&channel=email")
        wait_for_numbers(page, page_text(expected))
        for section in ["Rates over time", "Time to first open", "Top campaigns",
                        "Rejected records by reason", "Load ledger"]:  # fmt: skip
            assert page.get_by_text(section, exact=True).count() == 1, section
        screenshot = tmp_path / "dashboard.png"
        page.screenshot(path=str(screenshot), full_page=True)
        assert screenshot.stat().st_size > 10_000
        if os.environ.get("OUTBOUND_EVENTS_SCREENSHOT"):
            shutil.copyfile(screenshot, os.environ["OUTBOUND_EVENTS_SCREENSHOT"])


def test_load_and_build_while_the_page_is_open(browser, tmp_path):
    """An empty warehouse, then two loads, each loaded and built while the page is
    open: both commands succeed and the page shows each result by itself.
    Day 1: u1 delivered and opened. Day 2: u2, u3, u4 delivered, none opened. So
    after day 1: delivered 1, opened 1, open rate 100.0 %; after both: delivered 4,
    opened 1, open rate 1/4 = 25.0 %, click rate 0.0 %; no sends (Customer.io reports
    none), so no delivery rate."""
    database = tmp_path / "warehouse.duckdb"
    write_text(tmp_path / "day1" / "a.ndjson", customerio_lines("2024-03-04", ["u1"], ["u1"]))
    write_text(
        tmp_path / "day2" / "b.ndjson", customerio_lines("2024-03-05", ["u2", "u3", "u4"], [])
    )
    expected = {
        "Sent": "0", "Delivered": "1", "Opened": "1", "Clicked": "0", "Converted": "0",
        "Delivery rate": "–", "Open rate": "100.0%", "Click rate": "0.0%",
        "Click-to-open rate": "0.0%", "Conversion rate": "0.0%",
    }  # fmt: skip
    with dashboard(database) as address:
        page = browser.new_page()
        page.goto(address)
        wait_for_text(page, "Nothing loaded yet")
        for folder, numbers in [("day1", {}), ("day2", {"Delivered": "4", "Open rate": "25.0%"})]:
            loaded = run_cli(database, "load", "-p", "customerio", tmp_path / folder, timeout=120)
            assert loaded.returncode == 0, loaded.stderr
            built = run_cli(database, "build", timeout=600)
            assert built.returncode == 0, built.stdout[-3000:] + built.stderr
            expected.update(numbers)
            wait_for_numbers(page, expected)
        assert page.get_by_test_id("stMultiSelect").filter(has_text="Provider").count() == 1
        wait_for_text(page, "Every record of every load is accounted for.")


def test_a_file_that_is_no_warehouse_is_said_not_raised(tmp_path):
    bogus = tmp_path / "notes.duckdb"
    bogus.write_text("these are my notes, not a database\n" * 10)
    reading = Reader(bogus).read()
    assert (reading.state, reading.snapshot) == ("unreadable", None)
    assert reading.error
    refused = run_cli(bogus, "dashboard", "--port", str(free_port()), timeout=60)
    assert refused.returncode == 1
    assert f"{bogus} is not a DuckDB database file" in refused.stderr


def serves(address: str) -> bool:
    """Whether something accepts connections on the address's port."""
    port = urllib.parse.urlsplit(address).port
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return False
    return True


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_to_the_command_stops_its_server(tmp_path, stop):
    """SIGTERM (a service manager, `kill`) or SIGINT (Ctrl-C) sent to the command's
    process alone, not to its group, stops the page it serves: the port stops
    accepting connections and no process of the command is left (the command runs in
    a process group of its own here, so any server it started would be in it)."""
    with dashboard_process(tmp_path / "warehouse.duckdb") as (server, address):
        assert serves(address)
        os.kill(server.pid, stop)
        assert server.wait(timeout=15) == 0
        deadline = time.monotonic() + 5
        while serves(address) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not serves(address), "the server still serves after the command stopped"
        assert not group_alive(server.pid), "a process of the command is left"
