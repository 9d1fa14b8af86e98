"""The README is a front door and the guide under docs/ holds the rest: every relative
link (and #anchor) in every Markdown file of the project resolves, and the README stays
short. The checker itself is tested on small made-up pages first."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote

import pytest

ROOT = Path(__file__).resolve().parent.parent
README_MAX_LINES = 250
SKIP_DIRS = {"build", "dist", "node_modules", "venv", "__pycache__"}

INLINE = re.compile(r"!?\[(?:[^\]\\]|\\.)*\]\(\s*(<[^>]*>|[^)\s]+)(?:\s+[\"'(][^)]*)?\)")
REFERENCE = re.compile(r"^ {0,3}\[[^\]]+\]:\s*(<[^>]*>|\S+)")
HTML_LINK = re.compile(r"<(?:a|img)\b[^>]*?\b(?:href|src)=[\"']([^\"']+)[\"']", re.I)
HTML_ANCHOR = re.compile(r"<a\b[^>]*?\b(?:name|id)=[\"']([^\"']+)[\"']", re.I)
CODE_SPAN = re.compile(r"(`+)(?:(?!\1).)+?\1")
FENCE = re.compile(r"^ {0,3}(```|~~~)")


def markdown_files(root: Path = ROOT) -> list[Path]:
    """Every .md file of the project: not in hidden folders (but .github), virtual
    environments or build output."""
    found = []
    for path in sorted(root.rglob("*.md")):
        parts = path.relative_to(root).parts[:-1]
        if any(p in SKIP_DIRS or (p.startswith(".") and p != ".github") for p in parts):
            continue
        found.append(path)
    return found


def _prose_lines(path: Path):
    """(line number, text) outside fenced code blocks."""
    fence = None
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        m = FENCE.match(line)
        if m and (fence is None or m.group(1) == fence):
            fence = None if fence else m.group(1)
            continue
        if fence is None:
            yield number, line


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: the link text of links, no markup, lower case,
    punctuation but '-' and '_' dropped, spaces to dashes."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading.strip())
    text = re.sub(r"<[^>]+>", "", text)
    text = re.sub(r"[`*~]", "", text).lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    found, counts, previous = set(), {}, ""
    for _, line in _prose_lines(path):
        heading = None
        if re.match(r"^ {0,3}#{1,6}(\s|$)", line):
            heading = re.sub(r"\s+#+\s*$", "", line.strip().lstrip("#"))
        elif re.match(r"^ {0,3}(=+|-+)\s*$", line) and previous.strip() and \
                not re.match(r"^ {0,3}([-*+] |\d+\. |#|>)", previous):
            heading = previous  # a setext heading: the line above is underlined
        if heading is not None:
            base = slug(heading)
            n = counts.get(base, 0)
            counts[base] = n + 1
            found.add(base if n == 0 else f"{base}-{n}")
        found.update(HTML_ANCHOR.findall(line))
        previous = line
    return found


def links(path: Path) -> list[tuple[int, str]]:
    out = []
    for number, line in _prose_lines(path):
        line = CODE_SPAN.sub("``", line)  # a link in `code` is text
        for target in INLINE.findall(line) + REFERENCE.findall(line) + HTML_LINK.findall(line):
            out.append((number, target.strip("<>")))
    return out


def broken_links(md: Path, root: Path = ROOT) -> list[str]:
    broken = []
    for number, target in links(md):
        if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", target) or target.startswith("//"):
            continue  # http:, https:, mailto:...
        path, _, anchor = unquote(target).partition("#")
        dest = (md.parent / path).resolve() if path else md
        where = f"{md.relative_to(root)}:{number}: {target}"
        if root.resolve() not in dest.parents and dest != root.resolve():
            broken.append(f"{where}: outside the repository")
        elif not dest.exists():
            broken.append(f"{where}: no such file")
        elif anchor and dest.suffix == ".md" and anchor not in anchors(dest):
            broken.append(f"{where}: no heading #{anchor}")
    return broken


# ---- the checker, on made-up pages -----------------------------------------------------

def test_checker_finds_broken_files_and_anchors_and_ignores_code(tmp_path):
    (tmp_path / "guide").mkdir()
    (tmp_path / "guide" / "a.md").write_text(
        "# Install it: `pip` & more!\n\n## Options\n\n## Options\n\nOther title\n---\n"
        '<a name="custom"></a>\n', encoding="utf-8")
    page = tmp_path / "README.md"
    page.write_text(
        "[ok](guide/a.md#install-it-pip--more) [dup](guide/a.md#options-1)\n"
        "[setext](guide/a.md#other-title) [html](guide/a.md#custom) ![img](guide/)\n"
        "[no file](guide/b.md) [no anchor](guide/a.md#nope) [up](../x.md)\n"
        "`[in code](missing.md)` <img src=\"gone.png\">\n[ref]: guide/c.md\n"
        "[self](#a-heading) [web](https://example.com/x.md) [title](guide/a.md \"T\")\n"
        "\n```\n[fenced](missing.md)\n```\n# A heading\n", encoding="utf-8")
    broken = broken_links(page, tmp_path)
    assert [b.split(": ", 2)[1] for b in broken] == [
        "guide/b.md", "guide/a.md#nope", "../x.md", "gone.png", "guide/c.md"], broken
    assert "outside the repository" in broken[2]


def test_markdown_files_skip_virtualenvs_and_build_output(tmp_path):
    for rel in ("README.md", "docs/a.md", ".github/b.md", ".venv/c.md", "build/d.md",
                "x/node_modules/e.md"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("# t\n")
    assert [p.relative_to(tmp_path).as_posix() for p in markdown_files(tmp_path)] == [
        ".github/b.md", "README.md", "docs/a.md"]


# ---- the project's own pages -----------------------------------------------------------

@pytest.mark.parametrize("md", markdown_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_resolve(md):
    broken = broken_links(md)
    assert not broken, "; ".join(broken)


def test_every_guide_page_is_linked_from_the_readme():
    readme = {t.partition("#")[0] for _, t in links(ROOT / "README.md")}
    pages = {f"docs/guide/{p.name}" for p in (ROOT / "docs" / "guide").glob("*.md")}
    assert not pages - readme


def test_readme_is_a_front_door():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(text.splitlines()) <= README_MAX_LINES
    # The two quick-start commands, exactly as .ci/run and tests/packaging/test_wheel.py
    # run them.
    assert ("python3 -m venv .venv && .venv/bin/pip install -q . && "
            ".venv/bin/pgwatch-gui --demo") in text
    assert ("python3 -m venv .venv && .venv/bin/pip install -q -e '.[test]' && "
            ".venv/bin/python -m pytest") in text
    assert len(re.findall(r"!\[[^\]]*\]\(", text)) == 1  # one screenshot
    for page in ("install", "profiles", "event-table", "triggers", "history", "changes",
                 "ssh", "cli"):
        assert f"docs/guide/{page}.md" in text
    assert "CHANGELOG.md" in text and "docs/performance.md" in text
