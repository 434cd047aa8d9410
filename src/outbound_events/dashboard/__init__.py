"""`outbound-events dashboard`: the funnel dashboard (Streamlit) on 127.0.0.1."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from outbound_events.dashboard.data import MARTS, OPTIONAL_MARTS

APP = Path(__file__).with_name("app.py")
WAREHOUSE_ENV = "OUTBOUND_EVENTS_DASHBOARD_DB"


def streamlit_arguments(port: int) -> list[str]:
    """`streamlit run` serving the page on 127.0.0.1:`port` only, without telemetry, a
    browser of its own or a file watcher."""
    return [
        "run", str(APP),
        "--server.address", "127.0.0.1",
        "--server.port", str(port),
        "--server.headless", "true",
        "--server.fileWatcherType", "none",
        "--server.runOnSave", "false",
        "--browser.gatherUsageStats", "false",
        "--global.developmentMode", "false",
        "--client.toolbarMode", "viewer",
        "--theme.base", "light",
    ]  # fmt: skip


def serve(database: Path, port: int) -> int:
    """Serve the dashboard over `database` until interrupted; Streamlit's exit code.

    Streamlit runs in this process (its own command, `streamlit run`, called in
    process), not in a child: SIGTERM or SIGINT (Ctrl-C) to this process reach
    Streamlit's own handlers, which stop the server, and no server can outlive the
    command that started it."""
    from streamlit.web import cli as streamlit_cli

    os.environ[WAREHOUSE_ENV] = str(database)
    try:
        streamlit_cli.main.main(
            args=streamlit_arguments(port), prog_name="streamlit", standalone_mode=False
        )
    except SystemExit as stopped:  # a port in use, say
        code = stopped.code
        return (code or 0) if code is None or isinstance(code, int) else 1
    except KeyboardInterrupt:  # before Streamlit's handlers are set up
        return 0
    return 0


def spark_copy(destination: Path) -> Path:
    """A DuckDB file at `destination` holding the spark target's marts the dashboard
    reads (replaced whole; the page shows it as of this call)."""
    from outbound_events.spark_snapshot import snapshot

    destination.parent.mkdir(parents=True, exist_ok=True)
    with snapshot([f"marts.{mart}" for mart in [*MARTS, *OPTIONAL_MARTS]]) as copy:
        partial = destination.with_name(f".{destination.name}.partial")
        shutil.copyfile(copy, partial)
        os.replace(partial, destination)
    return destination
