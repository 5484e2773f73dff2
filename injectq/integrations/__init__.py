"""Integrations with web frameworks and task queues; each one's framework is optional.

``injectq.integrations.fastapi`` needs ``pip install 'injectq[fastapi]'``;
``injectq.integrations.taskiq`` needs ``pip install 'injectq[taskiq]'``;
``injectq.integrations.fastmcp`` needs ``pip install 'injectq[fastmcp]'``;
``injectq.integrations.flask`` needs ``pip install 'injectq[flask]'``;
``injectq.integrations.aiohttp`` needs ``pip install 'injectq[aiohttp]'``;
``injectq.integrations.starlette`` needs ``pip install 'injectq[starlette]'``;
``injectq.integrations.litestar`` needs ``pip install 'injectq[litestar]'``;
``injectq.integrations.click`` needs ``pip install 'injectq[click]'``;
``injectq.integrations.typer`` needs ``pip install 'injectq[typer]'``;
``injectq.integrations.django`` needs ``pip install 'injectq[django]'``;
``injectq.integrations.celery`` needs ``pip install 'injectq[celery]'``. Importing this
package imports no framework: the names below load their module on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from injectq.integrations.aiohttp import (
        CONTAINER_KEY,
        aget_aiohttp,
        get_container_aiohttp,
        inject_aiohttp,
        setup_aiohttp,
    )
    from injectq.integrations.celery import (
        get_container_celery,
        inject_celery,
        setup_celery,
    )
    from injectq.integrations.click import inject_click, setup_click
    from injectq.integrations.django import (
        InjectQMiddleware,
        get_container_django,
        get_django,
        inject_command,
        inject_django,
        setup_django,
    )
    from injectq.integrations.fastapi import (
        InjectAPI,
        Injected,
        InjectFastAPI,
        InjectQRequestMiddleware,
        get_container_fastapi,
        setup_fastapi,
    )
    from injectq.integrations.fastmcp import (
        InjectMCP,
        InjectQMCPMiddleware,
        get_container_mcp,
        setup_mcp,
    )
    from injectq.integrations.flask import (
        get_container_flask,
        get_flask,
        inject_flask,
        setup_flask,
    )
    from injectq.integrations.litestar import (
        InjectLitestar,
        InjectQLitestarMiddleware,
        InjectQPlugin,
        get_container_litestar,
    )
    from injectq.integrations.starlette import (
        InjectQStarletteMiddleware,
        InjectStarlette,
        get_container_starlette,
        inject_starlette,
        setup_starlette,
    )
    from injectq.integrations.taskiq import (
        InjectQTaskMiddleware,
        InjectTask,
        InjectTaskiq,
        get_injector_instance_taskiq,
        setup_taskiq,
    )
    from injectq.integrations.typer import InjectTyper, inject_typer, setup_typer

__all__ = [
    "InjectAPI",
    "InjectFastAPI",
    "InjectQRequestMiddleware",
    "Injected",
    "setup_fastapi",
    "get_container_fastapi",
    "InjectTask",
    "InjectTaskiq",
    "InjectQTaskMiddleware",
    "setup_taskiq",
    "get_injector_instance_taskiq",
    "InjectMCP",
    "InjectQMCPMiddleware",
    "get_container_mcp",
    "setup_mcp",
    "get_container_flask",
    "get_flask",
    "inject_flask",
    "setup_flask",
    "CONTAINER_KEY",
    "aget_aiohttp",
    "get_container_aiohttp",
    "inject_aiohttp",
    "setup_aiohttp",
    "InjectQStarletteMiddleware",
    "InjectStarlette",
    "get_container_starlette",
    "inject_starlette",
    "setup_starlette",
    "InjectLitestar",
    "InjectQLitestarMiddleware",
    "InjectQPlugin",
    "get_container_litestar",
    "inject_click",
    "setup_click",
    "InjectTyper",
    "inject_typer",
    "setup_typer",
    "InjectQMiddleware",
    "get_container_django",
    "get_django",
    "inject_command",
    "inject_django",
    "setup_django",
    "get_container_celery",
    "inject_celery",
    "setup_celery",
]

_WHERE = {
    "InjectAPI": "fastapi",
    "InjectFastAPI": "fastapi",
    "InjectQRequestMiddleware": "fastapi",
    "Injected": "fastapi",
    "setup_fastapi": "fastapi",
    "get_container_fastapi": "fastapi",
    "InjectTask": "taskiq",
    "InjectTaskiq": "taskiq",
    "InjectQTaskMiddleware": "taskiq",
    "setup_taskiq": "taskiq",
    "get_injector_instance_taskiq": "taskiq",
    "InjectMCP": "fastmcp",
    "InjectQMCPMiddleware": "fastmcp",
    "get_container_mcp": "fastmcp",
    "setup_mcp": "fastmcp",
    "get_container_flask": "flask",
    "get_flask": "flask",
    "inject_flask": "flask",
    "setup_flask": "flask",
    "CONTAINER_KEY": "aiohttp",
    "aget_aiohttp": "aiohttp",
    "get_container_aiohttp": "aiohttp",
    "inject_aiohttp": "aiohttp",
    "setup_aiohttp": "aiohttp",
    "InjectQStarletteMiddleware": "starlette",
    "InjectStarlette": "starlette",
    "get_container_starlette": "starlette",
    "inject_starlette": "starlette",
    "setup_starlette": "starlette",
    "InjectLitestar": "litestar",
    "InjectQLitestarMiddleware": "litestar",
    "InjectQPlugin": "litestar",
    "get_container_litestar": "litestar",
    "inject_click": "click",
    "setup_click": "click",
    "InjectTyper": "typer",
    "inject_typer": "typer",
    "setup_typer": "typer",
    "InjectQMiddleware": "django",
    "get_container_django": "django",
    "get_django": "django",
    "inject_command": "django",
    "inject_django": "django",
    "setup_django": "django",
    "get_container_celery": "celery",
    "inject_celery": "celery",
    "setup_celery": "celery",
}


if not TYPE_CHECKING:

    def __getattr__(name: str) -> Any:
        where = _WHERE.get(name)
        if where is None:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        return getattr(importlib.import_module(f"{__name__}.{where}"), name)
