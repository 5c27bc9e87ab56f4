"""README.md and docs/ stay true to the code: their commands parse, their pictures and links exist.

Every `infogan ...` line in a fenced code block or an inline code span (also `python -m infogan ...`,
`torchrun ... -m infogan ...`, `time infogan ...`, and after `&&` or `;`) is parsed by the real
argument parser, and a `train` line that does not resume is also resolved and validated as
`infogan train` would. Comments after `#`
are dropped and `\\` continuations joined. Two kinds of line are skipped, on clear rules: a synopsis,
written with `[optional]` brackets, `a|b` alternatives or `...`, which no shell would run as typed
(write usage lines with concrete values instead, so that they are checked); and an inline span that
only names a command (`infogan plot`), which is prose, not a command line.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import io
import re
import shlex
from pathlib import Path

import pytest

import infogan
from infogan.cli import build_parser, config_from_args
from infogan.errors import InfoGANError

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
FENCE = re.compile(r"^\s*```")
SYNOPSIS = re.compile(r"\[|\||\.\.\.")
LINK = re.compile(r"(!?)\[[^\]]*\]\(([^)\s]+)\)")


def code_blocks(text: str) -> list[tuple[str, str]]:
    """(info string, body) of every fenced code block."""
    blocks, info, body = [], None, []
    for line in text.splitlines():
        if FENCE.match(line):
            if info is None:
                info, body = line.strip()[3:].strip(), []
            else:
                blocks.append((info, "\n".join(body)))
                info = None
        elif info is not None:
            body.append(line)
    return blocks


def prose(text: str) -> str:
    """The text outside fenced code blocks (where headings and links live)."""
    kept, inside = [], False
    for line in text.splitlines():
        if FENCE.match(line):
            inside = not inside
        elif not inside:
            kept.append(line)
    return "\n".join(kept)


def shell_lines(body: str) -> list[str]:
    """A code block's lines with `\\` continuations joined."""
    return body.replace("\\\n", " ").splitlines()


def infogan_commands(line: str) -> list[list[str]]:
    """The argument lists given to `infogan` on one shell line (none for other programs or a synopsis)."""
    if SYNOPSIS.search(line.split("#", 1)[0]):
        return []
    lexer = shlex.shlex(line, posix=True, punctuation_chars=";&")
    lexer.whitespace_split, lexer.commenters = True, "#"
    commands, current = [], []
    for token in [*lexer, ";"]:
        if token in (";", "&&", "&"):
            commands.append(current)
            current = []
        else:
            current.append(token)
    found = []
    for tokens in commands:
        if tokens[:1] == ["time"]:
            tokens = tokens[1:]
        if tokens[:1] == ["infogan"]:
            found.append(tokens[1:])
        elif "infogan" in tokens and tokens[tokens.index("infogan") - 1] == "-m":
            found.append(tokens[tokens.index("infogan") + 1 :])
    return found


def parse_error(args: list[str]) -> str | None:
    """Why the real parser (and, for a new training run, the config's validation) refuses args; None if not."""
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            parsed = build_parser().parse_args(args)
    except SystemExit as exit_:  # --help exits 0
        return None if exit_.code == 0 else f"exit status {exit_.code}"
    except InfoGANError as error:
        return str(error)
    if parsed.command == "train" and not parsed.resume:
        try:
            config_from_args(parsed)
        except InfoGANError as error:
            return str(error)
    return None


def commands_in(text: str) -> list[list[str]]:
    """Commands of the code blocks, then those quoted inline in the prose (`infogan ...`)."""
    lines = [line for _, body in code_blocks(text) for line in shell_lines(body)]
    inline = re.findall(r"`((?:python -m )?infogan [^`]+)`", prose(text).replace("\n", " "))
    found = [args for line in lines for args in infogan_commands(line)]
    return found + [args for line in inline for args in infogan_commands(line) if len(args) > 1]


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(page: Path) -> set[str]:
    return {slug(m.group(1)) for m in re.finditer(r"^#+ (.+)$", prose(page.read_text()), re.M)}


def broken_links(page: Path, text: str | None = None) -> list[str]:
    """Relative links and pictures of a page whose file (or heading anchor) does not exist."""
    text = page.read_text() if text is None else text
    broken = []
    for match in LINK.finditer(prose(text)):
        target = match.group(2)
        if re.match(r"[a-z]+:", target):  # http:, https:, mailto:
            continue
        path, _, anchor = target.partition("#")
        file = (page.parent / path).resolve() if path else page
        if not file.exists():
            broken.append(f"{target}: no such file")
        elif anchor and file.suffix == ".md" and anchor not in anchors(file):
            broken.append(f"{target}: no heading with this anchor")
    return broken


COMMANDS = [(page, args) for page in PAGES for args in commands_in(page.read_text())]


@pytest.mark.parametrize(
    ("page", "args"), COMMANDS, ids=[f"{p.relative_to(ROOT)}: infogan {' '.join(a)}"[:120] for p, a in COMMANDS]
)
def test_documented_command_parses(page: Path, args: list[str]) -> None:
    assert parse_error(args) is None, f"{page.name}: `infogan {' '.join(args)}`: {parse_error(args)}"


def test_readme_documents_every_command() -> None:
    readme = {args[0] for page, args in COMMANDS if page.name == "README.md"}
    parser = build_parser()
    subcommands = next(set(a.choices) for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    assert subcommands <= readme, f"README shows no usage line of: {sorted(subcommands - readme)}"


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(ROOT)) for p in PAGES])
def test_links_and_pictures_exist(page: Path) -> None:
    assert broken_links(page) == []


def test_python_examples_compile_and_import_what_exists() -> None:
    for page in PAGES:
        for info, body in code_blocks(page.read_text()):
            if info != "python":
                continue
            for node in ast.walk(ast.parse(body)):  # a syntax error fails here
                if isinstance(node, ast.ImportFrom) and node.module == "infogan":
                    missing = [a.name for a in node.names if not hasattr(infogan, a.name)]
                    assert not missing, f"{page.name} imports {missing} from infogan, which has no such name"


FAKE = """
Some prose with a [link](docs/no-such-page.md) and ![a picture](docs/none.png). Run
`infogan evaluate runs/x --jsn` (a typo), then `infogan plot` (a name only: skipped).

```bash
infogan train --stepz 5 --out runs/x          # a typo in a flag
infogan train --steps 5 --categorical 1       # parses, but validation refuses it
infogan sample runs/x --cat 7 --cont 0.5      # fine
make demo && infogan plot runs/x --outt f.png # after &&, a typo
torchrun --nproc_per_node=2 -m infogan trian  # a typo in the command
infogan sample RUN [--out FILE]               # a synopsis: skipped
```
"""


def test_a_typo_or_a_missing_file_fails(tmp_path: Path) -> None:
    found = commands_in(FAKE)
    assert [parse_error(args) is None for args in found] == [False, False, True, False, False, False]
    assert found[-1] == ["evaluate", "runs/x", "--jsn"]
    assert "unrecognized arguments: --stepz" in parse_error(found[0])
    assert "--categorical sizes must be at least 2" in parse_error(found[1])
    page = tmp_path / "README.md"
    assert broken_links(page, FAKE) == ["docs/no-such-page.md: no such file", "docs/none.png: no such file"]


def test_anchor_links_are_checked(tmp_path: Path) -> None:
    page = tmp_path / "README.md"
    page.write_text("## Runs that survive: `infogan train`\n\n```bash\n# not a heading\n```\n")
    assert broken_links(page, "[ok](#runs-that-survive-infogan-train) [bad](#not-a-heading)") == [
        "#not-a-heading: no heading with this anchor"
    ]
