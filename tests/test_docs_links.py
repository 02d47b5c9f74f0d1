"""The manual and docs/ hold together: every relative link and anchor resolves, and the
README stays a manual a newcomer can read (<= 450 lines)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Iterator, List, Tuple

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
PAGES = [README, *sorted((ROOT / "docs").glob("*.md"))]

_FENCE = re.compile(r"^(```|~~~).*?^\1[ \t]*$", re.S | re.M)
_CODE_SPAN = re.compile(r"`[^`\n]*`")
_LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)")


def _prose(text: str) -> str:
    """The text without fenced blocks and code spans: a `[x](y)` there is an example, not a link."""
    return _CODE_SPAN.sub("", _FENCE.sub("", text))


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = heading.strip().lower().replace("`", "")
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(text: str) -> set:
    """Every heading's anchor, numbered as GitHub numbers a repeated one (-1, -2, ...)."""
    seen: dict = {}
    found = set()
    for line in _FENCE.sub("", text).splitlines():
        match = re.match(r"#{1,6} (.+)", line)
        if not match:
            continue
        base = slug(match.group(1))
        count = seen.get(base, 0)
        found.add(base if count == 0 else f"{base}-{count}")
        seen[base] = count + 1
    return found


def links(page: Path) -> Iterator[str]:
    for target in _LINK.findall(_prose(page.read_text(encoding="utf-8"))):
        if not re.match(r"[a-z][a-z0-9+.-]*:", target):  # http:, https:, mailto: are not ours
            yield target


def broken(page: Path) -> List[Tuple[str, str]]:
    """(link, why) for each relative link of `page` that does not resolve."""
    problems = []
    for target in links(page):
        path, _, anchor = target.partition("#")
        file = (page.parent / path).resolve() if path else page
        if not file.exists():
            problems.append((target, f"no file {file}"))
        elif anchor and (file.suffix != ".md" or anchor not in anchors(file.read_text(encoding="utf-8"))):
            problems.append((target, f"no heading #{anchor} in {file.name}"))
    return problems


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_every_relative_link_and_anchor_resolves(page):
    assert list(links(page)), f"{page.name} links nowhere: the checker found no link to check"
    assert broken(page) == []


def test_the_readme_is_a_manual_of_at_most_450_lines():
    assert len(README.read_text(encoding="utf-8").splitlines()) <= 450


def test_the_readme_links_every_page_in_docs():
    linked = {(ROOT / target.partition("#")[0]).resolve() for target in links(README)}
    for page in PAGES[1:]:
        assert page.resolve() in linked, f"README.md does not link {page.relative_to(ROOT)}"


def test_the_checker_finds_a_missing_file_and_a_missing_anchor(tmp_path):
    (tmp_path / "a.md").write_text("# Title\n\n## Two words\n\n```\n# not a heading\n```\n"
                                   "[ok](#two-words) [ok](#title) [gone](#not-a-heading)\n"
                                   "[file](b.md#title) [missing](c.md) `[code](nowhere.md)`\n"
                                   "[web](https://example.com/x.md)\n")
    (tmp_path / "b.md").write_text("# Title\n")
    assert [link for link, _ in broken(tmp_path / "a.md")] == ["#not-a-heading", "c.md"]


def test_slugs_are_githubs():
    assert slug("`hourly in`, `hourly out`, `hourly status`") == "hourly-in-hourly-out-hourly-status"
    assert slug("Without pre-commit: the plain git hooks") == "without-pre-commit-the-plain-git-hooks"
    assert slug("The store's wallet") == "the-stores-wallet"
    assert anchors("## Notes\n## Notes\n") == {"notes", "notes-1"}


def test_the_readme_opens_with_the_test_command_ci_runs_verbatim():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").strip().splitlines()[-1]
    opening = re.search(r"```console\n(.*?)```", README.read_text(encoding="utf-8"), re.S).group(1)
    assert opening.splitlines() == [
        "python3 -m venv .venv && .venv/bin/pip install -q -e . && .venv/bin/hourly demo", ci]


def test_the_internals_name_every_module_of_the_package():
    # The README's old module map left 15 modules out; a module moved or added without a line
    # here is named by this test.
    package = ROOT / "src" / "hourly_hooks"
    internals = (ROOT / "docs" / "internals.md").read_text(encoding="utf-8")
    modules = [path.relative_to(package).as_posix() for path in sorted(package.rglob("*"))
               if path.suffix in (".py", ".sh") and "__pycache__" not in path.parts]
    assert len(modules) > 40
    assert [module for module in modules if f"`{module}`" not in internals] == []
