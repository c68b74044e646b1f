"""The README's layout table and the links of README.md and docs/, checked against the repository.

The layout table (the one table under `## Layout` in README.md) names folders and a few key files
in its first column, in backticks. Every path it names must exist, every top-level folder git
tracks (dot-folders aside) must be named, and it stays one table: no path twice, no blank line
splitting it into two. Every relative link in README.md and docs/ must reach a file that exists
(and a heading of it, when the link names one), so moving a page breaks a test, not a reader.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
DOCS = ROOT / "docs"
README_MAX_LINES = 250

# What the table must always name, whatever else comes and goes at the top level.
REQUIRED = {
    "api/",
    "workflows/",
    "activities/",
    "domain/",
    "core/",
    "providers/",
    "worker.py",
    "admin_ui/",
    "customer_app/",
    "web_common/",
    "devstack/",
    "bench/",
    "migrations/",
    "deploy/",
    "tests/",
    "docs/",
    "docker-compose.yml",
    "README.md",
}

FENCE = re.compile(r"^(```|~~~).*?^\1\s*$", re.MULTILINE | re.DOTALL)
INLINE_CODE = re.compile(r"`[^`\n]*`")
# [text](target) and ![alt](target); the target up to the first space or closing parenthesis.
LINK = re.compile(r"!?\[[^\]\n]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")


def layout_tables(text: str) -> list[list[str]]:
    """The tables (as lists of their rows) of the README's `## Layout` section."""
    match = re.search(r"^## Layout\b.*?$(.*?)(?=^## |\Z)", text, re.MULTILINE | re.DOTALL)
    assert match, "README.md has no `## Layout` section"
    tables: list[list[str]] = []
    current: list[str] | None = None
    for line in FENCE.sub("", match.group(1)).splitlines():
        if line.lstrip().startswith("|"):
            if current is None:
                current = []
                tables.append(current)
            current.append(line.strip())
        else:
            current = None
    return tables


def named_paths(row: str) -> list[str]:
    """The paths a body row names: every backticked item of its first cell."""
    first = row.strip("|").split("|", 1)[0]
    return re.findall(r"`([^`]+)`", first)


@cache
def layout() -> list[str]:
    tables = layout_tables(README.read_text(encoding="utf-8"))
    assert len(tables) == 1, (
        f"the Layout section must hold one table, it holds {len(tables)} "
        "(a blank line between rows splits a table in two)"
    )
    _header, rule, *body = tables[0]
    assert re.fullmatch(r"\|(\s*:?-+:?\s*\|)+", rule.replace(" ", "")), "the table has no rule row"
    paths: list[str] = []
    for row in body:
        named = named_paths(row)
        assert named, f"a layout row names no path in its first cell: {row[:80]}"
        paths.extend(named)
    return paths


def top_level_folders() -> set[str]:
    git = shutil.which("git")
    if git is None or not (ROOT / ".git").exists():
        message = "not a git checkout: the tracked folders cannot be listed"
        if os.environ.get("CI"):
            pytest.fail(message)  # CI runs on a clone: a missing git there hides the check
        pytest.skip(message)
    listed = subprocess.run(
        [git, "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout.decode()
    return {
        name.split("/", 1)[0] + "/"
        for name in listed.split("\0")
        if "/" in name and not name.startswith(".")
    }


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[`*_]|\[([^\]]*)\]\([^)]*\)", lambda m: m.group(1) or "", heading)
    text = re.sub(r"[^\w\- ]", "", text.strip().lower())
    return text.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    seen: dict[str, int] = {}
    found: set[str] = set()
    for line in FENCE.sub("", page.read_text(encoding="utf-8")).splitlines():
        heading = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
        if not heading:
            continue
        base = slug(heading.group(1))
        count = seen.get(base, 0)
        seen[base] = count + 1
        found.add(base if count == 0 else f"{base}-{count}")
    return found


def pages() -> list[Path]:
    return [README, *sorted(DOCS.rglob("*.md"))]


def test_the_readme_is_short() -> None:
    lines = README.read_text(encoding="utf-8").count("\n")
    assert lines <= README_MAX_LINES, (
        f"README.md has {lines} lines; keep it to {README_MAX_LINES} and move the rest to docs/"
    )


def test_the_layout_names_each_path_once() -> None:
    paths = layout()
    twice = sorted({p for p in paths if paths.count(p) > 1})
    assert not twice, f"the layout names these more than once: {twice}"


def test_every_path_the_layout_names_exists() -> None:
    missing = []
    for path in layout():
        target = ROOT / path
        exists = target.is_dir() if path.endswith("/") else target.exists()
        if not exists:
            missing.append(path)
    assert not missing, f"the layout names paths that do not exist: {missing}"


def test_the_layout_names_every_top_level_folder() -> None:
    named = {p if p.endswith("/") or not (ROOT / p).is_dir() else p + "/" for p in layout()}
    unnamed = sorted(top_level_folders() - named)
    assert not unnamed, f"top-level folders missing from the README's layout table: {unnamed}"


def test_the_layout_names_the_key_places() -> None:
    missing = sorted(REQUIRED - set(layout()))
    assert not missing, f"the layout must name: {missing}"


def test_every_relative_link_resolves() -> None:
    broken = []
    for page in pages():
        text = INLINE_CODE.sub("", FENCE.sub("", page.read_text(encoding="utf-8")))
        for target in LINK.findall(text):
            if SCHEME.match(target) or target.startswith("//"):
                continue  # http(s), mailto: not ours to check here
            path, _, fragment = target.partition("#")
            file = (page.parent / path).resolve() if path else page
            where = f"{page.relative_to(ROOT)}: ({target})"
            if not file.exists():
                broken.append(f"{where} no such file")
            elif fragment and file.suffix == ".md" and fragment not in anchors(file):
                broken.append(f"{where} no such heading")
    assert not broken, "broken links:\n" + "\n".join(sorted(set(broken)))


def test_the_checks_see_what_they_check() -> None:
    """The parsers find something: a table of paths, and links in the README and docs."""
    assert "workflows/" in layout()
    assert any(LINK.search(page.read_text(encoding="utf-8")) for page in pages())
    assert slug("What `make run` starts") == "what-make-run-starts"
    assert slug("Push (FCM) and email (SendGrid)") == "push-fcm-and-email-sendgrid"
