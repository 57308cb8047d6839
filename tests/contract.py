"""Contract checks: every request body an adapter sends is validated against the vendor's spec.

Specs are read from ``../shared/specs`` (OpenAPI 3.0/3.1 YAML or JSON, Swagger 2.0 for Slack).
A body must match the operation's schema (types, enums, required fields) and may carry no
property the schema does not declare: vendor schemas rarely say ``additionalProperties: false``,
but a misspelt field (``team_id`` for ``teamId``) is exactly the bug these tests exist to catch.
Fields a vendor documents but its published spec snapshot lacks are listed per contract with
the reason, never silently allowed.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import parse_qsl

import jsonschema
import pytest
import yaml
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from tests.helpers import SHARED, SHARED_MISSING

SPECS = SHARED / "specs"
SPEC_URI = "urn:spec"


def require_specs() -> None:
    """Skip when the shared specs folder is not beside the checkout."""
    if not SPECS.is_dir():
        pytest.skip(f"{SHARED_MISSING}: no vendor specs at {SPECS}")


@functools.lru_cache(maxsize=8)
def load_spec(relative: str) -> dict[str, Any]:
    """A spec file under ``shared/specs`` (YAML or JSON), parsed once per test session."""
    path = SPECS / relative
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".json":
        return dict(json.loads(text))
    return dict(yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)))


def _nullable_to_json_schema(node: Any) -> Any:
    """OpenAPI 3.0's ``nullable: true`` becomes a JSON Schema type union with ``null``."""
    if isinstance(node, dict):
        out = {key: _nullable_to_json_schema(value) for key, value in node.items()}
        if out.pop("nullable", False) is True and "type" in out:
            kinds = out["type"] if isinstance(out["type"], list) else [out["type"]]
            out["type"] = [*kinds, "null"]
        if "$ref" in out and isinstance(out["$ref"], str) and out["$ref"].startswith("#/"):
            out["$ref"] = SPEC_URI + out["$ref"]
        return out
    if isinstance(node, list):
        return [_nullable_to_json_schema(item) for item in node]
    return node


class ContractViolation(AssertionError):
    """A request body does not match the vendor's spec."""


class OpenAPIContract:
    """One vendor's OpenAPI document: finds an operation by method and path, validates bodies."""

    def __init__(self, relative: str, *, server_prefix: str = "", documented_extras: Mapping[str, str] | None = None
                 ) -> None:
        require_specs()
        self.name = relative
        self.spec = load_spec(relative)
        self.prefix = server_prefix.rstrip("/")
        self.documented_extras = dict(documented_extras or {})
        converted = _nullable_to_json_schema(self.spec)
        self._root = converted
        self._registry: Registry[Any] = Registry().with_resource(
            SPEC_URI, Resource.from_contents(converted, default_specification=DRAFT202012)
        )
        self._templates = [(self._pattern(p), p) for p in self.spec.get("paths", {})]

    @staticmethod
    def _pattern(template: str) -> re.Pattern[str]:
        parts = re.split(r"(\{[^}]+\})", template)
        regex = "".join("[^/]+" if part.startswith("{") else re.escape(part) for part in parts)
        return re.compile(f"^{regex}$")

    def operation(self, method: str, path: str) -> tuple[str, dict[str, Any]]:
        """The path template and operation object serving ``method path``; fails loudly when none does."""
        local = path[len(self.prefix):] if self.prefix and path.startswith(self.prefix) else path
        matches = [template for pattern, template in self._templates if pattern.match(local)]
        # The most literal template wins: /tickets/update_many before /tickets/{ticket_id}.
        matches.sort(key=lambda t: (t.count("{"), -len(t)))
        for template in matches:
            operation = self.spec["paths"][template].get(method.lower())
            if operation is not None:
                return template, operation
        raise ContractViolation(f"{self.name}: no operation {method} {local}")

    def _body_schema(self, operation: Mapping[str, Any]) -> dict[str, Any] | None:
        if "requestBody" in operation:  # OpenAPI 3
            body = self._resolve(operation["requestBody"])
            content = body.get("content", {})
            media = content.get("application/json") or next(iter(content.values()), None)
            return None if media is None else _nullable_to_json_schema(media.get("schema"))
        params = [self._resolve(p) for p in operation.get("parameters", [])]
        form = [p for p in params if p.get("in") in ("formData", "body")]
        if not form:
            return None
        if form[0].get("in") == "body":
            return _nullable_to_json_schema(form[0].get("schema"))
        # Swagger 2.0 form parameters (Slack): one object, one property per parameter.
        props = {p["name"]: {k: v for k, v in p.items() if k in ("type", "enum", "items")} for p in form}
        return {"type": "object", "properties": props,
                "required": [p["name"] for p in form if p.get("required") and p["name"] != "token"]}

    def _resolve(self, node: Any) -> Any:
        while isinstance(node, dict) and "$ref" in node:
            ref = node["$ref"].removeprefix(SPEC_URI)
            target: Any = self.spec
            for part in ref.lstrip("#/").split("/"):
                target = target[part.replace("~1", "/").replace("~0", "~")]
            node = target
        return node

    def validate(self, method: str, path: str, body: Any, *, loose_form: bool = False) -> str:
        """Validate ``body`` for ``method path``; returns the template, raises ContractViolation."""
        template, operation = self.operation(method, path)
        schema = self._body_schema(operation)
        if schema is None:
            if body not in (None, {}, b"", ""):
                raise ContractViolation(f"{self.name}: {method} {template} takes no body, got {str(body)[:200]}")
            return template
        if loose_form and isinstance(body, dict):  # form values arrive as strings
            body = {k: _from_form(v) for k, v in body.items()}
        validator = jsonschema.Draft202012Validator(schema, registry=self._registry)
        errors = sorted(validator.iter_errors(body), key=lambda e: list(e.absolute_path))
        problems = [f"{'/'.join(map(str, e.absolute_path)) or '(body)'}: {e.message[:200]}" for e in errors]
        problems += self._unknown(schema, body, "")
        if problems:
            raise ContractViolation(f"{self.name}: {method} {template}: " + "; ".join(problems[:8]))
        return template

    def _properties(self, schema: Any) -> tuple[set[str], bool, list[Any]]:
        """Declared property names, whether extra keys are allowed, and the subschemas consulted."""
        schema = self._resolve(schema)
        if not isinstance(schema, dict):
            return set(), True, []
        names: set[str] = set(schema.get("properties", {}))
        open_ended = bool(schema.get("additionalProperties")) or not (
            "properties" in schema or any(k in schema for k in ("allOf", "anyOf", "oneOf"))
        )
        parts = [schema]
        for key in ("allOf", "anyOf", "oneOf"):
            for sub in schema.get(key, []):
                sub_names, sub_open, sub_parts = self._properties(sub)
                names |= sub_names
                open_ended = open_ended or (sub_open and key != "allOf")
                parts += sub_parts
        return names, open_ended, parts

    def _unknown(self, schema: Any, value: Any, where: str) -> list[str]:
        schema = self._resolve(schema)
        if isinstance(value, list):
            items = schema.get("items") if isinstance(schema, dict) else None
            return [p for i, v in enumerate(value) for p in self._unknown(items, v, f"{where}/{i}")] if items else []
        if not isinstance(value, dict) or not isinstance(schema, dict):
            return []
        names, open_ended, parts = self._properties(schema)
        problems = []
        for key, item in value.items():
            field = f"{where}/{key}".lstrip("/")
            if key not in names:
                if not open_ended and field not in self.documented_extras and key not in self.documented_extras:
                    problems.append(f"{field}: not a property the spec declares (known: {', '.join(sorted(names))})")
                continue
            for part in parts:
                sub = part.get("properties", {}).get(key)
                if sub is not None:
                    problems += self._unknown(sub, item, field)
                    break
        return problems

    def check(self, request: Any) -> None:
        """Validate a recorded ``httpx.Request`` (JSON or form body) against its operation."""
        raw = request.content
        form = request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded")
        if not raw:
            body = None
        elif form:
            body = dict(parse_qsl(raw.decode(), keep_blank_values=True))
        else:
            body = json.loads(raw)
        self.validate(request.method, request.url.path, body, loose_form=form)

    def response_schema(self, method: str, path: str, status: int = 200) -> Any:
        """The JSON schema of a documented response (for shaping fakes)."""
        _, operation = self.operation(method, path)
        response = self._resolve(operation.get("responses", {}).get(str(status), {}))
        content = response.get("content", {}).get("application/json", {})
        return self._resolve(content.get("schema", response.get("schema", {})))


def _from_form(value: Any) -> Any:
    if isinstance(value, str):
        if value in ("true", "false"):
            return value == "true"
        if re.fullmatch(r"-?\d+", value):
            return int(value)
    return value


def recorded_bodies(requests: Iterable[Any]) -> list[tuple[str, str, Any]]:
    """(method, path, parsed JSON body or None) of recorded ``httpx.Request`` objects."""
    found = []
    for request in requests:
        raw = request.content
        body = json.loads(raw) if raw and request.headers.get("content-type", "").startswith("application/json") \
            else None
        found.append((request.method, request.url.path, body))
    return found
