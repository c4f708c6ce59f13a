"""What containers print: the lines a kubelet would return for ``kubectl logs`` in the fake cluster."""

from __future__ import annotations

import datetime as dt
from typing import Any

Obj = dict[str, Any]

MODEL_DIR = "/mnt/models"


def _stamp() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


def storage_uri_of(container: Obj) -> str:
    args = container.get("args") or []
    return str(args[0]) if args else ""


def storage_initializer_success(uri: str) -> str:
    ts = _stamp()
    return (f"{ts} 1 kserve INFO [initializer-entrypoint:<module>():16] Initializing, args: src_uri [{uri}] "
            f"dest_path[ [{MODEL_DIR}]\n"
            f"{ts} 1 kserve INFO [storage.py:download():66] Copying contents of {uri} to local\n"
            f"{ts} 1 kserve INFO [storage.py:download():110] Successfully copied {uri} to {MODEL_DIR}\n")


def storage_initializer_failure(uri: str) -> str:
    """Failure output; the last line is the facts file's signature (§8)."""
    ts = _stamp()
    return (f"{ts} 1 kserve INFO [initializer-entrypoint:<module>():16] Initializing, args: src_uri [{uri}] "
            f"dest_path[ [{MODEL_DIR}]\n"
            f"{ts} 1 kserve INFO [storage.py:download():66] Copying contents of {uri} to local\n"
            "Traceback (most recent call last):\n"
            '  File "/storage-initializer/scripts/initializer-entrypoint", line 27, in <module>\n'
            "    Storage.download(src_uri, dest_path)\n"
            '  File "/kserve/kserve_storage/kserve_storage.py", line 91, in download\n'
            "    model_dir = Storage._download_gcs(uri, out_dir)\n"
            '  File "/kserve/kserve_storage/kserve_storage.py", line 312, in _download_gcs\n'
            "    raise RuntimeError(\"Failed to fetch model. The path or model %s does not exist.\" % uri)\n"
            f"RuntimeError: Failed to fetch model. The path or model {uri} does not exist.\n")


def _model_name(container: Obj) -> str:
    for arg in container.get("args") or []:
        if str(arg).startswith("--model_name="):
            return str(arg).split("=", 1)[1]
    return "model"


def container_startup(pod: Obj, container: Obj) -> str:
    """First lines a container prints after it starts."""
    name = container.get("name", "")
    ts = _stamp()
    if name == "kserve-container":
        model = _model_name(container)
        return (f"{ts} 1 kserve INFO [model_server.py:register_model():402] Registering model: {model}\n"
                f"{ts} 1 kserve INFO [model_server.py:setup_event_loop():282] Setting max asyncio worker "
                "threads as 5\n"
                f"{ts} 1 kserve INFO [server.py:_serve():84] Starting uvicorn with 1 workers\n"
                "INFO:     Started server process [1]\n"
                "INFO:     Waiting for application startup.\n"
                "INFO:     Application startup complete.\n"
                "INFO:     Uvicorn running on http://0.0.0.0:8080 (Press CTRL+C to quit)\n")
    if name == "queue-proxy":
        return ('{"severity":"INFO","timestamp":"' + ts + '","logger":"queueproxy","caller":"sharedmain/main.go:'
                '283","message":"Starting queue-proxy","knative.dev/key":"'
                + pod["metadata"].get("namespace", "") + "/" + pod["metadata"]["name"] + '"}\n')
    if name == "manager":
        return f'{ts} INFO setup starting manager {{"image": "{container.get("image", "")}"}}\n'
    image = container.get("image", "")
    return f'I0000 00:00:00.000000       1 main.go:42] "Starting" container="{name}" image="{image}"\n'
