"""API errors as the real apiserver reports them: an HTTP code plus a ``Status`` body."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """An error the fake API server answers with a metav1.Status body."""

    def __init__(self, code: int, reason: str, message: str, details: dict[str, Any] | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details
        self.headers = headers or {}

    def status(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        }
        if not self.reason:  # StatusReasonUnknown: an error that was no API status (e.g. a failed typed apply)
            del body["reason"]
        if self.details is not None:
            body["details"] = self.details
        return body

    @staticmethod
    def _what(group: str, plural: str) -> str:
        return f"{plural}.{group}" if group else plural

    @classmethod
    def not_found(cls, group: str, plural: str, name: str) -> ApiError:
        what = cls._what(group, plural)
        return cls(404, "NotFound", f'{what} "{name}" not found',
                   {"name": name, "group": group, "kind": plural})

    @classmethod
    def already_exists(cls, group: str, plural: str, name: str) -> ApiError:
        what = cls._what(group, plural)
        return cls(409, "AlreadyExists", f'{what} "{name}" already exists',
                   {"name": name, "group": group, "kind": plural})

    @classmethod
    def conflict(cls, group: str, plural: str, name: str) -> ApiError:
        what = cls._what(group, plural)
        return cls(409, "Conflict",
                   f'Operation cannot be fulfilled on {what} "{name}": the object has been modified; '
                   "please apply your changes to the latest version and try again",
                   {"name": name, "group": group, "kind": plural})

    @classmethod
    def invalid(cls, kind: str, group: str, name: str, field: str, message: str) -> ApiError:
        what = f"{kind}.{group}" if group else kind
        return cls(422, "Invalid", f'{what} "{name}" is invalid: {field}: {message}',
                   {"name": name, "group": group, "kind": kind,
                    "causes": [{"reason": "FieldValueInvalid", "message": message, "field": field}]})

    @classmethod
    def bad_request(cls, message: str) -> ApiError:
        return cls(400, "BadRequest", message)

    @classmethod
    def unprocessable_patch(cls, message: str) -> ApiError:
        return cls(422, "Invalid", message)

    @classmethod
    def unsupported_media_type(cls, content_type: str) -> ApiError:
        return cls(415, "UnsupportedMediaType", f"the body of the request was in an unknown format - "
                   f"accepted media types include: application/json-patch+json, application/merge-patch+json, "
                   f"application/apply-patch+yaml (got {content_type})")

    @classmethod
    def gone(cls, message: str) -> ApiError:
        return cls(410, "Expired", message)

    @classmethod
    def method_not_allowed(cls) -> ApiError:
        return cls(405, "MethodNotAllowed", "the server does not allow this method on the requested resource")
