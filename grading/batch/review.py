"""Static review of answer cells: risky constructs an instructor should look at (not penalised)."""

from __future__ import annotations

import ast

from grading.isolation.integrity import PROTECTED_PACKAGES

RISKY_CALLS = {
    "os._exit": "os._exit",
    "os.kill": "os.kill",
    "sys.exit": "sys.exit",
    "setattr": "setattr",
    "exec": "exec/eval",
    "eval": "exec/eval",
    "__import__": "__import__",
    "get_ipython": "get_ipython",
    "open": "open()",
    "sys.settrace": "settrace",
    "sys.setprofile": "settrace",
    "signal.signal": "signal handler",
}
RISKY_IMPORTS = {
    "ctypes",
    "gc",
    "builtins",
    "inspect",
    "signal",
    "subprocess",
    "shutil",
    "threading",
    "multiprocessing",
    "importlib",
    "pathlib",
    "IPython",
    "ipykernel",
    "nbgrader",
}


def review_flags(source: str) -> list[str]:
    """Risky constructs in a student cell, for the instructor to review (not penalised).

    Flags assignments to attributes of anything but ``self`` or ``cls`` (monkeypatching),
    redefinitions of test names, and calls/imports that can reach outside the answer.
    """
    try:
        return _flags(ast.parse(source))
    except SyntaxError:
        return ["syntax error"]
    except (RecursionError, MemoryError):  # Python's parser on code nested too deep: not an error of ours
        return ["nested too deeply to review"]


def _flags(tree: ast.AST) -> list[str]:
    flags: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            if node.name.startswith("test"):
                flags.add(f"defines {node.name}")
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store) and node.id.startswith("test"):
            flags.add(f"defines {node.id}")
        if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Delete)):
            targets = node.targets if isinstance(node, (ast.Assign, ast.Delete)) else [node.target]
            for target in targets:
                if isinstance(target, ast.Attribute):
                    base = target.value
                    while isinstance(base, ast.Attribute):
                        base = base.value
                    if not (isinstance(base, ast.Name) and base.id in ("self", "cls")):
                        flags.add(f"assigns {ast.unparse(target)}")
        if isinstance(node, ast.Call):
            name = ast.unparse(node.func)
            if name in RISKY_CALLS:
                flags.add(RISKY_CALLS[name])
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            mods = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            for mod in mods:
                top = mod.split(".")[0]
                if top in RISKY_IMPORTS or mod in ("os", "sys"):
                    flags.add(f"imports {mod}")
                if top in PROTECTED_PACKAGES:
                    flags.add(f"imports {mod}")
    return sorted(flags)
