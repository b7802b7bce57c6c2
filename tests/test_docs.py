# Copyright 2026 The DEAR Authors. SPDX-License-Identifier: Apache-2.0
"""The design notes in docs/: every citation of them in code, tests, benches, examples and the README resolves."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CITED_IN = ["modeling_dear", "tests", "bench", "examples", "demo", "scripts", "configuration"]
CITATION = re.compile(r"docs/(\w+)\.md((?:,? ?§\d+)+)")
SECTION = re.compile(r"^## §(\d+)\. ", re.MULTILINE)


def cited_files():
    files = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    for folder in CITED_IN:
        files += sorted(p for p in (ROOT / folder).rglob("*") if p.suffix in {".py", ".md", ".json"})
    return [path for path in files if path != Path(__file__).resolve()]


def citations():
    found = []
    for path in cited_files():
        for match in CITATION.finditer(path.read_text(encoding="utf-8")):
            for section in re.findall(r"§(\d+)", match.group(2)):
                found.append((path.relative_to(ROOT).as_posix(), match.group(1), int(section)))
    return found


def test_the_code_cites_the_notes():
    cited_pages = {page for _, page, _ in citations()}
    assert {"architecture", "videomamba"} <= cited_pages


@pytest.mark.parametrize("page", ["architecture", "videomamba"])
def test_sections_are_numbered_in_order(page):
    numbers = [int(n) for n in SECTION.findall((ROOT / "docs" / f"{page}.md").read_text(encoding="utf-8"))]
    assert numbers == list(range(1, len(numbers) + 1))


def test_every_citation_names_an_existing_section():
    sections = {
        path.stem: {int(n) for n in SECTION.findall(path.read_text(encoding="utf-8"))}
        for path in (ROOT / "docs").glob("*.md")
    }
    broken = [f"{where}: docs/{page}.md §{n}" for where, page, n in citations() if n not in sections.get(page, set())]
    assert not broken, broken


def test_no_citation_points_outside_the_repository():
    # the notes once lived outside the repository as ARCHITECTURE.md / VIDEOMAMBA.md
    stale = [
        path.relative_to(ROOT).as_posix()
        for path in cited_files()
        if re.search(r"\b(ARCHITECTURE|VIDEOMAMBA)\.md", path.read_text(encoding="utf-8"))
    ]
    assert not stale, stale
