"""The ``qharbor`` command: serve, worker, keys."""

from __future__ import annotations

import argparse
import logging
import sys

from . import logs
from . import settings as config
from .settings import Settings


def _storage_flags(parser: argparse.ArgumentParser) -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--data-dir", help="directory for the embedded SQLite database (env QHARBOR_DATA_DIR)")
    group.add_argument("--database", help="database URL, e.g. postgresql://user@host/db (env QHARBOR_DATABASE_URL)")


def _settings(args: argparse.Namespace, **flags: object) -> Settings:
    """This command's settings; an unusable one ends it at once, saying which and why."""
    try:
        settings = config.load(args.data_dir, args.database, **flags)
    except config.SettingsError as exc:
        sys.exit(f"qharbor: {exc}")
    logs.configure(settings.log_format)
    return settings


def _open(settings: Settings):  # type: ignore[no-untyped-def]
    """The database, migrated; a database that does not answer yet is waited for (a host that
    starts before its database, or while it restarts, comes up once it is back)."""
    from .store.db import migrate, open_engine, patiently

    engine = open_engine(settings.database_url)
    patiently("migrating", lambda: migrate(engine))
    return engine


def serve(args: argparse.Namespace) -> None:
    import uvicorn

    from .api.app import create_app
    from .api.server import guarded_protocol
    from .dispatch.supervisor import Supervisor
    from .service import keys

    settings = _settings(args, host=args.host, port=args.port, workers=args.workers, rate_limit=args.rate_limit,
                         ssl_certfile=args.ssl_certfile, ssl_keyfile=args.ssl_keyfile)
    engine = _open(settings)
    if not keys.any_active(engine):
        _, secret = keys.create(engine, "default", role=keys.ADMIN)
        print("Created the first API key (shown once; keep it):", flush=True)
        print(f"    {secret}", flush=True)
    engine.dispose()
    supervisor = Supervisor(settings)
    supervisor.start()
    where = settings.data_dir or "the database URL given"
    scheme = "https" if settings.ssl_certfile else "http"
    print(f"qharbor serving {scheme}://{settings.host}:{settings.port}/v0.4 (and /v0.3) with {settings.workers} "
          f"worker(s); data in {where}", flush=True)
    try:
        # Open event streams (GET /v0.4/jobs/events) never end by themselves: on a stop, requests
        # still running after a few seconds are cut rather than waited for without end.
        uvicorn.run(create_app(settings), host=settings.host, port=settings.port,
                    log_level=args.log_level, access_log=False, log_config=None, timeout_graceful_shutdown=5,
                    http=guarded_protocol(settings.header_timeout_s),  # slow clients: "Operating qharbor"
                    ssl_certfile=settings.ssl_certfile, ssl_keyfile=settings.ssl_keyfile)
    finally:
        supervisor.stop()


def worker(args: argparse.Namespace) -> None:
    from .dispatch.worker import main

    settings = _settings(args, handed_down=True)
    if settings.supervisor_pid is None:
        _open(settings).dispose()  # a standalone worker may be the first to reach a new database
    main(settings, args.worker_id)


def keys_command(args: argparse.Namespace) -> None:
    from .service import keys

    engine = _open(_settings(args))
    if args.action == "create":
        try:
            key_id, secret = keys.create(engine, args.name, args.project, args.role, args.expires, faults=args.faults)
        except ValueError as exc:
            sys.exit(f"qharbor: --faults: {exc}")
        print(f"created {args.role} key {key_id} ({args.name!r}); the secret is shown once:")
        print(secret)
    elif args.action == "list":
        for k in keys.list_keys(engine):
            state = "revoked" if k["revoked_at"] else "active"
            print(f"{k['id']}  {state:7}  {k['role']:6}  project={k['project_id']}  {k['name']}")
    elif args.action == "revoke":
        if not keys.revoke(engine, args.id):
            sys.exit(f"no active key with id {args.id}")
        print(f"revoked {args.id}")


def projects_command(args: argparse.Namespace) -> None:
    import orjson

    from .core.problems import InvalidRequest
    from .service import projects

    engine = _open(_settings(args))
    try:
        if args.action == "show":
            found = projects.get(engine, args.id)
        else:
            given = {"organization_id": args.organization, "name": args.name,
                     "max_unfinished_jobs": args.max_unfinished, "budget": args.budget,
                     "allowed_backends": args.backends.split(",") if args.backends else None}
            found = projects.put(engine, args.id, {k: v for k, v in given.items() if v is not None})
    except projects.ProjectNotFound as exc:
        sys.exit(str(exc))
    except InvalidRequest as exc:
        sys.exit(f"qharbor: {exc}")
    print(orjson.dumps(found, option=orjson.OPT_INDENT_2).decode())


def audit_command(args: argparse.Namespace) -> None:
    import orjson

    from .service import audit

    engine = _open(_settings(args))
    for entry in audit.read(engine, args.limit, action=args.action, project_id=args.project, key_id=args.key,
                            since=args.since):
        print(orjson.dumps(entry).decode())


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="qharbor", description="A self-hostable IonQ-compatible quantum cloud.")
    commands = root.add_subparsers(dest="command", required=True)

    p = commands.add_parser("serve", help="run the API and its worker processes")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--workers", type=int, default=None, help="worker processes (default: one per core)")
    p.add_argument("--log-level", default="info")
    p.add_argument("--ssl-certfile", help="serve HTTPS with this PEM certificate (chain); needs --ssl-keyfile")
    p.add_argument("--ssl-keyfile", help="the PEM private key of --ssl-certfile")
    p.add_argument("--rate-limit", help="requests per API key, e.g. 20/s or 600/m, or off (env QHARBOR_RATE_LIMIT; "
                   "default 6000/m)")
    _storage_flags(p)
    p.set_defaults(func=serve)

    p = commands.add_parser("worker", help="run one standalone worker (for other machines)")
    p.add_argument("--worker-id", help=argparse.SUPPRESS)
    _storage_flags(p)
    p.set_defaults(func=worker)

    p = commands.add_parser("keys", help="manage API keys")
    actions = p.add_subparsers(dest="action", required=True)
    create = actions.add_parser("create", help="create a key and print its secret (last line)")
    create.add_argument("--name", required=True)
    create.add_argument("--project", help="share an existing project's jobs (default: a new project)")
    create.add_argument("--role", choices=("admin", "member"), default="member",
                        help="admin: manages keys, projects, quotas, reads the audit log (default: member)")
    create.add_argument("--expires", type=float, metavar="DAYS", help="the key stops working after DAYS days")
    create.add_argument("--faults", metavar="SPEC", help='inject faults for testing clients\' retries, e.g. '
                        '"429=0.1,503=0.05,latency=200ms,seed=7"')
    _storage_flags(create)
    lister = actions.add_parser("list", help="list keys")
    _storage_flags(lister)
    revoke = actions.add_parser("revoke", help="revoke a key")
    revoke.add_argument("id")
    _storage_flags(revoke)
    p.set_defaults(func=keys_command)

    p = commands.add_parser("projects", help="show or set a project's organization, quotas and backends")
    actions = p.add_subparsers(dest="action", required=True)
    show = actions.add_parser("show", help="print a project's settings as JSON")
    show.add_argument("id")
    _storage_flags(show)
    put = actions.add_parser("set", help="replace a project's settings (those not given: no limit)")
    put.add_argument("id")
    put.add_argument("--organization", help="the organization it belongs to, e.g. a UUID as IonQ's "
                     "(default: 00000000-0000-0000-0000-000000000000)")
    put.add_argument("--name")
    put.add_argument("--max-unfinished", type=int, help="most unfinished jobs at once")
    put.add_argument("--backends", help="comma-separated backends its jobs may use (default: all)")
    put.add_argument("--budget", type=float, help="spending limit, in the rate card's currency (usd)")
    _storage_flags(put)
    p.set_defaults(func=projects_command)

    p = commands.add_parser("audit", help="read the audit log, newest first")
    p.add_argument("--action")
    p.add_argument("--project")
    p.add_argument("--key")
    p.add_argument("--since", type=float, help="Unix time in seconds")
    p.add_argument("--limit", type=int, default=100)
    _storage_flags(p)
    p.set_defaults(func=audit_command)
    return root


def main(argv: list[str] | None = None) -> None:
    logs.configure()
    logging.getLogger("alembic").setLevel(logging.WARNING)
    args = parser().parse_args(argv)
    args.func(args)
