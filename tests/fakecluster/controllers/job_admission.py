"""What a real apiserver does to a batch/v1 Job on create and update: defaults, generated selector, validation.

Defaults and the generated selector follow the Job REST strategy (``manualSelector`` unset): the selector is
``batch.kubernetes.io/controller-uid=<uid>`` and the template gets the controller-uid and job-name labels
(both the ``batch.kubernetes.io/`` and the legacy unprefixed keys); a Job without labels takes the
template's. Validation messages copy the apiserver's for the fields kslab's Job uses.
"""

from __future__ import annotations

import copy
from typing import Any

from ..errors import ApiError
from ..resources import ResourceType

Obj = dict[str, Any]
JOB_KEY = "batch/jobs"
UID_LABELS = ("batch.kubernetes.io/controller-uid", "controller-uid")
NAME_LABELS = ("batch.kubernetes.io/job-name", "job-name")
MODES = ("NonIndexed", "Indexed")


def _invalid(job: Obj, field: str, message: str) -> ApiError:
    return ApiError.invalid("Job", "batch", str(job["metadata"].get("name", "")), field, message)


def _default_template(spec: Obj) -> None:
    pod = spec.setdefault("template", {}).setdefault("spec", {})
    pod.setdefault("dnsPolicy", "ClusterFirst")
    pod.setdefault("schedulerName", "default-scheduler")
    pod.setdefault("terminationGracePeriodSeconds", 30)
    pod.setdefault("securityContext", {})
    for container in pod.get("containers") or []:
        container.setdefault("terminationMessagePath", "/dev/termination-log")
        container.setdefault("terminationMessagePolicy", "File")
        image = str(container.get("image", ""))
        container.setdefault("imagePullPolicy", "Always" if image.endswith(":latest") or ":" not in
                             image.rsplit("/", 1)[-1] else "IfNotPresent")
        container.setdefault("resources", {})


def _validate(job: Obj) -> None:
    spec = job.get("spec") or {}
    for key in ("parallelism", "completions", "backoffLimit"):
        value = spec.get(key)
        if value is not None and (not isinstance(value, int) or value < 0):
            raise _invalid(job, f"spec.{key}", f"Invalid value: {value}: must be greater than or equal to 0")
    for key in ("activeDeadlineSeconds",):
        value = spec.get(key)
        if value is not None and (not isinstance(value, int) or value <= 0):
            raise _invalid(job, f"spec.{key}", f"Invalid value: {value}: must be greater than 0")
    ttl = spec.get("ttlSecondsAfterFinished")
    if ttl is not None and (not isinstance(ttl, int) or ttl < 0):
        raise _invalid(job, "spec.ttlSecondsAfterFinished", f"Invalid value: {ttl}: must be greater than or equal "
                       "to 0")
    mode = spec.get("completionMode")
    if mode not in MODES:
        raise _invalid(job, "spec.completionMode", f'Unsupported value: "{mode}": supported values: "NonIndexed", '
                       '"Indexed"')
    if mode == "Indexed" and spec.get("completions") is None:
        raise _invalid(job, "spec.completions", "Required value: when completion mode is Indexed")
    pod = (spec.get("template") or {}).get("spec") or {}
    policy = pod.get("restartPolicy")
    if policy not in ("OnFailure", "Never"):
        message = 'Required value: valid values: "OnFailure", "Never"' if policy in (None, "Always") else \
            f'Unsupported value: "{policy}": supported values: "OnFailure", "Never"'
        raise _invalid(job, "spec.template.spec.restartPolicy", message)
    containers = pod.get("containers") or []
    if not containers:
        raise _invalid(job, "spec.template.spec.containers", "Required value")
    for index, container in enumerate(containers):
        for key in ("name", "image"):
            if not container.get(key):
                raise _invalid(job, f"spec.template.spec.containers[{index}].{key}", "Required value")
    selector = ((spec.get("selector") or {}).get("matchLabels")) or {}
    labels = ((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}
    if any(labels.get(k) != v for k, v in selector.items()):
        raise _invalid(job, "spec.template.metadata.labels", "Invalid value: selector does not match template "
                       "labels")


def on_create(job: Obj) -> Obj:
    job = copy.deepcopy(job)
    meta, spec = job["metadata"], job.setdefault("spec", {})
    uid, name = str(meta["uid"]), str(meta["name"])
    if spec.get("completions") is None and spec.get("parallelism") is None:
        spec["completions"] = 1
    spec.setdefault("parallelism", 1)
    spec.setdefault("backoffLimit", 6)
    spec.setdefault("completionMode", "NonIndexed")
    spec.setdefault("suspend", False)
    spec.setdefault("podReplacementPolicy", "TerminatingOrFailed")
    if spec.get("manualSelector"):
        raise _invalid(job, "spec.manualSelector", "Unsupported value: true: this fake only generates selectors")
    spec["manualSelector"] = False
    spec["selector"] = {"matchLabels": {UID_LABELS[0]: uid}}
    template_meta = spec.setdefault("template", {}).setdefault("metadata", {})
    template_meta["labels"] = {**(template_meta.get("labels") or {}), **{k: uid for k in UID_LABELS},
                               **{k: name for k in NAME_LABELS}}
    if not meta.get("labels"):
        meta["labels"] = dict(template_meta["labels"])
    _default_template(spec)
    _validate(job)
    return job


def on_update(job: Obj, old: Obj) -> Obj:
    for key in ("template", "selector", "completionMode"):
        if (job.get("spec") or {}).get(key) != (old.get("spec") or {}).get(key):
            raise _invalid(job, f"spec.{key}", "Invalid value: field is immutable")
    return job


def admit(op: str, rt: ResourceType, obj: Obj, old: Obj | None) -> Obj:
    """The store's admission hook: only batch/v1 Jobs, only CREATE and UPDATE."""
    if rt.key != JOB_KEY:
        return obj
    if op == "CREATE":
        return on_create(obj)
    if op == "UPDATE" and old is not None:
        return on_update(obj, old)
    return obj
