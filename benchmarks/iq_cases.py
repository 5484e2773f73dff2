"""The injectq Module of cases a to f, written as the seed's performance guide recommends
(one Module class, a lifetime on every binding). The runtime adapter installs it and the
generated adapter compiles it with injectq-gen, so both containers wire the same graph."""

from __future__ import annotations

import model as m

from injectq import Module


class CaseModule(Module):
    def configure(self) -> None:
        self.bind(m.S).singleton()
        for cls in (m.A, m.B, m.C, *m.CHAIN10, *m.WIDE_TRANSIENT, m.Wide, m.Handler):
            self.bind(cls).transient()
        for cls in m.WIDE_SINGLETON:
            self.bind(cls).singleton()
        self.bind(m.Config).singleton()
        for cls in m.SCOPED:
            self.bind(cls).scoped()
        self.bind_factory(m.EA, m.make_ea).transient()
        self.bind(m.EB).transient()
        self.bind(m.EC).transient()
        self.bind(m.F1).transient()
        self.bind(m.F2).transient()
        self.bind(m.FS).singleton()
