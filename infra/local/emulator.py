"""bucketlink's local AWS: moto server on 127.0.0.1, with IAM enforcement on, patched to answer like AWS.

    python infra/local/emulator.py [--port 0] [--stock]

Prints one line `READY http://127.0.0.1:<port>` when it accepts requests, then serves until killed.
`--stock` runs moto with the same settings and none of our patches: tests use it to prove each patch
is still needed. Besides AWS's APIs it answers (our own, under /_bucketlink/):
  POST /_bucketlink/accounts {"account_id": "222222222222"} -> an admin user's keys in that account
  POST /_bucketlink/clock {"advance_seconds": 3600}          -> move the clock used for expiry checks
  GET  /_bucketlink/health
Known differences from AWS that remain (tests do not depend on them): requests signed for the wrong
region succeed; DynamoDB TTL never expires items; S3 event records lack `sequencer`/`userIdentity`
and percent-encode `/` in keys; bucket policies are not evaluated for presigned URLs (cross-account presigned reads are denied).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import threading

# Before moto reads its settings: AWS has no global CORS layer, and one account cannot read
# another's bucket without being granted it.
os.environ["MOTO_DISABLE_GLOBAL_CORS"] = "true"
os.environ["MOTO_S3_ALLOW_CROSSACCOUNT_ACCESS"] = "false"
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")

from moto import settings  # noqa: E402
from moto.moto_server.werkzeug_app import (  # noqa: E402
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import make_server  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import patches  # noqa: E402
import presign  # noqa: E402


def _exit_on_stdin_eof() -> None:
    while sys.stdin.buffer.read(4096):
        pass
    os._exit(0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--stock", action="store_true", help="no patches: moto as shipped")
    parser.add_argument("--log-requests", action="store_true", help="log every request to stderr")
    parser.add_argument(
        "--exit-with-parent",
        action="store_true",
        help="exit when standard input closes: a test harness that dies never leaves a server behind",
    )
    args = parser.parse_args()

    app = DomainDispatcherApplication(create_backend_app)
    if not args.stock:
        patches.apply()
        presign.apply()
    wsgi = presign.Middleware(app, verify=not args.stock)
    # Our admin endpoint creates users directly, so enforcement is on from the first request.
    settings.INITIAL_NO_AUTH_ACTION_COUNT = 0
    server = make_server(args.host, args.port, wsgi, threaded=True, request_handler=MotoRequestHandler)
    if not args.log_requests:
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
    if args.exit_with_parent:
        threading.Thread(target=_exit_on_stdin_eof, daemon=True).start()
    print(f"READY http://{args.host}:{server.server_port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
