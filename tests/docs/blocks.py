"""The code shown in README.md and docs/*.md: fenced blocks and `tasktracker ...` commands.

What happens to a fenced block depends on its language:

- `python`: run. A file's blocks run in order, in one namespace, on a fresh migrated
  database (`test_python_blocks.py`).
- `bash`, `sh`: every `tasktracker ...` command in it must name real commands and options
  (`test_command_lines.py`); nothing else in it is run.
- `text`, `json`, `sql`, `mermaid` and unlabelled blocks show output, diagrams, documents or
  SQL for another program: they are not run. (The Mermaid diagrams are compared with the
  generator by `tests/cli/test_diagram.py`.)

Any other language is an error, so a new kind of block is classified on purpose. A python or
shell block that cannot run standalone is marked by the line right before it:

    <!-- not-run: needs a Neon URL -->

and is then reported as a skipped test with that reason: counted, never silently dropped.
Inline code spans that start with `tasktracker ` are checked like shell commands.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PYTHON = frozenset({"python", "py"})
SHELL = frozenset({"bash", "sh"})
SHOWN = frozenset({"", "text", "json", "sql", "mermaid"})
NOT_RUN = re.compile(r"^\s*<!--\s*not-run:(?P<reason>.*?)-->\s*$")
_FENCE = re.compile(r"^(?P<indent>\s*)(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
_INLINE = re.compile(r"(?<!`)`(?P<code>tasktracker [^`]+)`(?!`)")
_ALTERNATIVES = re.compile(r"^[a-z-]+(?:/[a-z-]+)+$")
_PROGRAM = "tasktracker"


class DocError(Exception):
    """A docs file the collector cannot read as intended (the message names file and line)."""


@dataclass(frozen=True)
class Block:
    path: Path
    line: int
    """The line of the opening fence (1-based)."""
    language: str
    code: str
    not_run: str | None = None
    """The reason given by a `<!-- not-run: ... -->` marker, if the block has one."""

    @property
    def where(self) -> str:
        return f"{relative(self.path)}:{self.line}"

    @property
    def first_code_line(self) -> int:
        return self.line + 1


@dataclass(frozen=True)
class CommandLine:
    """One `tasktracker ...` invocation shown in a docs file."""

    path: Path
    line: int
    text: str
    arguments: tuple[str, ...]
    """The arguments after the program name."""

    @property
    def where(self) -> str:
        return f"{relative(self.path)}:{self.line}"


def relative(path: Path) -> str:
    return path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else str(path)


def doc_files() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def blocks(path: Path) -> list[Block]:
    """Every fenced block of a Markdown file, in order."""
    lines = path.read_text(encoding="utf-8").splitlines()
    found: list[Block] = []
    marker: tuple[int, str] | None = None
    number = 0
    while number < len(lines):
        text = lines[number]
        number += 1
        if match := NOT_RUN.match(text):
            reason = match["reason"].strip()
            if not reason:
                raise DocError(f"{relative(path)}:{number}: a not-run marker needs a reason")
            marker = (number, reason)
            continue
        fence = _FENCE.match(text)
        if fence is None:
            if marker is not None and text.strip():
                raise DocError(f"{relative(path)}:{marker[0]}: not-run marker without a block")
            continue
        block, number = _read_block(path, lines, number, fence, marker)
        found.append(block)
        marker = None
    if marker is not None:
        raise DocError(f"{relative(path)}:{marker[0]}: not-run marker without a block")
    return found


def _read_block(
    path: Path, lines: list[str], number: int, fence: re.Match[str], marker: tuple[int, str] | None
) -> tuple[Block, int]:
    """The block opened by `fence` at line `number`, and the line after its closing fence."""
    start, indent, delimiter = number, fence["indent"], fence["fence"]
    language = fence["info"].strip().split(" ")[0].lower()
    where = f"{relative(path)}:{start}"
    if language not in PYTHON | SHELL | SHOWN:
        raise DocError(
            f"{where}: a ```{language} block: classify the language in tests/docs/blocks.py"
        )
    if marker is not None and language in SHOWN:
        raise DocError(f"{where}: not-run marker on a block that is never run")
    body: list[str] = []
    while number < len(lines):
        text = lines[number]
        number += 1
        stripped = text.strip()
        if stripped.startswith(delimiter[0] * len(delimiter)) and not stripped.strip(delimiter[0]):
            code = "\n".join(body) + "\n"
            return Block(path, start, language, code, marker[1] if marker else None), number
        body.append(text.removeprefix(indent))
    raise DocError(f"{where}: the block is never closed")


def command_lines(path: Path) -> list[CommandLine]:
    """Every `tasktracker ...` command in the file's shell blocks and inline code spans."""
    found: list[CommandLine] = []
    covered: set[int] = set()
    for block in blocks(path):
        covered.update(range(block.line, block.line + block.code.count("\n") + 2))
        if block.language in SHELL and block.not_run is None:
            found.extend(_shell_commands(block))
    for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if number not in covered:
            for match in _INLINE.finditer(text):
                found.extend(_synopsis(path, number, match["code"]))
    return found


def _shell_commands(block: Block) -> list[CommandLine]:
    found: list[CommandLine] = []
    lines = block.code.splitlines()
    index = 0
    while index < len(lines):
        line_number = block.first_code_line + index
        logical = lines[index]
        while logical.endswith("\\") and index + 1 < len(lines):
            index += 1
            logical = logical[:-1] + " " + lines[index]
        index += 1
        for words in _simple_commands(logical):
            program, *arguments = words
            if Path(program).name == _PROGRAM:
                text = shlex.join(words)
                found.append(CommandLine(block.path, line_number, text, tuple(arguments)))
    return found


def _simple_commands(line: str) -> list[list[str]]:
    """The commands of one shell line (split at `&&`, `||`, `;`, `|`), each without its
    leading `NAME=value` assignments and its redirections; `export` lines are assignments
    only."""
    lexer = shlex.shlex(line, posix=True, punctuation_chars=";&|<>")
    lexer.whitespace_split = True
    commands: list[list[str]] = [[]]
    redirect_target = False
    for token in lexer:
        if redirect_target:  # `> file`: the file is no argument
            redirect_target = False
        elif token and set(token) <= set("<>"):
            redirect_target = True
        elif token and set(token) <= set(";&|"):
            commands.append([])
        elif commands[-1] or not re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", token):
            commands[-1].append(token)
    return [words for words in commands if words and words[0] != "export"]


def _synopsis(path: Path, number: int, code: str) -> list[CommandLine]:
    """An inline `tasktracker ...` span, read as a synopsis: `[--opt X]` marks an optional
    part, and `a/b` or `a / b` lists alternative subcommands (each is checked)."""
    if re.search(r"[|;&>]", code):  # a shell line, not a synopsis: check its commands
        return [
            CommandLine(path, number, code, tuple(arguments))
            for program, *arguments in _simple_commands(code)
            if Path(program).name == _PROGRAM
        ]
    words = code.replace("[", " ").replace("]", " ")
    words = re.sub(r"\s+/\s+", "/", words).split()[1:]
    lines = [words]
    for position, word in enumerate(words):
        if _ALTERNATIVES.match(word):
            choices = word.split("/")
            lines = [
                [*line[:position], choice, *line[position + 1 :]]
                for line in lines
                for choice in choices
            ]
    return [CommandLine(path, number, code, tuple(line)) for line in lines]
