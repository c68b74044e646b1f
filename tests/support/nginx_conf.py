"""The proxy's nginx configuration read as nginx reads it, for tests that ask what it does with a
request: its directives as a tree, and which `location` of a server a path reaches (nginx's own
order: an exact `=` match; else the longest prefix, unless it is `^~`, loses to the first regex
that matches). Only what admin_ui/nginx.conf uses: no nested locations, no `if`, no includes."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Self

_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|[{};]|[^\s{};"\']+')


@dataclass
class Directive:
    name: str
    args: list[str]
    block: list[Directive] | None = None

    def all(self, name: str) -> list[Directive]:
        return [d for d in self.block or [] if d.name == name]

    def first(self, name: str) -> Directive | None:
        found = self.all(name)
        return found[0] if found else None


@dataclass
class Location:
    modifier: str  # "", "=", "^~", "~", "~*"
    pattern: str
    directives: Directive

    def matches(self, path: str) -> bool:
        if self.modifier == "=":
            return path == self.pattern
        if self.modifier in ("", "^~"):
            return path.startswith(self.pattern)
        flags = re.IGNORECASE if self.modifier == "~*" else 0
        return re.search(self.pattern, path, flags) is not None


@dataclass
class Server:
    directives: Directive
    locations: list[Location] = field(default_factory=list)

    @classmethod
    def of(cls, directive: Directive) -> Self:
        locations = []
        for loc in directive.all("location"):
            modifier, pattern = (
                (loc.args[0], loc.args[1]) if len(loc.args) == 2 else ("", loc.args[0])
            )
            locations.append(Location(modifier, pattern, loc))
        return cls(directive, locations)

    @property
    def listens(self) -> list[list[str]]:
        return [d.args for d in self.directives.all("listen")]

    def location_for(self, path: str) -> Location | None:
        """The location nginx picks for `path` (None: the server's own directives serve it)."""
        for loc in self.locations:
            if loc.modifier == "=" and loc.matches(path):
                return loc
        prefixes = [
            loc for loc in self.locations if loc.modifier in ("", "^~") and loc.matches(path)
        ]
        longest = max(prefixes, key=lambda loc: len(loc.pattern), default=None)
        if longest is not None and longest.modifier == "^~":
            return longest
        for loc in self.locations:
            if loc.modifier in ("~", "~*") and loc.matches(path):
                return loc
        return longest

    def setting(self, path: str, name: str) -> list[str] | None:
        """The arguments of directive `name` that apply to `path`: the location's own, else the
        server's (inherited), else None (nginx's default)."""
        loc = self.location_for(path)
        for scope in ([loc.directives] if loc else []) + [self.directives]:
            found = scope.first(name)
            if found is not None:
                return found.args
        return None

    def all_settings(self, path: str, name: str) -> list[list[str]]:
        """Every `name` directive that applies to `path`: array directives (add_header,
        proxy_set_header, proxy_hide_header) are inherited only by a location that has none."""
        loc = self.location_for(path)
        for scope in ([loc.directives] if loc else []) + [self.directives]:
            found = scope.all(name)
            if found:
                return [d.args for d in found]
        return []


def parse(text: str) -> Directive:
    """The configuration as one block (the file's top level)."""
    lines = [_strip_comment(line) for line in text.splitlines()]
    tokens = _TOKEN.findall("\n".join(lines))
    root = Directive("", [], [])
    stack = [root]
    words: list[str] = []
    for token in tokens:
        if token == ";":
            assert words, "a lone ';'"
            stack[-1].block.append(Directive(words[0], words[1:]))  # type: ignore[union-attr]
            words = []
        elif token == "{":
            assert words, "a block without a directive"
            block = Directive(words[0], words[1:], [])
            stack[-1].block.append(block)  # type: ignore[union-attr]
            stack.append(block)
            words = []
        elif token == "}":
            assert not words and len(stack) > 1, f"unexpected '}}' after {words}"
            stack.pop()
        else:
            words.append(token[1:-1] if token[0] in "\"'" else token)
    assert not words and len(stack) == 1, "unterminated directive or block"
    return root


def _strip_comment(line: str) -> str:
    quote = None
    for index, char in enumerate(line):
        if quote:
            quote = None if char == quote else quote
        elif char in "\"'":
            quote = char
        elif char == "#":
            return line[:index]
    return line


def servers(config: Directive) -> list[Server]:
    return [Server.of(d) for d in config.all("server")]


def size_bytes(value: str) -> int:
    """nginx's size syntax: 512, 64k, 10m, 1g."""
    units = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}
    m = re.fullmatch(r"(\d+)([kmg]?)", value.lower())
    assert m, f"not an nginx size: {value!r}"
    return int(m.group(1)) * units[m.group(2)]


def seconds(value: str) -> float:
    """nginx's (and compose's) time syntax: 30, 30s, 1m30s, 1h, 500ms."""
    units = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "": 1}
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|)", value.lower())
    assert parts and "".join(n + u for n, u in parts) == value.lower(), f"not a time: {value!r}"
    return sum(float(n) * units[u] for n, u in parts)
