"""Reading a Prometheus text exposition the way Prometheus does: each sample's name, labels and
value. Small on purpose (the client library's parser insists on its own naming rules, which the
Temporal SDK's counters without `_total` do not follow)."""

from __future__ import annotations

import re
from dataclasses import dataclass

_SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)")
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


@dataclass(frozen=True)
class Sample:
    name: str
    labels: dict[str, str]
    value: float


def samples(text: str) -> list[Sample]:
    found = []
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        match = _SAMPLE.match(line)
        assert match, f"not a sample line: {line!r}"
        labels = dict(_LABEL.findall(match.group(2) or ""))
        found.append(Sample(match.group(1), labels, float(match.group(3))))
    return found


def names(text: str) -> set[str]:
    return {sample.name for sample in samples(text)}


def value(text: str, name: str, **labels: str) -> float:
    """The sum of the samples of `name` whose labels include `labels` (0 if none)."""
    return sum(
        s.value
        for s in samples(text)
        if s.name == name and all(s.labels.get(k) == v for k, v in labels.items())
    )


def label_values(text: str, name: str, label: str) -> set[str]:
    return {s.labels[label] for s in samples(text) if s.name == name and label in s.labels}
