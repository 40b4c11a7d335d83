"""Every ```python block of README.md and docs/*.md runs, so the examples cannot rot.

A file's blocks run in order in one namespace, as one script, on a fresh migrated database
of each backend given as `DATABASE_URL`, in an empty working directory. Blocks marked
`<!-- not-run: reason -->` are reported as skipped, with the reason.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.docs.blocks import PYTHON, Block, DocError, blocks, doc_files, relative
from tests.docs.running import run_python_blocks


def _blocks(path: Path) -> list[Block]:
    try:
        return blocks(path)
    except DocError:
        return []  # reported by test_every_doc_file_reads


WITH_PYTHON = [
    path
    for path in doc_files()
    if any(block.language in PYTHON and not block.not_run for block in _blocks(path))
]
MARKED = [block for path in doc_files() for block in _blocks(path) if block.not_run]


@pytest.mark.parametrize("path", doc_files(), ids=relative)
def test_every_doc_file_reads(path: Path) -> None:
    try:
        blocks(path)
    except DocError as exc:
        pytest.fail(str(exc), pytrace=False)


@pytest.mark.parametrize("path", WITH_PYTHON, ids=relative)
@pytest.mark.usefixtures("docs_database")
def test_python_blocks_run(path: Path) -> None:
    run_python_blocks(path)


@pytest.mark.parametrize("block", MARKED, ids=lambda block: block.where)
def test_marked_block_is_reported(block: Block) -> None:
    pytest.skip(f"{block.where}: ```{block.language} block not run: {block.not_run}")
