"""scim2-server's ASGI application with a static bearer token, for uvicorn.

The benchmark's SCIM target (README.md, "Benchmarks"): the same library as
the `scim2-server` CLI the tests use, served by uvicorn with HTTP/1.1
keep-alive. Run from the repository root:

    SCIM_TOKEN=s3cret .peers/scim2/bin/uvicorn --app-dir bench/peers scim2_asgi:app \
        --host 127.0.0.1 --port 18084 --no-access-log

Every request but GET /ServiceProviderConfig needs `Authorization: Bearer
$SCIM_TOKEN` (without SCIM_TOKEN every request is accepted). The store is in
memory and starts empty.

The server counts the requests it receives, by method, so the benchmark
takes request counts at the target: `GET /_bench/requests` answers them as
JSON ({"GET": 3, "POST": 10000, ...}) and is itself neither counted nor
authenticated. Counting is one dictionary increment per request.
"""
import json
import os
from collections import Counter

from scim2_models import UnauthorizedException
from scim2_server.applications.asgi import ASGIApplication
from scim2_server.memory import AsyncInMemoryStorage
from scim2_server.utils import load_default_provider

TOKEN = os.environ.get("SCIM_TOKEN", "")
COUNTS_PATH = "/_bench/requests"


class App(ASGIApplication):
    def check_auth(self, request):
        if TOKEN and (request.header("Authorization") or "") != f"Bearer {TOKEN}":
            raise UnauthorizedException


scim_app = App(AsyncInMemoryStorage(), load_default_provider())
counts = Counter()


async def app(scope, receive, send):
    """The SCIM application, counting the HTTP requests it receives."""
    if scope["type"] == "http":
        if scope["path"] == COUNTS_PATH:
            body = json.dumps(counts).encode()
            await send({"type": "http.response.start", "status": 200,
                        "headers": [(b"content-type", b"application/json")]})
            await send({"type": "http.response.body", "body": body})
            return
        counts[scope["method"]] += 1
    await scim_app(scope, receive, send)
