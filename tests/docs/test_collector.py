"""The docs collector itself: what it finds, what it refuses, and how failures read."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.docs.blocks import CommandLine, DocError, blocks, command_lines
from tests.docs.running import check_command, run_python_blocks


def _doc(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "page.md"
    path.write_text(text, encoding="utf-8")
    return path


def test_blocks_keep_their_language_line_and_marker(tmp_path: Path) -> None:
    path = _doc(
        tmp_path,
        "# Title\n"
        "```python\n"
        "x = 1\n"
        "```\n"
        "1. a step:\n"
        "   <!-- not-run: needs a Neon URL -->\n"
        "   ```bash\n"
        "   tasktracker db health\n"
        "   ```\n"
        "```\n"
        "output\n"
        "```\n",
    )
    found = blocks(path)
    assert [(b.language, b.line, b.code, b.not_run) for b in found] == [
        ("python", 2, "x = 1\n", None),
        ("bash", 7, "tasktracker db health\n", "needs a Neon URL"),
        ("", 10, "output\n", None),
    ]


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("<!-- not-run: -->\n```python\nx\n```\n", 1, "needs a reason"),
        ("<!-- not-run: why -->\nsome prose\n```python\nx\n```\n", 1, "without a block"),
        ("text\n<!-- not-run: why -->\n", 2, "without a block"),
        ("<!-- not-run: why -->\n```text\nx\n```\n", 2, "never run"),
        ("```toml\nx = 1\n```\n", 1, "classify the language"),
        ("\n```python\nx = 1\n", 2, "never closed"),
    ],
)
def test_malformed_files_are_refused_with_file_and_line(
    tmp_path: Path, text: str, line: int, message: str
) -> None:
    path = _doc(tmp_path, text)
    with pytest.raises(DocError, match=message) as raised:
        blocks(path)
    assert str(raised.value).startswith(f"{path}:{line}: ")


def test_command_lines_come_from_shell_blocks_and_inline_spans(tmp_path: Path) -> None:
    path = _doc(
        tmp_path,
        "Run `tasktracker db stats [--user EMAIL]` or `tasktracker db upgrade/check`.\n"
        "```bash\n"
        "export DATABASE_URL=sqlite:///x.db\n"
        "DATABASE_URL=sqlite:///y.db .venv/bin/tasktracker db upgrade && psql -c 'x'  # why\n"
        "tasktracker bench \\\n"
        "  --users 5 --json 'a b.json'\n"
        "```\n"
        "<!-- not-run: a remote server -->\n"
        "```sh\n"
        "tasktracker db health\n"
        "```\n"
        "```text\n"
        "next: tasktracker db nonsense\n"
        "```\n",
    )
    found = [(c.line, c.arguments) for c in command_lines(path)]
    assert found == [
        (4, ("db", "upgrade")),
        (5, ("bench", "--users", "5", "--json", "a b.json")),
        (1, ("db", "stats", "--user", "EMAIL")),
        (1, ("db", "upgrade")),
        (1, ("db", "check")),
    ]


def test_python_blocks_share_one_namespace(tmp_path: Path) -> None:
    path = _doc(tmp_path, "```python\nx = 2\n```\ntext\n```py\ny = x * 21\n```\n")
    assert run_python_blocks(path)["y"] == 42


def test_a_failing_block_names_the_file_and_lines(tmp_path: Path) -> None:
    path = _doc(tmp_path, "intro\n\n```python\nx = 1\ny = x / 0\n```\n")
    with pytest.raises(pytest.fail.Exception) as failed:
        run_python_blocks(path)
    message = str(failed.value)
    assert message.startswith(f"{path}:3: the ```python block fails:")
    assert f'File "{path}", line 5' in message  # the failing line itself
    assert "ZeroDivisionError" in message


def test_a_block_with_a_syntax_error_names_its_line(tmp_path: Path) -> None:
    path = _doc(tmp_path, "```python\nok = 1\nnot python at all\n```\n")
    with pytest.raises(pytest.fail.Exception, match="SyntaxError") as failed:
        run_python_blocks(path)
    assert f'File "{path}", line 3' in str(failed.value)


@pytest.mark.usefixtures("isolated")
def test_a_command_line_with_an_unknown_option_or_command_fails() -> None:
    check_command(
        CommandLine(Path("x.md"), 1, "tasktracker db downgrade -1", ("db", "downgrade", "-1"))
    )
    for arguments in (("db", "upgrade", "--bogus"), ("db", "bogus"), ("nonsense",)):
        command = CommandLine(Path("x.md"), 7, " ".join(arguments), arguments)
        with pytest.raises(pytest.fail.Exception, match=r"^x\.md:7: `"):
            check_command(command)
