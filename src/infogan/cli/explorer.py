"""`infogan explore`: the local web page that steers a generator with its codes."""

from __future__ import annotations

import argparse
import contextlib

from infogan.cli.options import add_device, count


def command_explore(args: argparse.Namespace) -> None:
    from infogan.explore import make_server

    server = make_server(args.run, args.host, args.port, args.allow_remote, args.device, args.trusted_host)
    host = f"[{args.host}]" if ":" in args.host else args.host  # an IPv6 address in a URL
    print(f"exploring {args.run} at http://{host}:{server.port}/ (Ctrl-C stops)", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()
    server.server_close()


def add_commands(commands: argparse._SubParsersAction) -> None:
    """explore."""
    explore = commands.add_parser("explore", help="a local web page to steer the generator with its codes")
    explore.add_argument("run", metavar="RUN", help="run folder written by infogan train")
    explore.add_argument("--port", type=count(0, 65535), default=8000, help="port to serve on (0: any free port)")
    explore.add_argument("--host", default="127.0.0.1", help="interface to bind (not loopback: needs --allow-remote)")
    explore.add_argument("--allow-remote", action="store_true", help="let --host expose the page (it has no login)")
    explore.add_argument(
        "--trusted-host",
        action="append",
        default=[],
        metavar="NAME",
        help="another Host name the page may be opened by (repeatable; the default: --host's own names)",
    )
    add_device(explore)
    explore.set_defaults(handler=command_explore)
