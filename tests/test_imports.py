"""The house's rules on what may import what (the contracts in pyproject.toml, checked by
import-linter) and on who reads the environment, each shown to fail when broken."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

LINT = Path(sys.executable).with_name("lint-imports")
PACKAGES = ("sealdesk", "pipeline", "flows")


def lint(root: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run(
        [str(LINT), "--no-cache"], cwd=root, env=env, capture_output=True, text=True, check=False
    )


def test_every_import_goes_the_way_the_contracts_say() -> None:
    done = lint(REPO)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "3 kept, 0 broken" in done.stdout


@pytest.mark.parametrize(
    ("where", "line", "contract"),
    [
        ("pipeline/extract/_later.py", "import pipeline.review.queue", "One way down"),
        ("pipeline/records/_stage.py", "import pipeline.extract.page", "One way down"),
        ("pipeline/ingest/_flows.py", "import flows.runtime", "One way down"),
        ("pipeline/validate/_sql.py", "import sqlalchemy", "SQL is built in records alone"),
        ("pipeline/issue/_token.py", "import pkcs11", "One module speaks PKCS#11"),
    ],
)
def test_the_import_check_fails_on_an_import_against_the_house(
    tmp_path: Path, where: str, line: str, contract: str
) -> None:
    for package in PACKAGES:
        shutil.copytree(
            REPO / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    shutil.copy(REPO / "pyproject.toml", tmp_path)
    (tmp_path / where).write_text(f'"""Against the house."""\n\n{line}\n', encoding="utf-8")
    done = lint(tmp_path)
    assert done.returncode != 0
    assert contract in done.stdout and "BROKEN" in done.stdout


ENVIRONMENT_HANDED_ON = {
    ("pipeline/ingest/isolate.py", "PATH"),  # the isolated child's own PATH
    ("flows/runtime.py", "PREFECT_API_URL"),  # Prefect's address, restored after a run
}
"""Reads of the environment outside config.py: variables handed on to outside programs,
never sealdesk's own settings."""


def environment_reads(path: Path) -> list[tuple[int, str]]:
    """(line, variable) for each read of the environment in ``path``: os.environ.get,
    os.getenv, os.environ[...] and ``... in os.environ``; "?" where the name is not a
    literal."""

    def is_environ(node: ast.AST) -> bool:
        return isinstance(node, ast.Attribute) and node.attr == "environ"

    def name(node: ast.AST | None) -> str:
        return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else "?"

    reads = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            getter = node.func
            if (getter.attr == "get" and is_environ(getter.value)) or getter.attr == "getenv":
                reads.append((node.lineno, name(node.args[0] if node.args else None)))
        elif isinstance(node, ast.Subscript) and is_environ(node.value):
            if isinstance(node.ctx, ast.Load):
                reads.append((node.lineno, name(node.slice)))
        elif isinstance(node, ast.Compare) and any(is_environ(c) for c in node.comparators):
            reads.append((node.lineno, name(node.left)))
        elif isinstance(node, ast.Call) and any(is_environ(a) for a in node.args):
            reads.append((node.lineno, "?"))  # dict(os.environ), {**os.environ}: all of it
    return reads


def test_the_environment_is_read_in_config_alone() -> None:
    found = []
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            where = path.relative_to(REPO).as_posix()
            if where == "pipeline/config.py":
                continue
            for line, variable in environment_reads(path):
                if (where, variable) not in ENVIRONMENT_HANDED_ON:
                    found.append(f"{where}:{line} reads {variable}")
    assert found == []


def test_the_environment_check_sees_each_way_of_reading_it(tmp_path: Path) -> None:
    source = tmp_path / "reader.py"
    source.write_text(
        "import os\n"
        "a = os.environ.get('SEALDESK_HOME')\n"
        "b = os.getenv('SEALDESK_CA_PIN')\n"
        "c = os.environ['SEALDESK_DATABASE_URL']\n"
        "d = 'SEALDESK_FIELD_KEY' in os.environ\n"
        "e = dict(os.environ)\n"
        "os.environ['SOFTHSM2_CONF'] = 'x'\n",  # a write, handed to a library: not a read
        encoding="utf-8",
    )
    assert environment_reads(source) == [
        (2, "SEALDESK_HOME"),
        (3, "SEALDESK_CA_PIN"),
        (4, "SEALDESK_DATABASE_URL"),
        (5, "SEALDESK_FIELD_KEY"),
        (6, "?"),
    ]
