"""A CloudWatch Logs Insights query over JSON log lines, as Logs Insights
reads a Lambda function's JSON logs: each line's keys are its fields.

Usage: QUERY='filter … | stats …' logs_insights.py < lines

The query is Logs Insights' syntax, in the subset the tests use: commands
separated by `|`, each one of
    filter KEY = "VALUE"   (also !=, and `and` between comparisons)
    stats count(*) by KEY
Prints the result as JSON: a list of rows, each an object of its fields.
Lines that are not JSON objects are not fields, as in Logs Insights: only
`@message` would match them, and no query here asks for it.
"""

import json
import os
import re
import sys

COMPARISON = re.compile(r'\s*([\w.@]+)\s*(=|!=)\s*"([^"]*)"\s*')
STATS = re.compile(r"\s*stats\s+count\(\*\)\s+by\s+([\w.@]+)\s*$")


def field(event, key):
    """A key, or a dotted path into nested objects, as Logs Insights flattens them."""
    value = event
    for part in key.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value if isinstance(value, str) else json.dumps(value)


def matches(event, comparisons):
    for key, op, expected in comparisons:
        equal = field(event, key) == expected
        if equal != (op == "="):
            return False
    return True


def run(query, events):
    for command in query.split("|"):
        command = command.strip()
        if command.startswith("filter "):
            comparisons = [COMPARISON.fullmatch(part) for part in re.split(r"\s+and\s+", command[len("filter "):])]
            if not all(comparisons):
                sys.exit(f"cannot read the filter: {command!r}")
            comparisons = [m.groups() for m in comparisons]
            events = [e for e in events if matches(e, comparisons)]
        elif STATS.match(command):
            key = STATS.match(command).group(1)
            counts = {}
            for event in events:
                value = field(event, key)
                counts[value] = counts.get(value, 0) + 1
            events = [{key: value, "count(*)": count} for value, count in sorted(counts.items(), key=str)]
        else:
            sys.exit(f"not a command this subset reads: {command!r}")
    return events


def main():
    events = []
    for line in sys.stdin:
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if isinstance(event, dict):
            events.append(event)
    print(json.dumps(run(os.environ["QUERY"], events)))


if __name__ == "__main__":
    main()
