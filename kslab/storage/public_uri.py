"""Does a public model URI exist? Asked before deploying, so a missing sample object fails in a second with a
clear message instead of after the storage-initializer's back-off.

- ``gs://BUCKET/PATH``: the Cloud Storage JSON API is asked what KServe's storage initializer will ask
  (kserve/kserve@v0.20.0:python/storage/kserve_storage/kserve_storage.py, ``_download_gcs``): the objects under
  the prefix ``PATH/`` (a model directory), and when there are none, the object ``PATH`` itself (a single file).
  Anonymous requests, as the initializer makes when no credentials are configured.
- ``http(s)://...``: a HEAD request on the URL.
- Any other scheme (pvc://, s3://, hf://, oci://) is not checked here: it needs credentials or the cluster.

The answer is one of ``found``, ``missing`` and ``unknown`` (no network from this machine, a 401/403, a 5xx):
only ``missing`` should stop a deploy.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import quote

DEFAULT_GCS_API = "https://storage.googleapis.com"
FOUND, MISSING, UNKNOWN, NOT_CHECKED = "found", "missing", "unknown", "not-checked"


@dataclass(frozen=True)
class UriCheck:
    uri: str
    result: str  # found | missing | unknown | not-checked
    checked_url: str | None = None
    detail: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _split_gs(uri: str) -> tuple[str, str]:
    bucket, _, path = uri[len("gs://"):].partition("/")
    return bucket, path.strip("/")


def _get(session: Any, method: str, url: str, timeout: float) -> tuple[int | None, Any, str]:
    """(status, parsed JSON or None, error text); status None when the request did not get an answer."""
    import requests

    try:
        answer = session.request(method, url, timeout=timeout, allow_redirects=True)
    except requests.RequestException as exc:
        return None, None, type(exc).__name__
    try:
        body = answer.json() if method == "GET" and answer.content else None
    except ValueError:
        body = None
    return answer.status_code, body, ""


def _gcs(session: Any, uri: str, api: str, timeout: float) -> UriCheck:
    bucket, path = _split_gs(uri)
    if not bucket:
        return UriCheck(uri, MISSING, None, "no bucket in the URI")
    listing = f"{api}/storage/v1/b/{quote(bucket, safe='')}/o?prefix={quote(path + '/' if path else '', safe='')}" \
              "&maxResults=1"
    status, body, error = _get(session, "GET", listing, timeout)
    if status is None:
        return UriCheck(uri, UNKNOWN, listing, f"no answer from the storage API ({error})")
    if status == 404:
        return UriCheck(uri, MISSING, listing, f"bucket {bucket} does not exist")
    if status != 200 or not isinstance(body, dict):
        return UriCheck(uri, UNKNOWN, listing, f"the storage API answered HTTP {status}")
    if body.get("items"):
        return UriCheck(uri, FOUND, listing, f"objects under {path}/")
    if not path:
        return UriCheck(uri, MISSING, listing, f"bucket {bucket} is empty")
    single = f"{api}/storage/v1/b/{quote(bucket, safe='')}/o/{quote(path, safe='')}"
    status, _, error = _get(session, "GET", single, timeout)
    if status == 200:
        return UriCheck(uri, FOUND, single, "a single object")
    if status == 404:
        return UriCheck(uri, MISSING, listing, f"no object {path} and nothing under {path}/ in bucket {bucket}")
    return UriCheck(uri, UNKNOWN, single, f"the storage API answered {error or f'HTTP {status}'}")


def _http(session: Any, uri: str, timeout: float) -> UriCheck:
    status, _, error = _get(session, "HEAD", uri, timeout)
    if status is None:
        return UriCheck(uri, UNKNOWN, uri, f"no answer ({error})")
    if 200 <= status < 300:
        return UriCheck(uri, FOUND, uri, f"HTTP {status}")
    if status in (404, 410):
        return UriCheck(uri, MISSING, uri, f"HTTP {status}")
    return UriCheck(uri, UNKNOWN, uri, f"HTTP {status}")


def check_public_uri(uri: str, gcs_api: str = DEFAULT_GCS_API, timeout: float = 5.0) -> UriCheck:
    """Whether ``uri`` exists, asked the way the storage initializer will fetch it (see the module doc)."""
    if not uri.startswith(("gs://", "http://", "https://")):
        return UriCheck(uri, NOT_CHECKED, None, "only gs:// and http(s):// URIs are checked from this machine")
    import requests

    with requests.Session() as session:
        session.trust_env = True  # a user's HTTPS_PROXY applies, as it would to the cluster's egress
        if uri.startswith("gs://"):
            return _gcs(session, uri, gcs_api.rstrip("/"), timeout)
        return _http(session, uri, timeout)
