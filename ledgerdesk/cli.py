"""The `ledgerdesk` command: dev, serve, replay."""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from uuid import UUID

from events.actor import Actor
from ledgerdesk.bootstrap import Container, bootstrap, ensure_first_admin
from ledgerdesk.settings import Settings
from projections.rebuild import rebuild
from projections.registry import NAMES
from read_api.ticket_views import ticket_state


@contextmanager
def _wired() -> Iterator[Container]:
    """The container for one command's run, closed however the command ends."""
    container = bootstrap(Settings())
    try:
        yield container
    finally:
        container.close()


def _serve_api(container: Container) -> None:
    import uvicorn

    from ledgerdesk.app import create_app

    settings = container.settings
    # uvicorn re-raises SIGTERM after its graceful shutdown; exiting through SystemExit
    # instead lets the caller close the container and the embedded PostgreSQL stop.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    config = uvicorn.Config(create_app(container), host=settings.host, port=settings.port,
                            loop="uvloop", http="httptools", access_log=False, log_level="info")
    uvicorn.Server(config).run()


def _spawn_projector(container: Container) -> subprocess.Popen[bytes]:
    env = {**os.environ, "DATABASE_URL": container.database_url,
           "LEDGERDESK_DATABASE_SCHEMA": container.settings.database_schema}
    return subprocess.Popen([sys.executable, "-m", "ledgerdesk.cli", "serve", "projector"], env=env)


def dev(_: argparse.Namespace) -> int:
    """Everything at once: the api here and the projector beside it; embedded PostgreSQL unless DATABASE_URL."""
    container = bootstrap(Settings())
    generated = ensure_first_admin(container)
    projector = _spawn_projector(container)
    settings = container.settings
    email = (settings.admin_email or "admin@ledgerdesk.local").casefold()
    if generated:
        print(f"First admin created: {email} / {generated}  (shown once; set LEDGERDESK_ADMIN_PASSWORD to choose)")
    print(f"Ledgerdesk on http://{settings.host}:{settings.port}  (API docs: /docs)", flush=True)
    try:
        _serve_api(container)
    finally:
        projector.terminate()
        projector.wait(timeout=10)
        container.close()
    return 0


def serve(args: argparse.Namespace) -> int:
    """One process of the production shape: api or projector."""
    with _wired() as container:
        if args.process == "api":
            ensure_first_admin(container)
            _serve_api(container)
        else:
            runner = container.projector()
            signal.signal(signal.SIGTERM, lambda *_: runner.stop())
            signal.signal(signal.SIGINT, lambda *_: runner.stop())
            runner.run_forever()
    return 0


def projections_command(args: argparse.Namespace) -> int:
    """Status (position and lag of each projection) or rebuild <name>."""
    with _wired() as container:
        runner = container.projector()
        if args.action == "rebuild":
            if not args.name:
                print("name the projection to rebuild: " + ", ".join(NAMES), file=sys.stderr)
                return 2
            position = rebuild(runner, args.name, container.settings.database_schema)
            print(json.dumps({"rebuilt": args.name, "position": position}))
            return 0
        head = container.desk.recorder.max_notification_id() or 0
        reached = runner.positions.all()
        print(json.dumps({name: {"position": reached.get(name, 0), "lag": head - reached.get(name, 0)}
                          for name in NAMES}, indent=2))
    return 0


def replay(args: argparse.Namespace) -> int:
    """Print a ticket as it was at a moment, replayed from its events."""
    with _wired() as container:
        ticket = (container.desk.ticket_as_of(UUID(args.ticket), datetime.fromisoformat(args.at))
                  if args.at else container.desk.current_ticket(UUID(args.ticket)))
        print(json.dumps(ticket_state(ticket, Actor.system("replay")), ensure_ascii=False, indent=2))
    return 0


def demo(args: argparse.Namespace) -> int:
    """Fill a running instance with realistic tickets through the command API."""
    from ledgerdesk.demo import Demo

    settings = Settings()
    login = args.login or settings.admin_email or "admin@ledgerdesk.local"
    password = args.password or settings.admin_password
    if not password:
        print("give --password (or set LEDGERDESK_ADMIN_PASSWORD) for the admin", file=sys.stderr)
        return 2
    counts = Demo(args.url, login, password).run(args.tickets)
    print(json.dumps({"tickets": sum(counts.values()), "by_status": counts}, ensure_ascii=False))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="ledgerdesk", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("dev", help=dev.__doc__).set_defaults(run=dev)
    p_serve = sub.add_parser("serve", help=serve.__doc__)
    p_serve.add_argument("process", choices=["api", "projector"])
    p_serve.set_defaults(run=serve)
    p_proj = sub.add_parser("projections", help=projections_command.__doc__)
    p_proj.add_argument("action", choices=["status", "rebuild"])
    p_proj.add_argument("name", nargs="?", choices=NAMES)
    p_proj.set_defaults(run=projections_command)
    p_demo = sub.add_parser("demo", help=demo.__doc__)
    p_demo.add_argument("--url", default="http://127.0.0.1:8000")
    p_demo.add_argument("--tickets", type=int, default=300)
    p_demo.add_argument("--login")
    p_demo.add_argument("--password")
    p_demo.set_defaults(run=demo)
    p_replay = sub.add_parser("replay", help=replay.__doc__)
    p_replay.add_argument("ticket")
    p_replay.add_argument("--at", help="RFC 3339 time")
    p_replay.set_defaults(run=replay)
    args = parser.parse_args(argv)
    return int(args.run(args))


if __name__ == "__main__":
    raise SystemExit(main())
