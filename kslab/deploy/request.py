"""What `kslab deploy` was asked for, validated before anything touches the cluster."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from kslab.config.model import MODES
from kslab.errors import UsageError

PROTOCOLS = ("v1", "v2")
STORAGE_KINDS = ("uri", "pvc", "s3")
AUTO_RUNTIME = "auto"
MODEL_SUFFIXES = (".joblib", ".pkl", ".pickle")  # what kserve-sklearnserver loads (sklearnserver/model.py)
_URI = re.compile(r"^[a-z][a-z0-9+.-]*://[^\s\"'\\{}]+$")
_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


@dataclass(frozen=True)
class S3Options:
    endpoint: str  # host:port of MinIO / S3, e.g. minio-service.kslab:9000
    credentials_file: Path | None = None  # KEY=VALUE lines or an AWS credentials file; else $AWS_* variables
    region: str = "us-east-1"
    use_https: bool = False


@dataclass(frozen=True)
class DeployRequest:
    name: str  # a model of manifests/models/catalog.yaml; also the InferenceService's name
    mode: str  # knative | standard
    protocol: str = "v1"
    runtime: str | None = None  # None: the catalog's runtime; "auto": let KServe pick
    storage: str = "uri"  # uri (the catalog's or --storage-uri) | pvc (copy --model-dir into a PVC) | s3
    storage_uri: str | None = None
    model_dir: Path | None = None
    s3: S3Options | None = None
    timeout: float = 600.0  # as Timeouts.deploy
    lint: bool = True

    def validate(self) -> DeployRequest:
        """Raise UsageError (exit 2) for a flag combination that cannot work; return self."""
        if self.mode not in MODES:
            raise UsageError(f"--mode {self.mode!r} is not one of {', '.join(MODES)}")
        if self.protocol not in PROTOCOLS:
            raise UsageError(f"--protocol {self.protocol!r} is not one of {', '.join(PROTOCOLS)}")
        if self.runtime is not None and self.runtime != AUTO_RUNTIME and not _NAME.match(self.runtime):
            raise UsageError(f"--runtime {self.runtime!r} is not a runtime name",
                             "use a (Cluster)ServingRuntime name such as kserve-sklearnserver, or 'auto'")
        if self.storage not in STORAGE_KINDS:
            raise UsageError(f"--storage {self.storage!r} is not one of {', '.join(STORAGE_KINDS)}")
        if self.timeout <= 0:
            raise UsageError("--timeout must be positive")
        if self.storage_uri is not None and not _URI.match(self.storage_uri):
            raise UsageError(f"--storage-uri {self.storage_uri!r} is not a URI like gs://bucket/path")
        if self.storage == "pvc":
            self._validate_pvc()
        elif self.model_dir is not None:
            raise UsageError("--model-dir needs --storage pvc")
        if self.storage == "s3":
            if not (self.storage_uri or "").startswith("s3://"):
                raise UsageError("--storage s3 needs --storage-uri s3://BUCKET/PATH")
            if self.s3 is None or not self.s3.endpoint:
                raise UsageError("--storage s3 needs --s3-endpoint HOST:PORT", "e.g. minio-service.kslab:9000")
        return self

    def _validate_pvc(self) -> None:
        if self.storage_uri is not None:
            raise UsageError("--storage pvc builds the storage URI itself; drop --storage-uri")
        if self.model_dir is None:
            raise UsageError("--storage pvc needs --model-dir DIR", "build one with 'kslab model build NAME'")
        if not self.model_dir.is_dir():
            raise UsageError(f"--model-dir {self.model_dir} is not a directory")
        models = [p.name for p in self.model_dir.iterdir() if p.is_file() and p.suffix in MODEL_SUFFIXES]
        if len(models) != 1:
            found = ", ".join(sorted(models)) or "none"
            raise UsageError(f"--model-dir {self.model_dir} must hold exactly one model file "
                             f"({'/'.join(MODEL_SUFFIXES)}); found {found}",
                             "kserve-sklearnserver refuses a directory with none or several model files")
