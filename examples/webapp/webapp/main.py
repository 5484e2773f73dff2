"""The todo API: ``uvicorn webapp.main:app`` (from examples/webapp).

Uses the generated wiring (``webapp/_wiring.py``, built by ``injectq-gen build``) when it
exists, the runtime container on the same ``WebAppModule`` otherwise, or when the
environment says ``WEBAPP_CONTAINER=runtime``. Every HTTP request and every WebSocket
connection gets its own request scope, so its own ``UnitOfWork``.
"""

from __future__ import annotations

import os
from typing import Any

from fastapi import FastAPI, HTTPException, WebSocket, WebSocketDisconnect
from pydantic import BaseModel

from injectq import InjectQ, load_container
from injectq.integrations.fastapi import Injected, setup_fastapi
from injectq.wiring import GeneratedContainer
from webapp.services import Database, InvalidTitleError, Todo, TodoService, UnitOfWork

Container = InjectQ | GeneratedContainer


class NewTodo(BaseModel):
    title: str


def todo_json(todo: Todo, unit: UnitOfWork) -> dict[str, Any]:
    return {"id": todo.id, "title": todo.title, "done": todo.done, "unit": unit.number}


def make_container(runtime: bool = False) -> tuple[Container, str]:
    """The generated container when present (and not ``runtime``), else the runtime one."""
    from webapp.modules import WebAppModule

    container = load_container("webapp._wiring", lambda: [WebAppModule()], runtime=runtime)
    return container, "generated" if isinstance(container, GeneratedContainer) else "runtime"


def create_app(container: Container, label: str = "") -> FastAPI:
    app = FastAPI(title="injectq todo example")
    setup_fastapi(container, app)  # a request scope per request / WebSocket connection
    app.state.container_label = label

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok", "container": label}

    @app.post("/todos", status_code=201)
    def add_todo(body: NewTodo, service: Injected[TodoService]) -> dict[str, Any]:
        try:
            todo = service.add(body.title)
        except InvalidTitleError as exc:
            raise HTTPException(status_code=422, detail=str(exc)) from exc
        return todo_json(todo, service.unit)

    @app.get("/todos")
    def list_todos(service: Injected[TodoService]) -> dict[str, Any]:
        return {"unit": service.unit.number,
                "repository_shares_unit": service.repo.unit is service.unit,
                "todos": [todo_json(t, service.unit) for t in service.list()]}

    @app.post("/todos/{todo_id}/done")
    def complete_todo(todo_id: int, service: Injected[TodoService]) -> dict[str, Any]:
        todo = service.complete(todo_id)
        if todo is None:
            raise HTTPException(status_code=404, detail=f"no todo {todo_id}")
        return todo_json(todo, service.unit)

    @app.post("/todos/fail")
    def add_then_fail(body: NewTodo, service: Injected[TodoService]) -> None:
        service.add_then_fail(body.title)  # raises: the scope still closes, rolling back

    @app.get("/stats")
    async def stats(db: Injected[Database]) -> dict[str, int]:
        return db.stats.as_dict()

    @app.websocket("/ws")
    async def todo_socket(websocket: WebSocket, service: Injected[TodoService]) -> None:
        """{"add": title} -> the todo; {"list": true} -> all todos. One unit of work for
        the whole connection (its request scope), each add committed on its own."""
        await websocket.accept()
        try:
            while True:
                message = await websocket.receive_json()
                if "add" in message:
                    try:
                        reply = todo_json(service.add(str(message["add"])), service.unit)
                    except InvalidTitleError as exc:
                        reply = {"error": str(exc)}
                elif message.get("list"):
                    reply = {"unit": service.unit.number,
                             "todos": [todo_json(t, service.unit) for t in service.list()]}
                else:
                    reply = {"error": "send {\"add\": title} or {\"list\": true}"}
                await websocket.send_json(reply)
        except WebSocketDisconnect:
            return

    return app


def _app_from_environment() -> FastAPI:
    container, label = make_container(os.environ.get("WEBAPP_CONTAINER") == "runtime")
    return create_app(container, label)


app = _app_from_environment()
