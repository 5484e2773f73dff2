"""injectq's generated container: ``injectq_codegen.build.generate`` compiles
``iq_cases.CaseModule`` into a ``_wiring.py`` in a temporary package, which is imported.
Two rows: ``container.get(X)`` and the generated accessor functions ``provide_x()``."""

from __future__ import annotations

import atexit
import importlib
import re
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

import model as m
from harness import KeyedCases, NotSupported, Op

ROWS = {"injectq-gen container.get": "get", "injectq-gen provide_x()": "provide"}


def version() -> str:
    import injectq
    return injectq.__version__


def snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()


def build_wiring(target: str, package: str) -> Any:
    """Generate the wiring of ``target`` into a fresh temporary package and import it."""
    from injectq_codegen.build import generate

    tmp = Path(tempfile.mkdtemp(prefix="iqbench_"))
    atexit.register(shutil.rmtree, tmp, True)
    (tmp / package).mkdir()
    (tmp / package / "__init__.py").write_text("")
    source, _ = generate([target])
    (tmp / package / "_wiring.py").write_text(source)
    sys.path.insert(0, str(tmp))
    return importlib.import_module(f"{package}._wiring")


class Generated(KeyedCases):
    def __init__(self, variant: str) -> None:
        self.provide = variant == "provide"
        self.w = build_wiring("iq_cases:CaseModule", "iqbench_cases")
        self.ct = self.w.container

    def _fn(self, cls: type, prefix: str = "provide_") -> Any:
        name = prefix + snake(cls.__name__)
        fn = getattr(self.w, name, None)
        if fn is None:
            raise NotSupported(f"the generated module has no {name}()")
        return fn

    def _get(self, cls: type) -> Op:
        if self.provide:
            return Op("provide()", {"provide": self._fn(cls)})
        return Op("get(K)", {"get": self.ct.get, "K": cls})

    def d(self) -> Op:
        scope, get, handler = self.ct.scope, self.ct.get, m.Handler
        if self.provide:
            provide = self._fn(m.Handler)

            def request() -> Any:
                with scope():
                    return provide()
        else:
            def request() -> Any:
                with scope():
                    return get(handler)
        return Op("request()", {"request": request})

    def e(self) -> Op:
        if self.provide:
            return Op("await aprovide()", {"aprovide": self._fn(m.EC, "aprovide_")},
                      is_async=True)
        return Op("await aget(EC)", {"aget": self.ct.aget, "EC": m.EC}, is_async=True)

    def f(self) -> Op:
        if self.provide:  # the accessors called by hand at the call site
            return Op("target(p1(), p2(), ps())", {
                "target": m.target, "p1": self._fn(m.F1), "p2": self._fn(m.F2),
                "ps": self._fn(m.FS)})
        from injectq import inject
        return Op("handler()", {"handler": inject(container=self.ct)(m.target)})

    def startup(self, g: Any) -> dict[int, Any]:
        """The wiring was built beforehand by ``injectq-gen build`` (timed apart): this is
        the import of the generated module plus the first resolve of every node."""
        wiring = importlib.import_module(g.__name__ + "_wiring")
        c = wiring.container
        with c.scope():
            return {i: c.get(cls) for i, cls in enumerate(g.CLASSES)}


def make(variant: str) -> Generated:
    return Generated(variant)
