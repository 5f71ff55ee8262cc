"""The `ledgerdesk` command: dev, serve, replay."""

from __future__ import annotations

import argparse
import json
import signal
import sys
from datetime import datetime
from uuid import UUID

from ledgerdesk.bootstrap import Container, bootstrap, ensure_first_admin
from ledgerdesk.settings import Settings


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


def dev(_: argparse.Namespace) -> int:
    """Everything in one process, embedded PostgreSQL unless DATABASE_URL is set."""
    container = bootstrap(Settings())
    generated = ensure_first_admin(container)
    settings = container.settings
    email = (settings.admin_email or "admin@ledgerdesk.local").casefold()
    if generated:
        print(f"First admin created: {email} / {generated}  (shown once; set LEDGERDESK_ADMIN_PASSWORD to choose)")
    print(f"Ledgerdesk on http://{settings.host}:{settings.port}  (API docs: /docs)", flush=True)
    try:
        _serve_api(container)
    finally:
        container.close()
    return 0


def serve(args: argparse.Namespace) -> int:
    """One process of the production shape."""
    if args.process != "api":
        print(f"unknown process {args.process!r}; this build serves: api", file=sys.stderr)
        return 2
    return dev(args)


def replay(args: argparse.Namespace) -> int:
    """Print a ticket as it was at a moment, replayed from its events."""
    container = bootstrap(Settings())
    try:
        ticket = (container.desk.ticket_as_of(UUID(args.ticket), datetime.fromisoformat(args.at))
                  if args.at else container.desk.ticket(UUID(args.ticket)))
        from events.actor import Actor
        from read_api.ticket_views import ticket_state

        print(json.dumps(ticket_state(ticket, Actor.system("replay")), ensure_ascii=False, indent=2))
    finally:
        container.close()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="ledgerdesk", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("dev", help=dev.__doc__).set_defaults(run=dev)
    p_serve = sub.add_parser("serve", help=serve.__doc__)
    p_serve.add_argument("process", choices=["api"])
    p_serve.set_defaults(run=serve)
    p_replay = sub.add_parser("replay", help=replay.__doc__)
    p_replay.add_argument("ticket")
    p_replay.add_argument("--at", help="RFC 3339 time")
    p_replay.set_defaults(run=replay)
    args = parser.parse_args(argv)
    return int(args.run(args))


if __name__ == "__main__":
    raise SystemExit(main())
