"""The documents a newcomer reads link only to files and headings that exist."""

import re
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parent.parent
DOCUMENTS = sorted(
    [
        PROJECT / "README.md",
        PROJECT / "CHANGELOG.md",
        PROJECT / "bench" / "README.md",
        *(PROJECT / "docs").glob("*.md"),
    ]
)
# [text](target): the target runs to the first space or closing parenthesis.
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)


def anchors(document: Path) -> set[str]:
    """The anchors GitHub gives the document's headings: lower case, punctuation other than
    hyphens and underscores dropped, spaces made hyphens (a repeated heading gets -1, -2…)."""
    seen: dict[str, int] = {}
    found = set()
    for line in FENCE.sub("", document.read_text()).splitlines():
        heading = re.match(r"#{1,6} (.+)", line)
        if not heading:
            continue
        slug = re.sub(r"[^\w\- ]", "", heading.group(1).strip().lower()).replace(" ", "-")
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        found.add(slug if count == 0 else f"{slug}-{count}")
    return found


def relative_links(document: Path) -> list[str]:
    text = FENCE.sub("", document.read_text())
    return [t for t in LINK.findall(text) if not re.match(r"[a-z]+:", t)]


def test_the_documents_exist_and_link_somewhere():
    assert (PROJECT / "docs").is_dir()
    assert sum(len(relative_links(d)) for d in DOCUMENTS) > 10


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda d: str(d.relative_to(PROJECT)))
def test_every_relative_link_points_at_an_existing_file_and_heading(document):
    broken = []
    for target in relative_links(document):
        path, _, anchor = target.partition("#")
        linked = (document.parent / path).resolve() if path else document
        if not linked.exists():
            broken.append(f"{target}: no such file")
        elif anchor and linked.suffix == ".md" and anchor not in anchors(linked):
            broken.append(f"{target}: no such heading")
    assert broken == []
