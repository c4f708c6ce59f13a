"""Kube: one cluster connection (kubeconfig + context) with retries and kslab's error types.

Built on the kubernetes client's DynamicClient so every resource, built-in or custom, goes through
one code path. Transient failures (429 with Retry-After, 5xx, dropped connections) are retried with
tenacity; everything else becomes a KubeApiError / NotFound / ClusterUnreachable.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from kslab.kube.errors import RETRIABLE_STATUS, ClusterUnreachable, KubeApiError, KubeconfigMissing, NotFound
from kslab.kube.resources import ResourceRef

T = TypeVar("T")
Obj = dict[str, Any]
FIELD_MANAGER = "kslab"


def _status_of(exc: BaseException) -> int | None:
    status = getattr(exc, "status", None)
    return status if isinstance(status, int) else None


def _is_transient(exc: BaseException) -> bool:
    import urllib3.exceptions

    if _status_of(exc) in RETRIABLE_STATUS:
        return True
    return isinstance(exc, urllib3.exceptions.ProtocolError | urllib3.exceptions.ReadTimeoutError)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _retry_after(exc: BaseException) -> float | None:
    headers = getattr(exc, "headers", None) or {}
    value = headers.get("Retry-After") if hasattr(headers, "get") else None
    try:
        return min(float(value), 10.0) if value is not None else None
    except ValueError:
        return None


class Kube:
    """A connection to one cluster. Cheap to build; discovery happens on first use."""

    def __init__(self, kubeconfig: str | None = None, context: str | None = None, *,
                 request_timeout: float = 30.0, attempts: int = 5, backoff: float = 0.2) -> None:
        from kubernetes import client, config

        configuration = client.Configuration()
        try:
            config.load_kube_config(config_file=kubeconfig, context=context, client_configuration=configuration,
                                    persist_config=False)
        except (config.ConfigException, FileNotFoundError, TypeError) as exc:
            where = kubeconfig or "$KUBECONFIG / ~/.kube/config"
            raise KubeconfigMissing(f"no usable kubeconfig at {where}" + (f" (context {context})" if context else "")
                                    + f": {exc}", "create a cluster with 'kslab up' or pass --kubeconfig/--context"
                                    ) from None
        self.host: str = configuration.host
        self.request_timeout = request_timeout
        self.attempts = attempts
        self.backoff = backoff
        self._api_client = client.ApiClient(configuration)
        self._discovered: list[Any] = [None]  # the DynamicClient, in a cell that retrying() clones share

    # -- plumbing ----------------------------------------------------------------------------
    def retrying(self, attempts: int) -> Kube:
        """The same client (same connection pool, same API discovery) with another number of attempts per call."""
        clone = copy.copy(self)
        clone.attempts = attempts
        return clone

    def _pause(self, exc: BaseException | None, attempt: int) -> float:
        """Seconds before retry ``attempt + 1``: the server's Retry-After, else exponential backoff."""
        hinted = _retry_after(exc) if exc is not None else None
        return hinted if hinted is not None else min(self.backoff * 2 ** (attempt - 1), 2.0)

    def call(self, what: str, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run one API call with retries on transient errors; translate the final failure."""
        import tenacity

        retrying = tenacity.Retrying(retry=tenacity.retry_if_exception(_is_transient),
                                     wait=lambda state: self._pause(state.outcome.exception() if state.outcome
                                                                    else None, state.attempt_number),
                                     stop=tenacity.stop_after_attempt(self.attempts), reraise=True)
        try:
            return retrying(fn, *args, **kwargs)
        except Exception as exc:
            raise self._final(exc, what) from None

    def _final(self, exc: Exception, what: str) -> Exception:
        """The kslab error for a call's last failure (``exc`` itself when it is no API or connection failure)."""
        import urllib3.exceptions

        if isinstance(exc, urllib3.exceptions.MaxRetryError):
            return ClusterUnreachable(f"cannot reach the Kubernetes API at {self.host} ({what}): {exc.reason}",
                                      "is the cluster running? check 'kslab status' or --kubeconfig/--context")
        if isinstance(exc, urllib3.exceptions.ProtocolError | urllib3.exceptions.ReadTimeoutError):
            return ClusterUnreachable(f"the Kubernetes API at {self.host} stopped answering ({what}) after "
                                      f"{self.attempts} attempts: {_first_line(exc)}",
                                      "is the cluster running? check 'kslab status' or --kubeconfig/--context")
        status = _status_of(exc)
        return exc if status is None else self._translate(exc, status, what)

    @staticmethod
    def _translate(exc: BaseException, status: int, what: str) -> KubeApiError:
        import json

        body = getattr(exc, "body", None)
        message, reason = str(getattr(exc, "reason", "") or what), str(getattr(exc, "reason", "") or "")
        try:
            parsed = json.loads(body) if body else {}
            message = parsed.get("message") or message
            reason = parsed.get("reason") or reason
        except (TypeError, ValueError):
            pass
        cls = NotFound if status == 404 else KubeApiError
        return cls(status, reason, message)

    @property
    def dynamic(self) -> Any:
        """The discovery-backed client, built on first use once per connection (clones included)."""
        if self._discovered[0] is None:
            from kubernetes.dynamic import DynamicClient

            self._discovered[0] = self.call("API discovery", DynamicClient, self._api_client)
        return self._discovered[0]

    def resource(self, ref: ResourceRef) -> Any:
        """The discovered API resource for ``ref``; the lazy discovery request it may make is retried like any call."""
        from kubernetes.dynamic.exceptions import ResourceNotFoundError

        try:
            return self.call(f"API discovery of {ref.api_version}", self._discover, ref)
        except ResourceNotFoundError:
            raise NotFound(404, "NotFound", f'the server doesn\'t have a resource type "{ref.plural}" '
                           f"({ref.api_version})", "install the component that provides it (kslab up)") from None

    def _discover(self, ref: ResourceRef) -> Any:
        """The client's discoverer reads a 5xx on /apis/<group>/<version> as "no resources here"; when it finds
        nothing, the group is asked directly and an unavailable group is raised as that 5xx (retried by ``call``)."""
        from kubernetes.client.exceptions import ApiException
        from kubernetes.dynamic.exceptions import ResourceNotFoundError

        try:
            return self.dynamic.resources.get(api_version=ref.api_version, kind=ref.kind)
        except ResourceNotFoundError:
            path = f"/apis/{ref.api_version}" if ref.group else f"/api/{ref.api_version}"
            try:
                self.dynamic.request("GET", path, _request_timeout=self.request_timeout)
            except ApiException as exc:
                if exc.status is not None and exc.status >= 500:
                    self.dynamic.resources.invalidate_cache()  # it cached the group as empty
                    unavailable = ApiException(status=exc.status, reason=str(exc.reason or "ServiceUnavailable"))
                    unavailable.body = json.dumps({"message": f"the API group {ref.api_version} is unavailable "
                                                              f"(its discovery answered {exc.status})"})
                    raise unavailable from None
            raise

    @staticmethod
    def _dict(result: Any) -> Obj:
        return result.to_dict() if hasattr(result, "to_dict") else dict(result)

    # -- verbs -------------------------------------------------------------------------------
    def version(self) -> Obj:
        from kubernetes import client

        info = self.call("GET /version", client.VersionApi(self._api_client).get_code,
                         _request_timeout=self.request_timeout)
        return info.to_dict()

    def get(self, ref: ResourceRef, name: str, namespace: str | None = None) -> Obj:
        res = self.resource(ref)
        return self._dict(self.call(f"get {ref.describe(name, namespace)}", res.get, name=name,
                                    namespace=namespace, _request_timeout=self.request_timeout))

    def find(self, ref: ResourceRef, name: str, namespace: str | None = None) -> Obj | None:
        try:
            return self.get(ref, name, namespace)
        except NotFound:
            return None

    def list(self, ref: ResourceRef, namespace: str | None = None, label_selector: str | None = None,
             field_selector: str | None = None) -> tuple[list[Obj], str]:
        """Items and the list's resourceVersion (the point a watch continues from)."""
        res = self.resource(ref)
        result = self._dict(self.call(f"list {ref.plural}", res.get, namespace=namespace,
                                      label_selector=label_selector, field_selector=field_selector,
                                      _request_timeout=self.request_timeout))
        return list(result.get("items") or []), str((result.get("metadata") or {}).get("resourceVersion", ""))

    def apply(self, ref: ResourceRef, body: Obj, namespace: str | None = None, *, force: bool = True) -> Obj:
        """Server-side apply with field manager 'kslab' (creates when missing)."""
        res = self.resource(ref)
        name = body["metadata"]["name"]
        return self._dict(self.call(f"apply {ref.describe(name, namespace)}", self.dynamic.server_side_apply, res,
                                    body=body, name=name, namespace=namespace, field_manager=FIELD_MANAGER,
                                    force_conflicts=force, _request_timeout=self.request_timeout))

    def create(self, ref: ResourceRef, body: Obj, namespace: str | None = None) -> Obj:
        res = self.resource(ref)
        return self._dict(self.call(f"create {ref.describe(body['metadata']['name'], namespace)}", res.create,
                                    body=body, namespace=namespace, _request_timeout=self.request_timeout))

    def patch_merge(self, ref: ResourceRef, name: str, patch: Obj, namespace: str | None = None) -> Obj:
        return self._patch(ref, name, patch, namespace, "application/merge-patch+json")

    def patch_json(self, ref: ResourceRef, name: str, operations: list[Obj], namespace: str | None = None) -> Obj:
        """RFC 6902 JSON patch (e.g. to change one list item, which a merge patch would replace)."""
        return self._patch(ref, name, operations, namespace, "application/json-patch+json")

    def _patch(self, ref: ResourceRef, name: str, body: Any, namespace: str | None, content_type: str) -> Obj:
        res = self.resource(ref)
        return self._dict(self.call(f"patch {ref.describe(name, namespace)}", res.patch, body=body, name=name,
                                    namespace=namespace, content_type=content_type,
                                    _request_timeout=self.request_timeout))

    def delete(self, ref: ResourceRef, name: str, namespace: str | None = None,
               propagation: str = "Background") -> None:
        res = self.resource(ref)
        self.call(f"delete {ref.describe(name, namespace)}", res.delete, name=name, namespace=namespace,
                  body={"propagationPolicy": propagation}, _request_timeout=self.request_timeout)

    def pod_log(self, name: str, namespace: str, container: str | None = None, tail_lines: int | None = None) -> str:
        """The pods/log subresource: what ``kubectl logs POD -c CONTAINER --tail N`` prints."""
        from kubernetes import client

        api = client.CoreV1Api(self._api_client)
        return str(self.call(f"logs {name} -c {container} -n {namespace}", api.read_namespaced_pod_log, name=name,
                             namespace=namespace, container=container, tail_lines=tail_lines,
                             _request_timeout=self.request_timeout) or "")

    def pod_proxy_get(self, name: str, namespace: str, port: int, path: str) -> str:
        """GET /api/v1/namespaces/<ns>/pods/<name>:<port>/proxy/<path> (the pod proxy): the pod port's answer body."""
        from kubernetes import client

        api = client.CoreV1Api(self._api_client)
        return str(self.call(f"GET pods/{name}:{port}/proxy/{path} -n {namespace}",
                             api.connect_get_namespaced_pod_proxy_with_path, name=f"{name}:{port}",
                             namespace=namespace, path=path.lstrip("/"), _request_timeout=self.request_timeout) or "")

    def watch(self, ref: ResourceRef, namespace: str | None = None, *, name: str | None = None,
              label_selector: str | None = None, resource_version: str | None = None,
              timeout_seconds: int = 60) -> Iterator[tuple[str, Obj]]:
        """(event type, object) pairs for about ``timeout_seconds``, or until the server ends the stream.

        Transient failures (a 5xx/429 answer to the watch request or as an ERROR event, a stream cut mid-read)
        are retried like any call, each time continuing from the last resourceVersion seen, so no event is lost
        or repeated; ``attempts`` consecutive failures end it with a KubeApiError or ClusterUnreachable. A 410
        Gone surfaces as KubeApiError(410): the caller re-lists and watches from the list's resourceVersion.
        """
        import time

        res = self.resource(ref)
        what = f"watch {ref.plural}"
        deadline = time.monotonic() + timeout_seconds
        failures = 0
        while (remaining := deadline - time.monotonic()) > 0:
            try:
                for event in self.dynamic.watch(res, namespace=namespace, name=name, label_selector=label_selector,
                                                resource_version=resource_version, timeout=max(1, round(remaining))):
                    obj = event["raw_object"]
                    resource_version = ((obj or {}).get("metadata") or {}).get("resourceVersion") or resource_version
                    failures = 0
                    yield event["type"], obj
                return
            except Exception as exc:
                failures += 1
                if not _is_transient(exc) or failures >= self.attempts:
                    raise self._final(exc, what) from None
                time.sleep(min(self._pause(exc, failures), max(deadline - time.monotonic(), 0.0)))
