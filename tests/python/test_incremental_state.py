"""The incremental state as models (docs/incremental.md): what each model has processed,
the work lists a run rebuilds, and the data tests that look at what the last run
rebuilt. Hand-made loads; the expected rows follow from them."""

from __future__ import annotations

import json
import os
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from fixtures.raw import Raw, empty_warehouse, land
from fixtures.warehouse import build, warehouse_env
from outbound_events import dbt
from outbound_events.project import dbt_environment, project_dir

INCREMENTAL = {"int_events_validated", "int_events_deduplicated", "int_messages_aggregated",
               "int_conversions_attributed", "message_lifecycle", "engagement_funnel_daily",
               "user_engagement", "rejected_events", "load_ledger", "experiment_assignments",
               "experiment_lift"}  # fmt: skip
WORK_LISTS = ["int_event_ids_with_new_copies", "int_loads_to_recompute", "int_users_to_recompute",
              "int_messages_to_recompute", "int_funnel_days_to_recompute",
              "int_experiments_to_recompute"]  # fmt: skip


def email(event_type: str, event_id: str, user: str, dispatch: str, at: str) -> Raw:
    """A Braze email event of campaign c-1 (its message: user × dispatch)."""
    seconds = int(datetime.fromisoformat(at).replace(tzinfo=UTC).timestamp())
    fields = {"id": event_id, "user_id": user, "time": seconds, "campaign_id": "c-1",
              "dispatch_id": dispatch}  # fmt: skip
    return Raw("braze", json.dumps(fields), f"users.messages.email.{event_type}")


def query(database: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(database), read_only=True) as connection:
        return connection.execute(sql).fetchall()


def personal_data_test(
    database: Path, *extra: str, model: str = "int_events_deduplicated"
) -> subprocess.CompletedProcess:
    command = [dbt.dbt_executable(), "test", "--select",
               f"test_name:has_no_personal_data,{model}", *extra]  # fmt: skip
    with warehouse_env(database):
        environment = {**os.environ, **dbt_environment()}
        environment.pop("OUTBOUND_EVENTS_TEST_ALL_ROWS", None)  # the default window
        return subprocess.run(
            command, cwd=project_dir(), env=environment, capture_output=True, text=True,
            check=False,
        )  # fmt: skip


def plant_email(database: Path, load_id: str) -> None:
    """A leak no masking would leave (as a bug would): an address in clear text."""
    with duckdb.connect(str(database)) as connection:
        connection.execute(
            "update intermediate.int_events_deduplicated set provider_event_name = "
            "'ana.nowak@example.org' where load_id = ?", [load_id],
        )  # fmt: skip


def plant_email_in_message(database: Path, user: str) -> None:
    """The same leak in the campaign name of a user's row of message_lifecycle."""
    with duckdb.connect(str(database)) as connection:
        connection.execute(
            "update marts.message_lifecycle set campaign_name = 'ana.nowak@example.org' "
            "where user_id = ?", [user],
        )  # fmt: skip


def test_state_and_work_lists_follow_the_loads(tmp_path):
    database = tmp_path / "state.duckdb"
    empty_warehouse(database)
    land(database, "load-1", "2024-05-02 00:00:00",
         [email("Send", "e-1", "u-1", "d-1", "2024-05-01 10:00:00"),
          email("Send", "e-2", "u-2", "d-1", "2024-05-01 11:00:00")])  # fmt: skip
    build(database)
    processed = query(database, "select model_name, load_id from intermediate.int_loads_processed")
    assert set(processed) == {(name, "load-1") for name in INCREMENTAL}
    # a first build (no --full-refresh) lists all its work: u-1 and u-2, two messages
    assert query(database, "select load_id from intermediate.int_loads_to_recompute") == [
        ("load-1",)
    ]
    assert sorted(query(database, "select match_id from intermediate.int_users_to_recompute")) == [
        ("u-1",),
        ("u-2",),
    ]

    # nothing new: every work list is empty, the state unchanged
    build(database)
    for name in WORK_LISTS:
        assert query(database, f"select count(*) from intermediate.{name}") == [(0,)], name
    state = query(database, "select model_name, load_id from intermediate.int_loads_processed")
    assert set(state) == set(processed) and len(state) == len(INCREMENTAL)

    # the default data tests look at what the last run rebuilt: nothing, so a leak
    # planted in an old row is not seen; scanning every row sees it
    plant_email(database, "load-1")
    assert personal_data_test(database).returncode == 0
    every_row = personal_data_test(database, "--vars", '{"outbound_events__test_all_rows": true}')
    assert every_row.returncode == 1, every_row.stdout[-2000:]

    # a new load for u-2 only: its user and u-2's one message are the work
    land(database, "load-2", "2024-05-03 00:00:00",
         [email("Open", "e-3", "u-2", "d-1", "2024-05-02 09:00:00")])  # fmt: skip
    build(database, "--exclude", "test_name:has_no_personal_data")  # the planted leak
    assert query(database, "select load_id from intermediate.int_loads_to_recompute") == [
        ("load-2",)
    ]
    assert query(database, "select match_id from intermediate.int_users_to_recompute") == [("u-2",)]
    assert query(database, "select count(*) from intermediate.int_messages_to_recompute") == [(1,)]
    assert ("load_ledger", "load-2") in query(
        database, "select model_name, load_id from intermediate.int_loads_processed"
    )
    # the old leak is outside the window; one in the new load's row is inside it
    assert personal_data_test(database).returncode == 0
    plant_email(database, "load-2")
    in_window = personal_data_test(database)
    assert in_window.returncode == 1, in_window.stdout[-2000:]


def test_message_lifecycle_is_checked_from_the_earliest_day_rebuilt(tmp_path):
    """message_lifecycle's personal-data test looks at the days from the earliest
    message_date of the messages the last run rebuilt (macros/test_window.sql)."""
    database = tmp_path / "lifecycle.duckdb"
    empty_warehouse(database)
    land(database, "load-1", "2024-05-11 00:00:00",
         [email("Send", "e-1", "u-1", "d-1", "2024-05-01 10:00:00"),
          email("Send", "e-2", "u-3", "d-9", "2024-05-10 11:00:00")])  # fmt: skip
    build(database)
    # a late open of u-3's message of 2024-05-10: the run rebuilds that message only,
    # so the window is the days from 2024-05-10 on; u-1's message (2024-05-01) is out
    land(database, "load-2", "2024-05-12 00:00:00",
         [email("Open", "e-3", "u-3", "d-9", "2024-05-10 12:00:00")])  # fmt: skip
    build(database)
    assert query(
        database,
        "select cast(message_date as varchar) from intermediate.int_messages_aggregated "
        "where message_key in (select message_key from intermediate.int_messages_to_recompute)",
    ) == [("2024-05-10",)]
    plant_email_in_message(database, "u-1")
    assert personal_data_test(database, model="message_lifecycle").returncode == 0
    every_row = personal_data_test(
        database, "--vars", '{"outbound_events__test_all_rows": true}', model="message_lifecycle"
    )
    assert every_row.returncode == 1, every_row.stdout[-2000:]
    plant_email_in_message(database, "u-3")
    in_window = personal_data_test(database, model="message_lifecycle")
    assert in_window.returncode == 1, in_window.stdout[-2000:]
