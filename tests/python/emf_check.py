"""Checks the CloudWatch Embedded Metric Format lines among a function's
output against the EMF specification, and adds up their metrics.

Usage: emf_check.py < output

The rules are the specification's
(https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html):
the structure as a JSON Schema, validated with `jsonschema` (moto's venv has
it), and what a schema cannot say in code below: every dimension a directive
names is a string member of the root, every metric it names is a number or
an array of at most 100 numbers there, and a line is at most 1 MB.

Prints JSON: {"lines": N, "errors": [...], "sums": {binding: {metric: sum}},
"values": {binding: {metric: [each value]}}, "namespaces": [...],
"dimensions": [...]}.
"""

import json
import sys

import jsonschema

UNITS = [
    "Seconds", "Microseconds", "Milliseconds", "Bytes", "Kilobytes", "Megabytes", "Gigabytes", "Terabytes",
    "Bits", "Kilobits", "Megabits", "Gigabits", "Terabits", "Percent", "Count", "Bytes/Second",
    "Kilobytes/Second", "Megabytes/Second", "Gigabytes/Second", "Terabytes/Second", "Bits/Second",
    "Kilobits/Second", "Megabits/Second", "Gigabits/Second", "Terabits/Second", "Count/Second", "None",
]

SCHEMA = {
    "type": "object",
    "required": ["_aws"],
    "properties": {
        "_aws": {
            "type": "object",
            "required": ["Timestamp", "CloudWatchMetrics"],
            "properties": {
                "Timestamp": {"type": "integer", "minimum": 0},
                "LogGroupName": {"type": "string", "minLength": 1},
                "CloudWatchMetrics": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["Namespace", "Dimensions", "Metrics"],
                        "additionalProperties": False,
                        "properties": {
                            "Namespace": {"type": "string", "minLength": 1, "maxLength": 1024},
                            "Dimensions": {
                                "type": "array",
                                "items": {
                                    "type": "array",
                                    "maxItems": 30,
                                    "items": {"type": "string", "minLength": 1, "maxLength": 250},
                                },
                            },
                            "Metrics": {
                                "type": "array",
                                "maxItems": 100,
                                "items": {
                                    "type": "object",
                                    "required": ["Name"],
                                    "additionalProperties": False,
                                    "properties": {
                                        "Name": {"type": "string", "minLength": 1, "maxLength": 1024},
                                        "Unit": {"enum": UNITS},
                                        "StorageResolution": {"enum": [1, 60]},
                                    },
                                },
                            },
                        },
                    },
                },
            },
        }
    },
}


def is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def check(line, document, errors):
    """Whether `document` is valid EMF; what it is not goes into `errors`."""
    try:
        jsonschema.validate(document, SCHEMA)
    except jsonschema.ValidationError as e:
        errors.append(f"{e.message}: {line[:200]}")
        return False
    found = len(errors)
    if len(line.encode()) > 1024 * 1024:
        errors.append(f"a line of {len(line.encode())} bytes, over EMF's 1 MB")
    for directive in document["_aws"]["CloudWatchMetrics"]:
        for dimension_set in directive["Dimensions"]:
            for key in dimension_set:
                value = document.get(key)
                if not isinstance(value, str) or not 1 <= len(value) <= 1024:
                    errors.append(f"dimension {key!r} is not a string member of the root: {line[:200]}")
        for metric in directive["Metrics"]:
            value = document.get(metric["Name"])
            values = value if isinstance(value, list) else [value]
            if not values or not all(is_number(v) for v in values) or len(values) > 100:
                errors.append(f"metric {metric['Name']!r} is not a number or up to 100 numbers: {line[:200]}")
    return len(errors) == found


def main():
    errors, sums, values, namespaces, dimensions, lines = [], {}, {}, set(), set(), 0
    for line in sys.stdin:
        line = line.strip()
        try:
            document = json.loads(line)
        except ValueError:
            continue
        if not isinstance(document, dict) or "_aws" not in document:
            continue
        lines += 1
        if not check(line, document, errors):
            continue
        for directive in document["_aws"]["CloudWatchMetrics"]:
            namespaces.add(directive["Namespace"])
            for dimension_set in directive["Dimensions"]:
                dimensions.add(",".join(dimension_set))
            binding = document.get("binding", "")
            if "operation" in document:
                binding = f"{binding}/{document['operation']}"
            for metric in directive["Metrics"]:
                value = document[metric["Name"]]
                each = value if isinstance(value, list) else [value]
                total = sums.setdefault(binding, {})
                total[metric["Name"]] = total.get(metric["Name"], 0) + sum(each)
                values.setdefault(binding, {}).setdefault(metric["Name"], []).extend(each)
    print(json.dumps({
        "lines": lines,
        "errors": errors,
        "sums": sums,
        "values": values,
        "namespaces": sorted(namespaces),
        "dimensions": sorted(dimensions),
    }))


if __name__ == "__main__":
    main()
