"""`huying --help` lists the commands exactly as the README does."""

from pathlib import Path

import pytest

from huying import cli

README = Path(__file__).resolve().parents[2] / "README.md"


@pytest.mark.parametrize("argv", [["huying"], ["huying", "--help"], ["huying", "-h"]])
def test_help_lists_the_readme_commands(argv, capsys):
    cli.main(argv)
    out = capsys.readouterr().out
    block = README.read_text("utf-8").split("## The `huying` command", 1)[1].split("```", 2)[1]
    lines = [line for line in block.splitlines() if line.strip()]
    assert len(lines) > 20
    for line in lines:
        assert line in out, line
