"""A stand-in for the Cloud Storage JSON API (the two calls kslab's model-URI check makes), on 127.0.0.1.

- ``GET /storage/v1/b/BUCKET/o?prefix=P&maxResults=N``: ``{"kind": "storage#objects", "items": [...]}`` with the
  objects whose name starts with P; an empty listing has no ``items`` key at all (the API omits empty lists).
- ``GET /storage/v1/b/BUCKET/o/OBJECT``: the object's metadata, or 404 ``{"error": {"code": 404, ...}}``.
- An unknown bucket answers 404 "The specified bucket does not exist."

The shapes are the API's own (cloud.google.com/storage/docs/json_api/v1/objects/list and .../objects/get);
``tests/test_model_uri_check.py`` pins them. Objects are names only: nobody downloads from here.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

# What the public sample buckets hold for kslab's catalog (the model directories the lab deploys).
SAMPLE_OBJECTS = (
    "kfserving-examples/models/sklearn/1.0/model/model.joblib",
    "kfserving-examples/models/sklearn/1.0/model-2/model.joblib",
    "kserve-examples/models/sklearn/1.0/model-2/model.joblib",
    # Seen from this machine, but the fake cluster's storage-initializer is told to fail on it (knob
    # failing_storage_uris): the deploy/doctor tests' model that the node cannot fetch (e.g. no egress).
    "kfserving-examples/models/sklearn/1.0/model-missing/model.joblib",
)


def _error(code: int, message: str) -> dict:
    return {"error": {"code": code, "message": message, "errors": [{"message": message, "domain": "global",
                                                                     "reason": "notFound"}]}}


class FakeGcs:
    def __init__(self, objects: Iterable[str] = SAMPLE_OBJECTS) -> None:
        self.objects: set[str] = set(objects)  # "bucket/name"
        self.requests: list[str] = []
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def has(self, uri: str) -> bool:
        """Whether the storage initializer would find ``gs://BUCKET/PATH``: objects under PATH/ or the object PATH."""
        path = uri[len("gs://"):].rstrip("/")
        return path in self.objects or any(o.startswith(path + "/") for o in self.objects)

    def buckets(self) -> set[str]:
        return {o.split("/", 1)[0] for o in self.objects}

    def answer(self, path: str, query: dict[str, list[str]]) -> tuple[int, dict]:
        parts = path.split("/")  # "", storage, v1, b, BUCKET, o[, OBJECT]
        if len(parts) < 6 or parts[1:4] != ["storage", "v1", "b"] or parts[5] != "o":
            return 404, _error(404, "Not Found")
        bucket = unquote(parts[4])
        if bucket not in self.buckets():
            return 404, _error(404, "The specified bucket does not exist.")
        names = sorted(o.split("/", 1)[1] for o in self.objects if o.startswith(bucket + "/"))
        if len(parts) > 6:
            name = unquote("/".join(parts[6:]))
            if name in names:
                return 200, {"kind": "storage#object", "bucket": bucket, "name": name}
            return 404, _error(404, f"No such object: {bucket}/{name}")
        prefix = (query.get("prefix") or [""])[0]
        limit = int((query.get("maxResults") or ["1000"])[0])
        items = [{"kind": "storage#object", "bucket": bucket, "name": n} for n in names if n.startswith(prefix)]
        body: dict = {"kind": "storage#objects"}
        if items:
            body["items"] = items[:limit]
        return 200, body

    def start(self) -> FakeGcs:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def _reply(self, head_only: bool) -> None:
                parts = urlsplit(self.path)
                owner.requests.append(self.path)
                code, body = owner.answer(parts.path, parse_qs(parts.query))
                data = json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json; charset=UTF-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if not head_only:
                    self.wfile.write(data)

            def do_GET(self) -> None:
                self._reply(False)

            def do_HEAD(self) -> None:
                self._reply(True)

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True, name="fake-gcs").start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
