"""Taskiq: one scope per executed task.

``setup_taskiq(container, broker)`` attaches the container to ``broker.state`` (as
InjectQ 0.5.0 did) and adds a broker middleware that, for every task the worker executes,
opens the container's ``request`` scope before the task's dependencies are resolved and
closes it, finalizing its resources, after the task returns or raises and before its
result is stored. Inside a task, the container is current (``@inject`` resolves from it).
Tasks ask for dependencies with ``svc: Annotated[Service, InjectTaskiq(Service)]`` or
``svc: Service = InjectTaskiq(Service)`` (``InjectTask`` is the same function).

Works with the runtime ``InjectQ`` and a generated container alike. Needs taskiq:
``pip install 'injectq[taskiq]'``.
"""

from __future__ import annotations

import contextvars
from typing import Annotated, Any, TypeVar, overload

try:
    from taskiq import Context, TaskiqDepends, TaskiqMessage, TaskiqMiddleware, TaskiqResult
except ImportError as exc:  # pragma: no cover - depends on what is installed
    raise ImportError(
        "injectq.integrations.taskiq needs taskiq: pip install 'injectq[taskiq]' "
        "(or pip install taskiq)"
    ) from exc

from injectq.errors import InjectionError
from injectq.model.arguments import check_marker
from injectq.model.markers import ClassKey
from injectq.runtime.interface import set_current
from injectq.runtime.scopes import ScopeState

__all__ = [
    "InjectQTaskMiddleware",
    "InjectTask",
    "InjectTaskiq",
    "get_injector_instance_taskiq",
    "setup_taskiq",
]

T = TypeVar("T")

STATE_ATTRIBUTE = "injectq_container"

# what the middleware opened for the task running in this context
_task_scope: contextvars.ContextVar[tuple[ScopeState, contextvars.Token[Any]] | None] = (
    contextvars.ContextVar("injectq_taskiq_scope", default=None)
)


def get_injector_instance_taskiq(state: Any) -> Any:
    """The container attached to a broker's ``state`` by ``setup_taskiq``."""
    container = getattr(state, STATE_ATTRIBUTE, None)
    if container is None:
        raise InjectionError(
            "no InjectQ container is attached to this broker: call "
            "setup_taskiq(container, broker) before the worker starts"
        )
    return container


@overload
def InjectTaskiq(service_type: ClassKey[T], name: str | None = None) -> T: ...
@overload
def InjectTaskiq(service_type: Any, name: str | None = None) -> Any: ...


def InjectTaskiq(service_type: Any, name: str | None = None) -> Any:
    """A taskiq dependency resolving ``service_type`` in the running task's scope.

    ``svc: Annotated[Service, InjectTaskiq(Service)]`` or ``svc: Service =
    InjectTaskiq(Service)``; ``name=`` picks a named binding. Async bindings work too.
    """
    check_marker("InjectTaskiq()", service_type, name)  # told where the task is declared

    async def resolve(context: Context = TaskiqDepends()) -> Any:  # noqa: B008
        container = get_injector_instance_taskiq(context.state)
        if _task_scope.get() is None:
            raise InjectionError(
                f"task {context.message.task_name!r} runs without an InjectQ task scope: "
                "call setup_taskiq(container, broker) on the broker the worker runs"
            )
        return await container.aget(service_type, name)

    # taskiq-dependencies reads these annotations; give it objects, not strings
    resolve.__annotations__ = {"context": Annotated[Context, TaskiqDepends()], "return": Any}
    return TaskiqDepends(resolve)


InjectTask = InjectTaskiq  # the InjectQ 0.5.0 alias


class InjectQTaskMiddleware(TaskiqMiddleware):
    """Opens a scope per executed task, closes it when the task is done."""

    def __init__(
        self, container: Any, scope_name: str = "request", close_on_shutdown: bool = False
    ) -> None:
        super().__init__()
        self.container = container
        self.scope_name = scope_name
        self.close_on_shutdown = close_on_shutdown

    async def pre_execute(self, message: TaskiqMessage) -> TaskiqMessage:
        # runs in the task's own context, just before its dependencies are resolved
        scope = self.container.scope(self.scope_name)
        await scope.__aenter__()
        _task_scope.set((scope, set_current(self.container)))
        return message

    async def post_execute(self, message: TaskiqMessage, result: TaskiqResult[Any]) -> None:
        opened = _task_scope.get()
        if opened is None:
            return
        scope, current = opened
        _task_scope.set(None)
        current.var.reset(current)
        await scope.__aexit__(None, None, None)

    async def shutdown(self) -> None:
        if self.close_on_shutdown:
            await self.container.aclose()


def setup_taskiq(
    container: Any,
    broker: Any,
    *,
    scope_name: str = "request",
    close_on_shutdown: bool = False,
) -> None:
    """Serve ``broker``'s tasks from ``container`` (``InjectQ`` or a generated container).

    Every executed task runs inside its own ``container.scope(scope_name)``; with
    ``close_on_shutdown`` the container is closed when the broker shuts down.
    """
    with container.scope(scope_name):  # an unknown scope name fails here
        pass
    setattr(broker.state, STATE_ATTRIBUTE, container)
    broker.add_middlewares(
        InjectQTaskMiddleware(container, scope_name, close_on_shutdown=close_on_shutdown)
    )
