"""The kernel-side guard against tampering: imported by the student's kernel, never by the grader.

:class:`grading.extensions.guardedexecute.GuardedExecute` installs it in a hidden cell before the first
cell runs (``course_guard.install(preload, walk)``) and then calls its functions through
``user_expressions`` with a fresh nonce:

- ``before_solution``/``after_solution`` around each answer cell record what the cell
  changed in loaded modules and classes, IPython's hooks, the sys streams and the kernel
  objects, with the values from before it;
- ``before_readonly``/``after_readonly`` around read-only cells record the names they
  bind (``test_my_softmax`` ...);
- ``before_test`` undoes all of that, so an answer cell cannot make a test pass by
  rebinding a test name or patching ``numpy.allclose``.

The functions live in a plain module object registered as ``sys.modules["_course_guard"]``.
It is a help for honest answers, not a defence: code in the kernel can switch it off (replace
its functions, which are handed the nonce; reach its state through their closures; swap
modules in ``sys.modules``), and no verdict depends on it (docs/security.md). What an answer
cell leaves behind cannot make it stop recording, and a call it does not answer is noted.

This file is copied into each submission's private package folder as ``course_guard.py``
(a sandboxed kernel cannot see the grader's installation); it imports only the standard
library and IPython.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
import types
from collections.abc import Iterable
from typing import Any

from IPython import get_ipython

MODULE_NAME = "_course_guard"


def settle_lazy_state() -> None:
    """Create now what the kernel's own libraries create lazily in a module global, so that
    the first answer cell that triggers it is not reported (and undone) as tampering.

    pyzmq's zero-copy send sets ``zmq.backend.cython._zmq._gc`` on the first large message
    (a flood of output, a big figure): the same object is set here, as pyzmq would.
    """
    zmq_backend: Any = sys.modules.get("zmq.backend.cython._zmq")  # a compiled module: its globals are not typed
    if zmq_backend is not None and getattr(zmq_backend, "_gc", False) is None:
        try:
            from zmq.utils.garbage import gc
        except ImportError:
            return
        zmq_backend._gc = gc


def _import_submodules(mod: types.ModuleType, skip: frozenset[str]) -> None:
    """Import every submodule of package ``mod``, depth first, but those named in ``skip``
    (and theirs); a submodule that fails to import is passed over."""
    for info in pkgutil.iter_modules(getattr(mod, "__path__", None) or [], mod.__name__ + "."):
        if info.name in skip:
            continue
        try:
            sub = importlib.import_module(info.name)
        except (Exception, SystemExit):
            continue
        if info.ispkg:
            _import_submodules(sub, skip)


def install(preload: Iterable[str] = (), walk: Iterable[str] = (), skip: Iterable[str] = ()) -> types.ModuleType:
    """Install the guard in the running IPython shell; return its function holder.

    ``preload`` modules are imported first (their attributes are then protected), and every
    submodule of the ``walk`` packages too (the course packages the tests use), but the
    ``skip`` modules (course code no test imports).
    """
    walk = list(walk)
    FUNC = (
        types.FunctionType,
        types.MethodType,
        types.BuiltinFunctionType,
        types.BuiltinMethodType,
        staticmethod,
        classmethod,
        property,
    )
    MISSING = object()
    ip = get_ipython()
    if ip is None:
        raise RuntimeError("the grading guard runs inside an IPython kernel")
    # rebound by IPython/ipykernel around every execution: never the student's doing
    VOLATILE = {("builtins", k) for k in ("input", "_", "__", "___", "get_ipython", "exit", "quit", "display")} | {
        ("getpass", "getpass"),
        ("time", "tzname"),
    }
    HOOK_LISTS = ("input_transformers_cleanup", "input_transformers_post", "ast_transformers")
    g = types.ModuleType("_course_guard")
    protected: dict[str, Any] = {}  # name -> value a read-only cell bound
    before: dict[str, int] = {}  # name -> id() of its value before a read-only cell
    window: dict[str, Any] = {}  # snapshot() taken before the current answer cell
    changes: list[tuple[str, Any, Any, Any, str]] = []  # (kind, target, key, original, label)

    def snapshot():
        mods, classes = {}, {}
        for name, mod in list(sys.modules.items()):
            # by the key, not mod.__name__ (red team: numpy renamed __main__ went unrecorded);
            # anything in sys.modules may be planted there: contained
            if mod is None or name in ("sys", "__main__", "__mp_main__"):
                continue
            try:
                d = vars(mod)
                if d is ip.user_ns:
                    continue
                mods[name] = (d, dict(d))
            except Exception:  # not a plain module
                continue
            for value in list(d.values()):
                # type(), not isinstance(): a value's __class__ can raise (red team: that made
                # every later snapshot fail, and the guard fail open)
                if not issubclass(type(value), type):
                    continue
                try:
                    if getattr(value, "__module__", None) == name:
                        classes[id(value)] = (value, dict(vars(value)))
                except Exception:  # a metaclass's own attributes can raise too
                    pass
        kernel = getattr(ip, "kernel", None)
        # the kernel's message handler tables: replacing an entry rewires every later request
        for table in ("shell_handlers", "control_handlers"):
            d = getattr(kernel, table, None)
            if isinstance(d, dict):
                mods["kernel." + table] = (d, dict(d))
        # the objects that send the kernel's replies: patching them forges results
        senders = [
            kernel,
            getattr(kernel, "session", None),
            getattr(ip, "displayhook", None),
            getattr(getattr(ip, "displayhook", None), "session", None),
        ]
        instances, seen = [], set()
        for obj in [ip, *senders]:
            if obj is not None and id(obj) not in seen and hasattr(obj, "__dict__"):
                seen.add(id(obj))
                instances.append((obj, dict(vars(obj))))
        return {
            "mods": mods,
            "classes": classes,
            "lists": {k: list(getattr(ip, k)) for k in HOOK_LISTS},
            "custom": (ip.custom_exceptions, ip.CustomTB),
            "events": {k: list(v) for k, v in ip.events.callbacks.items()},
            "streams": (sys.stdout, sys.stderr, sys.displayhook),
            "instances": instances,
        }

    def before_solution(nonce):
        window.clear()
        window.update(snapshot())
        return "GUARD-OK " + nonce

    def after_solution(nonce):
        # record what the student's cell changed, with the values from before it
        if not window:
            return "GUARD-OK " + nonce
        for name, (d, saved) in window["mods"].items():
            for k, v in saved.items():
                if (name, k) not in VOLATILE and d.get(k, MISSING) is not v:
                    changes.append(("dict", d, k, v, name + "." + k))
        for cls, saved in window["classes"].values():
            cur = vars(cls)
            for k, v in saved.items():
                if cur.get(k, MISSING) is not v:
                    changes.append(("cls", cls, k, v, cls.__name__ + "." + k))
            for k in cur:
                if k not in saved and isinstance(cur[k], FUNC):
                    changes.append(("cls", cls, k, MISSING, cls.__name__ + "." + k))
        for k, v in window["lists"].items():
            for item in getattr(ip, k):
                if not any(item is old for old in v):
                    changes.append(("list", getattr(ip, k), item, None, "IPython " + k))
        if (ip.custom_exceptions, ip.CustomTB) != window["custom"]:
            changes.append(("custom", None, None, window["custom"], "IPython custom exception handler"))
        for k, cbs in ip.events.callbacks.items():
            for cb in cbs:
                if cb not in window["events"].get(k, []):
                    changes.append(("list", cbs, cb, None, "IPython event " + k))
        if (sys.stdout, sys.stderr, sys.displayhook) != window["streams"]:
            changes.append(("streams", None, None, window["streams"], "sys streams"))
        for obj, saved in window["instances"]:
            cur = vars(obj)
            for k in list(cur):
                if (k not in saved and isinstance(cur[k], FUNC)) or (
                    k in saved and isinstance(saved[k], FUNC) and cur[k] is not saved[k]
                ):
                    changes.append(("dict", cur, k, saved.get(k, MISSING), type(obj).__name__ + "." + k))
        window.clear()
        return "GUARD-OK " + nonce

    def restore(undone):
        for kind, target, key, orig, label in changes:
            if kind == "dict":
                if orig is MISSING:
                    if key in target:
                        del target[key]
                        undone.append(label)
                elif target.get(key, MISSING) is not orig:
                    target[key] = orig
                    undone.append(label)
            elif kind == "cls":
                cur = vars(target).get(key, MISSING)
                try:
                    if orig is MISSING and cur is not MISSING:
                        delattr(target, key)
                        undone.append(label)
                    elif orig is not MISSING and cur is not orig:
                        setattr(target, key, orig)
                        undone.append(label)
                except (AttributeError, TypeError):
                    pass
            elif kind == "list":
                while any(x is key for x in target):
                    target.remove(key)
                    undone.append(label)
            elif kind == "custom":
                if (ip.custom_exceptions, ip.CustomTB) != orig:
                    ip.custom_exceptions, ip.CustomTB = orig
                    undone.append(label)
            elif kind == "streams":
                if (sys.stdout, sys.stderr, sys.displayhook) != orig:
                    sys.stdout, sys.stderr, sys.displayhook = orig
                    undone.append(label)
        if sys.gettrace() is not None or sys.getprofile() is not None:
            sys.settrace(None)
            sys.setprofile(None)
            undone.append("trace/profile hook")
        ns = ip.user_ns
        for k, v in protected.items():
            if ns.get(k, MISSING) is not v:
                ns[k] = v
                # every name is restored; only rebinding code (a test, a helper, a module)
                # is reported: an answer that reuses a loop variable of a read-only cell is
                # honest work
                if callable(v) or isinstance(v, types.ModuleType):
                    undone.append(k)

    def before_readonly(nonce):
        before.clear()
        before.update({k: id(v) for k, v in ip.user_ns.items()})
        return "GUARD-OK " + nonce

    def after_readonly(nonce):
        for k, v in ip.user_ns.items():
            if k.startswith("_") or k in ("In", "Out", "get_ipython", "exit", "quit"):
                continue
            if before.get(k) != id(v):
                protected[k] = v
        return "GUARD-OK " + nonce

    def before_test(nonce):
        undone = []
        restore(undone)
        out = "GUARD-OK " + nonce
        if undone:
            out += " GUARD-UNDONE: " + ", ".join(sorted(set(undone)))
        return out

    for name in list(preload) + list(walk):
        try:
            mod = importlib.import_module(name)
        except (Exception, SystemExit):
            continue
        if name in walk:
            _import_submodules(mod, frozenset(skip))
    settle_lazy_state()
    for fn in (before_readonly, after_readonly, before_solution, after_solution, before_test):
        setattr(g, fn.__name__, fn)
    sys.modules[MODULE_NAME] = g
    return g
