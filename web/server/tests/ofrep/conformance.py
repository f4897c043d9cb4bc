"""OFREP conformance driver: evaluates cases through the published OpenFeature Python SDK and its OFREP
provider (openfeature-sdk, openfeature-provider-ofrep) against a running Flagent, over real HTTP.

Usage: FLAGENT_URL=http://127.0.0.1:18000 FLAGENT_KEY=flg_... python3 conformance.py < cases.json

stdin holds a JSON list of cases:
    {"name": "...", "flag": "<key>", "type": "boolean|string|integer|float|object", "default": <value>,
     "context": {"targetingKey": "...", ...} (optional), "key": "<API key>" (optional, else FLAGENT_KEY),
     "header": "bearer" (default) | "x-api-key"}
stdout gets one JSON object: {"<name>": {"value", "variant", "reason", "errorCode", "errorMessage",
"metadata"}}, every field as the SDK reported it (enums by their value). The Rust test
(`web/server/tests/api/ofrep.rs`) checks them; this script asserts only that the SDK answered.
"""

import json
import os
import sys

from openfeature import api
from openfeature.contrib.provider.ofrep import OFREPProvider
from openfeature.evaluation_context import EvaluationContext


def plain(value):
    """An SDK value as JSON: enums by their value."""
    if value is None or isinstance(value, (bool, int, float, str, list, dict)):
        return value
    return getattr(value, "value", str(value))


def headers_for(key, header):
    if header == "x-api-key":
        return lambda: {"X-API-Key": key}
    return lambda: {"Authorization": f"Bearer {key}"}


def context_of(case):
    context = case.get("context")
    if context is None:
        return None
    attributes = dict(context)
    targeting_key = attributes.pop("targetingKey", None)
    return EvaluationContext(targeting_key=targeting_key, attributes=attributes)


def main():
    base_url = os.environ["FLAGENT_URL"]
    default_key = os.environ["FLAGENT_KEY"]
    cases = json.load(sys.stdin)
    results = {}
    for n, case in enumerate(cases):
        domain = f"case-{n}"
        key = case.get("key", default_key)
        provider = OFREPProvider(
            base_url, headers_factory=headers_for(key, case.get("header", "bearer"))
        )
        api.set_provider(provider, domain)
        client = api.get_client(domain)
        get = {
            "boolean": client.get_boolean_details,
            "string": client.get_string_details,
            "integer": client.get_integer_details,
            "float": client.get_float_details,
            "object": client.get_object_details,
        }[case["type"]]
        details = get(case["flag"], case["default"], context_of(case))
        assert details.flag_key == case["flag"], details
        results[case["name"]] = {
            "value": plain(details.value),
            "valueType": type(details.value).__name__,
            "variant": details.variant,
            "reason": plain(details.reason),
            "errorCode": plain(details.error_code),
            "errorMessage": details.error_message,
            "metadata": dict(details.flag_metadata or {}),
        }
    api.shutdown()
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main()
