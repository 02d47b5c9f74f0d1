"""BTCPay Server's own OpenAPI document (Greenfield, v2.4.1) as a test oracle.

The document lives outside the project, at `<project root>/../shared/reference/btcpay-openapi/`
(BTCPAY_OPENAPI_DIR overrides it, e.g. from a git worktree elsewhere). `contract()` returns
None when it is absent, and `missing_reason()` says why, so tests can skip saying so.

Schemas are prepared the way the server reads them: `$ref`s inlined, each `allOf` merged into
one object schema (union of properties, `additionalProperties: false` kept: one C# class per
request), and OpenAPI's `nullable: true` turned into "or null" for a JSON Schema validator.
"""

from __future__ import annotations

import functools
import json
import os
import re
from decimal import Decimal
from pathlib import Path
from typing import List, Optional, Tuple

import jsonschema

ROOT = Path(__file__).resolve().parents[1]
DOCUMENT = "btcpay-v2.4.1-openapi.json"

# Routes the server serves that its 2.4.1 document leaves out, checked as the documented one.
ALIASES = {"/api/v1/stores/{storeId}/invoices/{invoiceId}": "/api/v1/invoices/{invoiceId}",
           "/api/v1/stores/{storeId}/invoices/{invoiceId}/status": "/api/v1/invoices/{invoiceId}/status",
           "/api/v1/stores/{storeId}/invoices/{invoiceId}/unarchive": "/api/v1/invoices/{invoiceId}/unarchive"}


def document_dir() -> Path:
    override = os.environ.get("BTCPAY_OPENAPI_DIR")
    return Path(override) if override else ROOT.parent / "shared" / "reference" / "btcpay-openapi"


def missing_reason() -> str:
    return (f"BTCPay's OpenAPI document is not at {document_dir() / DOCUMENT} "
            "(../shared/reference/btcpay-openapi/ from the project root, or BTCPAY_OPENAPI_DIR)")


_DECIMAL = re.compile(r"^-?\d+(\.\d+)?$")
FORMATS = jsonschema.FormatChecker()


@FORMATS.checks("decimal", raises=())
def _is_decimal(value) -> bool:
    """BTCPay's decimal strings: fixed point, never an exponent (4.2E-7)."""
    return not isinstance(value, str) or bool(_DECIMAL.match(value))


class Contract:
    def __init__(self, document: dict):
        self.document = document
        self._schemas = document["components"]["schemas"]
        self._prepared: dict = {}
        self._routes: List[Tuple["re.Pattern[str]", str]] = [
            (re.compile("^" + re.sub(r"\{[^/}]+\}", "[^/]+", path) + "/?$"), path)
            for path in list(document["paths"]) + list(ALIASES)]

    # -- schema preparation ------------------------------------------------------------

    def _resolve(self, node, depth: int = 0):
        if depth > 40:
            return {}
        if isinstance(node, list):
            return [self._resolve(item, depth) for item in node]
        if not isinstance(node, dict):
            return node
        if "$ref" in node:
            name = node["$ref"].rsplit("/", 1)[1]
            return self._resolve(self._schemas[name], depth + 1)
        node = {key: (value if key in ("example", "examples", "enum") else self._resolve(value, depth))
                for key, value in node.items()}
        if "allOf" in node:
            node = _merge_all_of(node)
        if node.pop("nullable", False):
            node = {"anyOf": [node, {"type": "null"}]}
        return node

    @functools.lru_cache(maxsize=None)
    def schema(self, name: str) -> str:
        return json.dumps(self._resolve(self._schemas[name]))

    def validate_named(self, name: str, instance) -> None:
        self._validate(json.loads(self.schema(name)), instance, name)

    def _validate(self, schema: dict, instance, what: str) -> None:
        validator = jsonschema.Draft7Validator(schema, format_checker=FORMATS)
        errors = sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path))
        if errors:
            first = errors[0]
            where = "/".join(str(p) for p in first.absolute_path) or "(root)"
            raise AssertionError(f"{what}: {where}: {first.message}")

    # -- operations ----------------------------------------------------------------------

    def operation(self, method: str, path: str) -> Optional[Tuple[str, dict]]:
        path = path.split("?", 1)[0]
        # The most literal template first: /stores/{storeId}/invoices/{invoiceId} before /stores/{storeId}/{x}/{y}.
        matching = sorted((template.count("{"), template) for pattern, template in self._routes if pattern.match(path))
        for _, template in matching:
            operation = self.document["paths"][ALIASES.get(template, template)].get(method.lower())
            if operation:
                return template, operation
        return None

    def _body_schema(self, holder: dict) -> Optional[dict]:
        content = (holder or {}).get("content") or {}
        media = content.get("application/json")
        if media is None:
            return None
        key = id(media)
        if key not in self._prepared:          # resolving InvoiceDataList takes a while: once per run
            self._prepared[key] = self._resolve(media.get("schema") or {})
        return self._prepared[key]

    def validate_request(self, method: str, path: str, body) -> bool:
        """Validate a request body against its operation; False when the operation has none."""
        found = self.operation(method, path)
        if found is None:
            raise AssertionError(f"{method} {path}: no such operation in BTCPay's API")
        template, operation = found
        schema = self._body_schema(operation.get("requestBody"))
        if schema is None:
            return False
        self._validate(schema, body, f"request {method} {template}")
        return True

    def validate_response(self, method: str, path: str, status: int, body) -> bool:
        found = self.operation(method, path)
        if found is None:
            raise AssertionError(f"{method} {path}: no such operation in BTCPay's API")
        template, operation = found
        responses = operation.get("responses") or {}
        answer = responses.get(str(status)) or responses.get("default")
        schema = self._body_schema(answer) if answer else None
        if schema is None:
            return False
        self._validate(schema, body, f"response {status} to {method} {template}")
        return True


def _merge_all_of(node: dict) -> dict:
    merged = {key: value for key, value in node.items() if key != "allOf"}
    for part in node["allOf"]:
        if "anyOf" in part and set(part) == {"anyOf"} and len(part["anyOf"]) == 2 \
                and part["anyOf"][1] == {"type": "null"}:
            part = part["anyOf"][0]       # a nullable part: its own nullability is the parent's call
        for key, value in part.items():
            if key == "properties":
                merged["properties"] = {**value, **merged.get("properties", {})}
            elif key == "required":
                merged["required"] = sorted(set(merged.get("required", [])) | set(value))
            elif key == "additionalProperties":
                if value is False or "additionalProperties" not in merged:
                    merged["additionalProperties"] = value
            else:
                merged.setdefault(key, value)
    return merged


@functools.lru_cache(maxsize=1)
def contract() -> Optional[Contract]:
    path = document_dir() / DOCUMENT
    if not path.is_file():
        return None
    with open(path, encoding="utf-8") as handle:
        return Contract(json.load(handle))


def check_exchanges(exchanges: List[dict], *, client_agent: str = "hourly-hooks") -> int:
    """Validate the Greenfield traffic a fake server recorded; returns how many bodies were checked.

    Request bodies are checked when the project's client sent them (tests also send
    deliberately wrong bodies by hand); every 2xx JSON answer is checked.
    """
    rules = contract()
    if rules is None:
        return 0
    checked = 0
    for exchange in exchanges:
        path = exchange["path"]
        if not path.lower().startswith("/api/"):
            continue
        method = exchange["method"]
        if exchange.get("body") and exchange["headers"].get("User-Agent") == client_agent:
            checked += rules.validate_request(method, path, json.loads(exchange["body"], parse_float=Decimal))
        status = exchange.get("status") or 0
        json_answer = "json" in (exchange.get("response_type") or "")   # a "malformed" fault answers HTML
        if 200 <= status < 300 and exchange.get("response") and json_answer:
            checked += rules.validate_response(method, path, status,
                                               json.loads(exchange["response"], parse_float=Decimal))
    return checked


__all__: Tuple[str, ...] = ("contract", "check_exchanges", "missing_reason", "Contract")
