"""All SQL lives in vidseek/store: no module outside it runs a statement on a connection."""

from __future__ import annotations

import ast

from paths import ROOT

SQL_CALLS = {"execute", "executemany", "executescript"}


def sql_calls(source: str, name: str = "<src>") -> list[int]:
    """Line numbers of `<anything>.execute(` / executemany / executescript calls in the source."""
    return [n.lineno for n in ast.walk(ast.parse(source, name))
            if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr in SQL_CALLS]


def test_no_sql_outside_store() -> None:
    pkg = ROOT / "vidseek"
    found = [f"vidseek/{p.relative_to(pkg)}:{line}"
             for p in sorted(pkg.rglob("*.py")) if p.relative_to(pkg).parts[0] != "store"
             for line in sql_calls(p.read_text(encoding="utf-8"), str(p))]
    assert found == [], "SQL outside vidseek/store (add a named Catalog method instead)"


def test_the_walk_finds_a_planted_call() -> None:
    src = "x = 1\nwith cat.transaction() as c:\n    c.executemany('INSERT', rows)\nstore.catalog.execute('SELECT 1')\n"
    assert sorted(sql_calls(src)) == [3, 4]
    assert sql_calls("execute = run\nrun('SELECT 1')\n") == []
