"""What the OpenAPI schema says about errors: every operation can answer with the one error shape
(server/errors.py), under any status an ``ErrorCode`` is declared with.

drf-spectacular documents only the success answers a view declares; without this hook a client
generated from the schema (and schemathesis, tests/fuzz) would take a 404 ``not_found`` or a 429
``throttled`` for an answer the API does not have.
"""

from __future__ import annotations

from typing import Any

from server.errors import SERVER_ERROR, registered_codes

ERROR_SCHEMA = {
    "type": "object",
    "description": "Every error answer. `code` is stable; `message` is Chinese unless the request "
    "sends `Accept-Language: en`.",
    "properties": {
        "code": {"type": "string", "example": "validation_failed"},
        "message": {"type": "string", "example": "提交的数据有误，请按提示修改。"},
        "details": {
            "nullable": True,
            "description": "Structured: field errors, what a rule compared, or null.",
        },
    },
    "required": ["code", "message", "details"],
}
ERROR_RESPONSE = {
    "description": "An error (see the `code`).",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
}
HTTP_METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}


def error_statuses() -> list[int]:
    """The statuses of the declared error codes; a 500 is a defect, not part of the contract."""
    return sorted({error.status for error in registered_codes().values()} - {SERVER_ERROR.status})


def document_errors(result: dict[str, Any], generator, request, public) -> dict[str, Any]:
    """drf-spectacular POSTPROCESSING_HOOKS entry."""
    components = result.setdefault("components", {})
    components.setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    components.setdefault("responses", {})["Error"] = ERROR_RESPONSE
    statuses = [str(status) for status in error_statuses()]
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            if method not in HTTP_METHODS:
                continue
            responses = operation.setdefault("responses", {})
            for status in statuses:
                responses.setdefault(status, {"$ref": "#/components/responses/Error"})
    return result


# F10 item 7: every moment the API writes is RFC 3339 in Beijing time with its offset
# (server/fields.py instant); Swagger UI's own sample ("...Z") would say otherwise.
MOMENT_EXAMPLE = "2026-05-04T08:00:00+08:00"


def _example_moments(node: Any) -> None:
    if isinstance(node, dict):
        if node.get("format") == "date-time":
            node.setdefault("example", MOMENT_EXAMPLE)
        for value in node.values():
            _example_moments(value)
    elif isinstance(node, list):
        for value in node:
            _example_moments(value)


def document_moments(result: dict[str, Any], generator, request, public) -> dict[str, Any]:
    """drf-spectacular POSTPROCESSING_HOOKS entry: every date-time schema shows the convention."""
    _example_moments(result.get("components", {}))
    _example_moments(result.get("paths", {}))
    return result
