"""The house runs one way: each app imports only the apps below it.

The order is ``settings.INSTALLED_APPS`` (lowest first), read here, so it is written once. A
lower app that must cause an effect in a higher one declares a hook (``hooks.py``) and the
higher app registers for it in its ``signals.py``, which its ``AppConfig.ready`` imports: the
only import that may sit in a function body. The checks read the source with ``ast``, so an import hidden anywhere is found.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent
APPS = [a.split(".", 1)[1] for a in settings.INSTALLED_APPS if a.startswith("doorstep.")]
# Not apps: libraries below every app, which import nothing of the project's apps.
LIBRARIES = {"planning"}
# Import nothing of the apps either, and only their own commands sit among them.
SEALED = {"ha", "planning", "smsgw"}
# The demo fills every app and nothing imports it but the simulator (it borrows the town); the
# test kit is for the tests alone.
ONLY_IMPORTED_BY = {"demo": {"simulate"}, "testing": {"tests"}}
# The project's glue (settings, URLs, the console script, the context processor, test set-up)
# sits above every app, and so does the test kit.
GLUE = {
    "cli",
    "urls",
    "settings",
    "wsgi",
    "context",
    "views",
    "conftest",
    "testing_env",
    "testing",
    "tests",
}


@dataclass(frozen=True)
class Import:
    path: Path
    line: int
    target: str  # the module imported, "doorstep.x.y"
    in_function: str | None  # the enclosing function's name, if any

    @property
    def where(self) -> str:
        return f"{self.path.relative_to(ROOT.parent)}:{self.line}"


def _imports(path: Path) -> list[Import]:
    found: list[Import] = []

    def visit(node: ast.AST, function: str | None) -> None:
        for child in ast.iter_child_nodes(node):
            inner = function
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                inner = child.name
            if isinstance(child, ast.ImportFrom) and child.level:
                raise AssertionError(f"{path}:{child.lineno}: use an absolute import")
            if isinstance(child, ast.ImportFrom) and child.module:
                names = [child.module]
            elif isinstance(child, ast.Import):
                names = [alias.name for alias in child.names]
            else:
                names = []
            found.extend(
                Import(path, child.lineno, n, function) for n in names if n.startswith("doorstep.")
            )
            visit(child, inner)

    visit(ast.parse(path.read_text(encoding="utf-8")), None)
    return found


def _part(path: Path) -> str:
    """The app (or library, or glue) a file belongs to; "tests" for any test module."""
    parts = path.relative_to(ROOT).parts
    if "tests" in parts or parts[-1] == "conftest.py":
        return "tests"
    return parts[0].removesuffix(".py")


def _sources() -> list[Path]:
    return [p for p in ROOT.rglob("*.py") if "migrations" not in p.parts]


def _all_imports() -> list[tuple[str, Import]]:
    return [(_part(p), i) for p in _sources() for i in _imports(p)]


def upward(part: str, target: str) -> str | None:
    """Why ``part`` may not import ``target`` (an app, library or glue), or None if it may."""
    if part == target or part in GLUE:
        return None
    if target in ONLY_IMPORTED_BY and part not in ONLY_IMPORTED_BY[target]:
        return f"nothing imports {target} but {', '.join(sorted(ONLY_IMPORTED_BY[target]))}"
    if part in SEALED and target not in LIBRARIES:
        return f"{part} imports nothing of the apps"
    if target in LIBRARIES:
        return None
    if target in GLUE:
        return f"{target} is the project's glue, above every app"
    if APPS.index(target) > APPS.index(part):
        return f"{target} sits above {part} in INSTALLED_APPS"
    return None


def test_every_app_imports_only_the_apps_below_it():
    wrong = [
        f"{i.where}: {part} imports {i.target} ({why})"
        for part, i in _all_imports()
        if (why := upward(part, i.target.split(".")[1]))
    ]
    assert wrong == []


def _registration(i: Import) -> bool:
    """``AppConfig.ready`` importing its own app's ``signals`` module: the one import Django
    needs in a function (the registry must be ready), which keeps every other at the top."""
    app = i.path.parent.name
    return i.path.name == "apps.py" and i.in_function == "ready" and i.target == f"doorstep.{app}"


def test_no_import_hides_in_a_function_but_each_apps_signals_in_ready():
    hidden = [
        f"{i.where}: {i.target} imported inside {i.in_function}()"
        for _part_, i in _all_imports()
        if i.in_function and not _registration(i)
    ]
    assert hidden == []


def test_no_module_is_imported_by_name_at_run_time():
    """``__import__`` and ``import_module`` would hide an import from the checks above."""
    hidden = [
        f"{p.relative_to(ROOT.parent)}:{n}"
        for p in _sources()
        if p != Path(__file__).resolve()
        for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
        if "__import__(" in line or "import_module(" in line
    ]
    assert hidden == []


def test_no_test_module_imports_another():
    """Shared builders live in ``doorstep.testing`` and fixtures in the conftest files, which
    pytest finds by itself; a test module imported by another runs its tests twice over."""
    crossed = [
        f"{i.where}: imports {i.target}"
        for part, i in _all_imports()
        if ".tests" in i.target or i.target.endswith("conftest")
    ]
    assert crossed == []


def test_the_order_is_the_one_the_architecture_shows():
    """docs/architecture.md draws the layers; the picture names the apps in this order."""
    text = (ROOT.parent / "docs" / "architecture.md").read_text(encoding="utf-8")
    start = text.index("<!-- layers -->")
    picture = text[start : text.index("<!-- /layers -->", start)]
    named = [a for a in APPS if a in picture]
    assert named == APPS, "docs/architecture.md's layer picture is out of date"
    positions = [picture.index(f" {a} ") for a in APPS]
    assert positions == sorted(positions, reverse=True), "the picture puts the lowest last"


def test_the_check_finds_an_upward_import_and_a_hidden_one(tmp_path):
    """The checks above can fail: a lower app importing a higher one, and a function-body
    import, are both found."""
    source = tmp_path / "probe.py"
    source.write_text(
        "from doorstep.lab.models import ResultEntry\n"
        "def f():\n"
        "    from doorstep.command import dashboard\n",
        encoding="utf-8",
    )
    found = _imports(source)
    assert [(i.target, i.in_function) for i in found] == [
        ("doorstep.lab.models", None),
        ("doorstep.command", "f"),
    ]
    assert upward("sampling", "lab") == "lab sits above sampling in INSTALLED_APPS"
    assert upward("lab", "sampling") is None
    assert upward("canvass", "demo") == "nothing imports demo but simulate"
    assert upward("ha", "core") == "ha imports nothing of the apps"
    assert upward("core", "urls") == "urls is the project's glue, above every app"
    assert upward("lab", "testing") == "nothing imports testing but tests"
    assert upward("tests", "testing") is None
    apps_py = ROOT / "canvass" / "apps.py"
    assert _registration(Import(apps_py, 1, "doorstep.canvass", "ready"))
    assert not _registration(Import(apps_py, 1, "doorstep.sampling", "ready"))
    assert not _registration(Import(apps_py, 1, "doorstep.canvass", "other"))


def test_the_architecture_names_only_modules_that_exist():
    """Every module docs/architecture.md names is there: in an app's row of the layout table,
    ``roster.py`` is that app's; elsewhere a path is the project's (or its app's) own."""
    text = (ROOT.parent / "docs" / "architecture.md").read_text(encoding="utf-8")
    missing = []
    django_own = {"manage.py"}  # named to say what the console script stands for
    for line in text.splitlines():
        row = re.match(r"\| `(\w+)`(?: \(not an app\))? \|(.*)\|\s*$", line)
        for name in re.findall(r"`([\w/]+\.py)`", line):
            places = [ROOT / name, ROOT.parent / name, *[(ROOT / a / name) for a in APPS]]
            if row:
                places.insert(0, ROOT / row.group(1) / name)
            if "/" not in name:  # a bare name may sit in a package of an app (sampling/ingest/)
                places += [p for p in ROOT.rglob(name) if "tests" not in p.parts]
            if name not in django_own and not any(p.exists() for p in places):
                missing.append(f"{name} ({row.group(1) if row else 'text'})")
    assert missing == []
