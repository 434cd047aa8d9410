"""Experiments and lift (issue #22, docs/experiments.md): hand-made Braze Currents
exports (Avro object-container files written with fastavro in the export layout,
`event_type=<type>/date=<hour>/`) go through `outbound-events load` and a dbt build
into marts.experiment_assignments and marts.experiment_lift, and the marts hold the
numbers worked out by hand below. Then later loads touch one experiment each: the
work list names only that experiment, and the marts equal a full refresh.

Ids look like Braze's: 24-hex object ids for campaigns, variations, Canvases, steps and
users, UUIDs for event ids and splits.

The experiments (T0 = 2024-06-03 10:00 UTC; every assignment at T0 unless said):

- E1, campaign, the issue's worked example: variant users 1–5 (Send), users 1 and 2
  convert; control users 6–9 (EnrollInControl), user 6 converts.
- E2, campaign, two variants and a control:
  A: a1 Send, converts at T0+2h; a2 Send, only a secondary conversion (index 1);
     a3 Abort (email) and converts at T0+3h: aborted, still treatment, a converter;
     a4 Send at T0, converts only at T0-1h (before assignment).
     → 4 users, 2 converters (a1, a3): 0.5
  B: b1 Send, converts at T0+721h (after the 720 h window); b2 Send, converts twice;
     b3 campaign-level Abort, converts at exactly T0+720h (the window's last second).
     → 3 users, 2 converters (b2, b3): 2/3
  control: c1..c4 EnrollInControl, c1 converts. → 4 users, 1 converter: 0.25
  pooled treatment: 7 users, 4 converters: 4/7.
  Revenue: a1 buys 20.00 USD at T0+1h (in) and 10.00 EUR at T0+800h (out of the
  window); c1 buys 5.00 GBP at T0+2h (1.27 USD per GBP: 6.35 USD); b2 buys 12.50 USD
  at T0-2h (before assignment: out).
  → A 20/4 = 5.0 per user, B 0, pooled 20/7, control 6.35/4 = 1.5875.
- E3, campaign without control: P (p1, p2), Q (q1); p1 converts.
  → P 0.5, Q 0, pooled 1/3; control 0 users: every comparison null.
- E4, campaign, conflicting assignments and a variant without users: control k1, k2
  (EnrollInControl at T0); M: m1 Send at T0, m2 Send at T0 and EnrollInControl at
  T0+1h (kept in M, flagged); N: only k1 gets a Send of N, at T0+1h (kept in control,
  flagged), so N has no users. m1 converts.
  → M 2 users 1 converter: 0.5; N 0 users: rates null; control 2 users, 0 converters:
  0.0, so the relative lift is null (p_c = 0).
- E5, Canvas with control: variant cv1 (v1, v2, v3; v1 and v2 get a Send of the
  Canvas, v3 none), control (w1, w2: in_control_group). Canvas conversions (index 0):
  v1, w1; v2 only a secondary one (index 1).
  → cv1 1/3, control 1/2.
- E6, Canvas experiment step: SplitEntry path A (s1..s4), path B (s5, s6), control
  (s7, s8). Experiment-step conversions: s1, s2, s7. s5 has a conversion of the Canvas
  itself (users.canvas.Conversion), not of the step: not counted.
  → A 0.5, B 0.0, control 0.5, pooled 2/6.
- E7, a campaign with one variation and no control (u1, u2 Send): no experiment, no rows.
"""

from __future__ import annotations

import math
import os
import shutil
import subprocess
from datetime import timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

from fixtures.experiment_exports import (
    E1,
    E1_NAME,
    E1_VARIANT,
    E2,
    E2_A,
    E2_B,
    E2_CONTROL,
    E2_NAME,
    E3,
    E3_P,
    E3_Q,
    E4,
    E4_CONTROL,
    E4_M,
    E4_N,
    E5,
    E5_NAME,
    E5_VARIANT,
    E6_A,
    E6_B,
    E6_STEP,
    T0,
    Export,
    first_load,
    second_load,
    third_load,
    user,
)
from fixtures.loader_files import load
from fixtures.warehouse import build, warehouse_env
from outbound_events import dbt
from outbound_events.project import project_dir

SELECT = [
    "--select",
    "+experiment_lift",
    "+experiment_assignments",
    "--indirect-selection",
    "cautious",
]


def land(tmp_path: Path, database: Path, name: str, export: Export) -> None:
    loaded = load(database, "braze", export.write(tmp_path / name))
    assert loaded.exit_code == 0, loaded.output
    assert ", 0 rejected," in loaded.output, loaded.output


def rows(database: Path, sql: str, *parameters: object) -> list[dict[str, Any]]:
    with duckdb.connect(str(database), read_only=True) as connection:
        cursor = connection.execute(sql, list(parameters))
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


ASSIGNMENTS = "select * from marts.experiment_assignments where experiment_id = ?"


def lift_rows(database: Path) -> dict[tuple[str, str | None], dict[str, Any]]:
    return {
        (row["experiment_id"], row["variant_id"]): row
        for row in rows(database, "select * from marts.experiment_lift")
    }


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("experiments")
    database = root / "warehouse.duckdb"
    land(root, database, "load-1", first_load())
    build(database, *SELECT)
    return database


def expected_lift(n_t: int, x_t: int, n_c: int, x_c: int) -> dict[str, float | None]:
    """The issue's formulas, written out again here (not the model's SQL)."""
    p_t = x_t / n_t if n_t else None
    p_c = x_c / n_c if n_c else None
    if p_t is None or p_c is None:
        return {"absolute_lift": None, "relative_lift": None, "lift_ci_low": None,
                "lift_ci_high": None, "z_score": None, "confidence": None}  # fmt: skip
    lift = p_t - p_c
    se = math.sqrt(p_t * (1 - p_t) / n_t + p_c * (1 - p_c) / n_c)
    p = (x_t + x_c) / (n_t + n_c)
    z = lift / math.sqrt(p * (1 - p) * (1 / n_t + 1 / n_c)) if 0 < p < 1 else None
    return {
        "absolute_lift": lift,
        "relative_lift": lift / p_c if p_c else None,
        "lift_ci_low": lift - 1.959964 * se if se else None,
        "lift_ci_high": lift + 1.959964 * se if se else None,
        "z_score": z,
        "confidence": None if z is None else math.erf(abs(z) / math.sqrt(2)),
    }


def assert_row(row: dict[str, Any], expected: dict[str, Any]) -> None:
    for column, value in expected.items():
        if value is None or isinstance(value, bool | str):
            assert row[column] == value, (column, row[column], value)
        else:  # confidence: the engine's erf approximation is within 1.5e-7
            assert row[column] == pytest.approx(value, abs=1e-6), (column, row[column], value)


def test_the_worked_example(built):
    row = lift_rows(built)[(E1, E1_VARIANT)]
    assert (row["treatment_users"], row["treatment_converters"]) == (5, 2)
    assert (row["control_users"], row["control_converters"]) == (4, 1)
    assert row["treatment_conversion_rate"] == pytest.approx(0.4)
    assert row["control_conversion_rate"] == pytest.approx(0.25)
    assert row["absolute_lift"] == pytest.approx(0.15)
    assert row["relative_lift"] == pytest.approx(0.6)
    assert row["lift_ci_low"] == pytest.approx(-0.4537, abs=5e-5)
    assert row["lift_ci_high"] == pytest.approx(0.7537, abs=5e-5)
    assert row["z_score"] == pytest.approx(0.4743, abs=5e-5)
    assert row["confidence"] == pytest.approx(0.3647, abs=5e-5)
    assert (row["experiment_name"], row["variant_name"]) == (E1_NAME, "Variant A")
    pooled = lift_rows(built)[(E1, None)]
    assert {k: v for k, v in pooled.items() if k not in ("variant_id", "variant_name")} == {
        k: v for k, v in row.items() if k not in ("variant_id", "variant_name")
    }


def test_two_variants_aborts_window_and_revenue(built):
    lift = lift_rows(built)
    # A: 4 users (a3 aborted), converters a1 and a3; B: 3 users (b3 aborted),
    # converters b2 (twice: once) and b3 (at the window's last second); control 4, c1.
    for variant, (n_t, x_t, revenue) in {
        E2_A: (4, 2, 20.0 / 4),  # a1's 20 USD; its 10 EUR came after the window
        E2_B: (3, 2, 0.0),  # b2's purchase came before the assignment
        None: (7, 4, 20.0 / 7),
    }.items():
        row = lift[(E2, variant)]
        assert_row(row, {
            "experiment_name": E2_NAME, "treatment_users": n_t, "treatment_converters": x_t,
            "control_users": 4, "control_converters": 1,
            "treatment_conversion_rate": x_t / n_t, "control_conversion_rate": 0.25,
            "treatment_revenue_per_user": revenue,
            "control_revenue_per_user": 5.0 * 1.27 / 4,  # c1's 5 GBP = 6.35 USD
            **expected_lift(n_t, x_t, 4, 1),
        })  # fmt: skip
    # A against the control by hand: p_t 0.5, p_c 0.25, lift 0.25, relative 1.0;
    # se = sqrt(0.25/4 + 0.1875/4) = 0.330719, interval 0.25 ± 0.648197; pooled p = 3/8,
    # z = 0.25 / sqrt(0.234375 · 0.5) = 0.730297, confidence erf(0.516398) = 0.5347.
    assert_row(lift[(E2, E2_A)], {
        "relative_lift": 1.0, "lift_ci_low": -0.398197, "lift_ci_high": 0.898197,
        "z_score": 0.730297,
    })  # fmt: skip
    assert lift[(E2, E2_A)]["confidence"] == pytest.approx(0.5347, abs=1e-4)
    assert lift[(E2, E2_A)]["variant_name"] == "Variante A – kurz"

    assigned = {
        row["user_id"]: row
        for row in rows(built, ASSIGNMENTS, E2)
    }  # fmt: skip
    a3, b3 = assigned[user("a3")], assigned[user("b3")]
    assert (a3["assignment_event_type"], a3["is_sent"], a3["is_converted"]) == (
        "abort",
        False,
        True,
    )
    assert (b3["assignment_event_type"], b3["is_sent"], b3["variant_id"]) == ("abort", False, E2_B)
    assert b3["converted_at"] == (T0 + timedelta(hours=720)).replace(tzinfo=None)
    assert assigned[user("b1")]["is_converted"] is False
    assert assigned[user("a2")]["is_converted"] is False
    assert assigned[user("a4")]["is_converted"] is False
    assert assigned[user("b2")]["converted_at"] == (T0 + timedelta(hours=5)).replace(tzinfo=None)
    assert assigned[user("a1")]["revenue"] == pytest.approx(20.0)
    assert assigned[user("c1")]["revenue"] == pytest.approx(6.35)
    assert assigned[user("c1")]["is_control"] is True
    assert assigned[user("c1")]["variant_id"] == E2_CONTROL
    assert assigned[user("c1")]["is_sent"] is False
    assert assigned[user("a1")]["is_sent"] is True


def test_an_experiment_without_control_has_null_comparisons(built):
    lift = lift_rows(built)
    # P: p1 and p2, p1 converts; Q: q1; pooled 3 users, 1 converter.
    for variant, (n_t, x_t) in {E3_P: (2, 1), E3_Q: (1, 0), None: (3, 1)}.items():
        assert_row(lift[(E3, variant)], {
            "treatment_users": n_t, "treatment_converters": x_t, "control_users": 0,
            "control_converters": 0, "treatment_conversion_rate": x_t / n_t,
            "control_conversion_rate": None, "control_revenue_per_user": None,
            **expected_lift(n_t, x_t, 0, 0),  # all None
        })  # fmt: skip


def test_conflicting_assignments_and_a_variant_without_users(built):
    lift = lift_rows(built)
    # M: m1, m2 (m2's later control enrollment does not move it); N: k1's Send came
    # after its control enrollment, so N has nobody; control k1, k2, no converter.
    # M by hand: p_t 0.5, p_c 0; relative null; se = sqrt(0.25/2) = 0.353553, interval
    # 0.5 ± 0.692951; pooled p = 1/4, z = 0.5 / sqrt(0.1875) = 1.154701.
    assert_row(lift[(E4, E4_M)], {
        "treatment_users": 2, "treatment_converters": 1, "control_users": 2,
        "control_converters": 0, "treatment_conversion_rate": 0.5,
        "control_conversion_rate": 0.0, "absolute_lift": 0.5, "relative_lift": None,
        "lift_ci_low": 0.5 - 0.692951, "lift_ci_high": 0.5 + 0.692951, "z_score": 1.154701,
    })  # fmt: skip
    assert lift[(E4, E4_M)]["confidence"] == pytest.approx(0.7518, abs=1e-4)
    assert_row(lift[(E4, E4_N)], {
        "treatment_users": 0, "treatment_converters": 0, "control_users": 2,
        "treatment_conversion_rate": None, "control_conversion_rate": 0.0,
        "treatment_revenue_per_user": None, **expected_lift(0, 0, 2, 0),
    })  # fmt: skip
    assert lift[(E4, None)]["treatment_users"] == 2
    assigned = {
        row["user_id"]: row
        for row in rows(built, ASSIGNMENTS, E4)
    }  # fmt: skip
    assert sorted(
        (who, assigned[user(who)]["variant_id"], assigned[user(who)]["has_conflicting_assignment"])
        for who in ["k1", "k2", "m1", "m2"]
    ) == [("k1", E4_CONTROL, True), ("k2", E4_CONTROL, False), ("m1", E4_M, False),
          ("m2", E4_M, True)]  # fmt: skip
    assert assigned[user("k1")]["is_control"] is True
    assert assigned[user("k1")]["is_sent"] is True  # the leak is visible


def test_a_canvas_with_control(built):
    lift = lift_rows(built)
    # cv1: v1, v2, v3 (v1 converts; v2's conversion is secondary); control w1, w2 (w1).
    assert_row(lift[(E5, E5_VARIANT)], {
        "experiment_type": "canvas", "experiment_name": E5_NAME, "variant_name": "Variant 1",
        "treatment_users": 3, "treatment_converters": 1, "control_users": 2,
        "control_converters": 1, "treatment_conversion_rate": 1 / 3,
        "control_conversion_rate": 0.5, "absolute_lift": 1 / 3 - 0.5,
        "relative_lift": (1 / 3 - 0.5) / 0.5, **expected_lift(3, 1, 2, 1),
    })  # fmt: skip
    sent = rows(built, ASSIGNMENTS, E5)
    assert sorted((r["user_id"], r["is_sent"], r["is_control"]) for r in sent) == sorted([
        (user("v1"), True, False), (user("v2"), True, False), (user("v3"), False, False),
        (user("w1"), False, True), (user("w2"), False, True),
    ])  # fmt: skip
    assert {r["assignment_event_type"] for r in sent} == {"canvas_entry"}


def test_a_canvas_experiment_step(built):
    lift = lift_rows(built)
    # A: s1..s4, s1 and s2 convert; B: s5 (its Canvas conversion is not the step's), s6;
    # control s7 (converts), s8.
    for variant, name, (n_t, x_t) in [(E6_A, "Path A", (4, 2)), (E6_B, "Path B", (2, 0)),
                                      (None, None, (6, 2))]:  # fmt: skip
        assert_row(lift[(E6_STEP, variant)], {
            "experiment_type": "canvas_experiment_step", "experiment_name": "Subject line test",
            "variant_name": name, "treatment_users": n_t, "treatment_converters": x_t,
            "control_users": 2, "control_converters": 1, "treatment_conversion_rate": x_t / n_t,
            "control_conversion_rate": 0.5, **expected_lift(n_t, x_t, 2, 1),
        })  # fmt: skip
    # A against the control: both 0.5: lift 0, z 0, confidence 0 (erf(0)).
    assert lift[(E6_STEP, E6_A)]["confidence"] == pytest.approx(0.0, abs=1e-6)
    step_rows = rows(built, ASSIGNMENTS, E6_STEP)
    assert len(step_rows) == 8 and {r["is_sent"] for r in step_rows} == {
        None
    }  # sends do not name their split


def test_what_compares_nothing_is_no_experiment(built):
    experiments = rows(built, """
        select experiment_type, experiment_id, count(*) as users
        from marts.experiment_assignments group by all
    """)  # fmt: skip
    found = sorted((r["experiment_type"], r["experiment_id"], r["users"]) for r in experiments)
    assert found == sorted([
        ("campaign", E1, 9), ("campaign", E2, 11), ("campaign", E3, 3), ("campaign", E4, 4),
        ("canvas", E5, 5), ("canvas_experiment_step", E6_STEP, 8),
    ])  # fmt: skip
    # one row per variant and one pooled row per experiment
    assert len(lift_rows(built)) == 2 + 3 + 3 + 3 + 2 + 3


def marts(database: Path) -> dict[str, list[tuple]]:
    with duckdb.connect(str(database), read_only=True) as connection:
        return {
            mart: sorted(connection.execute(f"select * from marts.{mart}").fetchall(), key=repr)
            for mart in ["experiment_assignments", "experiment_lift"]
        }


def work_list(database: Path) -> list[tuple]:
    with duckdb.connect(str(database), read_only=True) as connection:
        return sorted(
            connection.execute(
                "select provider, experiment_type, experiment_id "
                "from intermediate.int_experiments_to_recompute"
            ).fetchall()
        )


def test_a_later_load_recomputes_only_its_experiment(built, tmp_path):
    database = tmp_path / "incremental.duckdb"
    shutil.copyfile(built, database)
    before = lift_rows(database)

    land(tmp_path, database, "load-2", second_load())
    build(database, *SELECT)
    assert work_list(database) == [("braze", "campaign", E3)]
    after = lift_rows(database)
    # E3 now has a control (r1, converts): P (p1, p2 both converted) 1.0 against 1.0.
    assert_row(after[(E3, E3_P)], {
        "treatment_users": 2, "treatment_converters": 2, "control_users": 1,
        "control_converters": 1, "absolute_lift": 0.0, "relative_lift": 0.0,
        "lift_ci_low": None, "z_score": None, "confidence": None,  # zero variances
    })  # fmt: skip
    assert {k: v for k, v in after.items() if k[0] != E3} == {
        k: v for k, v in before.items() if k[0] != E3
    }

    land(tmp_path, database, "load-3", third_load())
    build(database, *SELECT)
    assert work_list(database) == [("braze", "canvas", E5)]
    # w1's 7.25 USD: the control's revenue per user is 7.25 / 2
    assert lift_rows(database)[(E5, E5_VARIANT)]["control_revenue_per_user"] == pytest.approx(3.625)

    full = tmp_path / "full.duckdb"
    shutil.copyfile(database, full)
    build(full, *SELECT, "--full-refresh")
    assert work_list(full) == []
    assert marts(database) == marts(full)

    build(database, *SELECT)  # nothing new: nothing to recompute, nothing changes
    assert work_list(database) == []
    assert marts(database) == marts(full)


def test_erf_is_within_a_millionth(tmp_path):
    """The erf macro as the engine runs it, against Python's math.erf from -6 to 6."""
    completed = subprocess.run(
        [dbt.dbt_executable(), "--quiet", "compile", "--profiles-dir", ".", "--inline",
         "select x, {{ outbound_events.erf('x') }} as erf_x from points"],
        cwd=project_dir(), capture_output=True, text=True, check=False,
        env={**os.environ, "OUTBOUND_EVENTS_DB": str(tmp_path / "erf.duckdb")},
    )  # fmt: skip
    assert completed.returncode == 0, completed.stdout + completed.stderr
    with duckdb.connect() as connection:
        connection.execute(
            "create table points as "
            "select (i / 1000.0)::double as x from range(-6000, 6001) as t(i)"
        )
        values = connection.execute(completed.stdout).fetchall()
    assert len(values) == 12001
    worst = max(abs(erf_x - math.erf(x)) for x, erf_x in values)
    assert worst < 1e-6, worst
    with duckdb.connect() as connection:
        connection.execute("create table points as select cast(null as double) as x")
        assert connection.execute(completed.stdout).fetchall() == [(None, None)]


def test_a_window_that_is_no_number_is_said(tmp_path):
    with warehouse_env(tmp_path / "window.duckdb"):
        completed = subprocess.run(
            [dbt.dbt_executable(), "compile", "--profiles-dir", ".", "--select",
             "experiment_assignments", "--vars",
             '{"outbound_events__experiment_window_hours": "30d"}'],
            cwd=project_dir(), capture_output=True, text=True, check=False,
        )  # fmt: skip
    assert completed.returncode != 0
    assert "outbound_events__experiment_window_hours must be a positive number of hours" in (
        completed.stdout
    )
    assert '"30d"' in completed.stdout
