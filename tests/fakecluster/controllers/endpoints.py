"""The endpoints controller: Endpoints <service> list the ready (and not-ready) pods a Service selects.

Named target ports are resolved against each pod's container ports, like the real controller.
Services without a selector (ExternalName, headless-without-selector) get no Endpoints object.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..resources import ENDPOINTS, PODS, SERVICES
from ..selectors import matches_selector
from ..store import Event
from .common import delete_quietly, is_deleting, labels_of, selector_string
from .framework import Reconciler, Request
from .pods import pod_is_ready

Obj = dict[str, Any]
MANAGER = "endpoint-controller"


def _resolve(pod: Obj, target: object, default: int) -> int | None:
    if target is None:
        return default
    if isinstance(target, int) or str(target).isdigit():
        return int(str(target))
    for container in (pod.get("spec") or {}).get("containers") or []:
        for port in container.get("ports") or []:
            if port.get("name") == target:
                return int(port["containerPort"])
    return None


class EndpointsReconciler(Reconciler):
    name = "endpoints"
    watches = ("/services", "/pods")

    def requests_for(self, event: Event) -> Iterable[Request]:
        if event.key == "/services":
            return [(event.namespace, str(event.object["metadata"]["name"]))]
        labels = labels_of(event.object)
        services, _ = self.store.list(SERVICES, event.namespace)
        return [(event.namespace, s["metadata"]["name"]) for s in services
                if matches_selector(labels, (s.get("spec") or {}).get("selector") or {})]

    def reconcile(self, namespace: str, name: str) -> None:
        svc = self.store.find(SERVICES, namespace, name)
        selector = ((svc or {}).get("spec") or {}).get("selector") or {}
        if svc is None or not selector or svc["spec"].get("type") == "ExternalName":
            if self.store.find(ENDPOINTS, namespace, name) is not None and (svc is None or not selector):
                delete_quietly(self.store, ENDPOINTS, namespace, name)
            return
        pods, _ = self.store.list(PODS, namespace, label_selector=selector_string(selector))
        subsets: dict[tuple[tuple[str, int, str], ...], Obj] = {}
        for pod in pods:
            ip = (pod.get("status") or {}).get("podIP")
            if not ip or is_deleting(pod) or not matches_selector(labels_of(pod), selector):
                continue
            ports = []
            for sp in svc["spec"].get("ports") or []:
                number = _resolve(pod, sp.get("targetPort"), int(sp.get("port", 0)))
                if number is not None:
                    ports.append((str(sp.get("name", "")), number, str(sp.get("protocol", "TCP"))))
            subset = subsets.setdefault(tuple(ports), {"addresses": [], "notReadyAddresses": []})
            address = {"ip": ip, "nodeName": pod["spec"].get("nodeName", ""),
                       "targetRef": {"kind": "Pod", "name": pod["metadata"]["name"], "namespace": namespace,
                                     "uid": pod["metadata"]["uid"]}}
            subset["addresses" if pod_is_ready(pod) else "notReadyAddresses"].append(address)
        out = []
        for ports, subset in subsets.items():
            entry: Obj = {k: v for k, v in subset.items() if v}
            entry["ports"] = [{**({"name": n} if n else {}), "port": p, "protocol": proto} for n, p, proto in ports]
            out.append(entry)
        desired: Obj = {"metadata": {"name": name, "labels": labels_of(svc)}}
        if out:
            desired["subsets"] = out
        live = self.store.find(ENDPOINTS, namespace, name)
        if live is None:
            self.store.create(ENDPOINTS, namespace, desired, manager=MANAGER)
        elif live.get("subsets") != desired.get("subsets") or labels_of(live) != labels_of(svc):
            def change(obj: Obj) -> None:
                obj["metadata"]["labels"] = labels_of(svc)
                obj.pop("subsets", None)
                if out:
                    obj["subsets"] = out
            self.store.mutate(ENDPOINTS, namespace, name, change, manager=MANAGER)
