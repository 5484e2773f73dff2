"""Write docs/compat.md: InjectQ 0.5.0's public API, name by name, and what injectq does.

The page is made from three lists below, checked against this checkout when it is made:

* ``NAMES``: every public name of 0.5.0 (its modules' ``__all__``, and the integration
  modules' public functions), by the path it is imported from. Each is imported from the
  same path here; the kind of object found is written beside it. A name that does not
  import is an error unless ``NOT_PROVIDED`` gives the reason.
* ``BEHAVIOUR``: what 0.5.0's documentation says a feature does, what injectq does, and
  the test that holds it (``tests/FILE.py::test_name``, which must exist).
* ``DIFFERENCES``: where 0.5.0 is wrong and injectq is not, with the reason, and the test.

    python docs/gen_compat.py            # rewrite docs/compat.md
    python docs/gen_compat.py --stdout   # print the page instead (tests/test_compat_table.py)
"""

from __future__ import annotations

import importlib
import inspect
import re
import sys
import typing
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "docs" / "compat.md"

# -- 0.5.0's public names, by import path ------------------------------------------------------
NAMES: dict[str, tuple[str, ...]] = {
    "injectq": (
        "InjectQ", "ContainerContext", "ScopeType", "Scope", "Module", "SimpleModule",
        "ProviderModule", "ConfigurationModule", "provider", "inject", "Inject", "singleton",
        "transient", "scoped", "register_as", "resource", "managed_resource",
        "async_managed_resource", "get_resource_manager", "InjectQError",
        "DependencyNotFoundError", "CircularDependencyError", "BindingError", "InjectionError",
        "ScopeError", "ServiceKey", "ServiceFactory", "Injectable", "Provider", "AsyncProvider",
        "Factory", "AsyncFactory", "ResourceProvider", "AsyncResourceProvider", "Resolvable",
        "ScopeAware", "Configurable", "Component", "ComponentBinding", "ComponentContainer",
        "ComponentError", "ComponentInterface", "ComponentRegistry", "ComponentScope",
        "ComponentState", "DependencyProfiler", "DependencyValidator", "DependencyVisualizer",
        "logger", "testing",
    ),
    "injectq.core": (
        "InjectQ", "ContainerContext", "ModuleBinder", "Scope", "ScopeType", "ServiceBinding",
        "ServiceRegistry", "DependencyResolver", "ScopeManager", "BaseScopeManager",
        "AsyncScope", "AsyncScopeManager", "HybridScope", "HybridLock", "ThreadSafeDict",
        "AsyncSafeCounter", "thread_safe", "get_scope_manager", "create_enhanced_scope_manager",
    ),
    "injectq.modules": (
        "Module", "SimpleModule", "ProviderModule", "ConfigurationModule", "provider",
    ),
    "injectq.decorators": (
        "inject", "Inject", "singleton", "transient", "scoped", "register_as", "resource",
        "managed_resource", "async_managed_resource", "get_resource_manager",
    ),
    "injectq.components": (
        "Component", "ComponentBinding", "ComponentContainer", "ComponentError",
        "ComponentInterface", "ComponentRegistry", "ComponentScope", "ComponentState",
    ),
    "injectq.diagnostics": ("DependencyProfiler", "DependencyValidator", "DependencyVisualizer"),
    "injectq.diagnostics.profiling": (
        "DependencyProfiler", "ResolutionMetrics", "AggregatedMetrics", "ProfilingError",
        "get_global_profiler", "profile_method", "profile_resolution",
    ),
    "injectq.diagnostics.validation": (
        "DependencyValidator", "ValidationResult", "ValidationError", "MissingDependencyError",
        "InvalidBindingError", "TypeMismatchError",
    ),
    "injectq.diagnostics.visualization": ("DependencyVisualizer", "VisualizationError"),
    "injectq.testing": (
        "test_container", "override_dependency", "mock_factory", "MockFactory", "TestModule",
        "create_test_module", "pytest_container_fixture",
    ),
    "injectq.utils": (
        "InjectQError", "DependencyNotFoundError", "CircularDependencyError", "BindingError",
        "InjectionError", "ScopeError", "AlreadyRegisteredError", "ServiceKey",
        "ServiceFactory", "ServiceInstance", "BindingDict", "Injectable", "Provider",
        "AsyncProvider", "Factory", "AsyncFactory", "ResourceProvider", "AsyncResourceProvider",
        "Resolvable", "ScopeAware", "Configurable", "InjectableFunction",
        "InjectableAsyncFunction", "InjectableCallable", "AnyProvider", "AnyFactory",
        "AnyResourceProvider", "logger", "ThreadLocalStorage", "format_type_name",
        "get_type_name", "get_function_dependencies", "get_class_constructor_dependencies",
        "is_concrete_type", "is_generic_type", "is_injectable_class", "is_injectable_function",
        "normalize_type", "safe_issubclass",
    ),
    "injectq.utils.exceptions": (
        "InjectQError", "DependencyNotFoundError", "CircularDependencyError", "BindingError",
        "InjectionError", "ScopeError", "AlreadyRegisteredError",
    ),
    "injectq.utils.helpers": (
        "get_function_dependencies", "get_class_constructor_dependencies",
        "is_injectable_function", "is_injectable_class", "ThreadLocalStorage",
        "safe_issubclass", "format_type_name",
    ),
    "injectq.utils.logging": ("logger",),
    "injectq.utils.protocols": (
        "Injectable", "Provider", "AsyncProvider", "Factory", "AsyncFactory",
        "ResourceProvider", "AsyncResourceProvider", "Resolvable", "Configurable",
        "ScopeAware", "InjectableFunction", "InjectableAsyncFunction", "InjectableCallable",
        "AnyProvider", "AnyFactory", "AnyResourceProvider",
    ),
    "injectq.utils.types": (
        "ServiceKey", "ServiceFactory", "ServiceInstance", "BindingDict", "is_generic_type",
        "get_type_name", "is_concrete_type", "normalize_type", "resolve_forward_ref",
        "format_type_name",
    ),
    "injectq.integrations": (
        "InjectAPI", "InjectFastAPI", "InjectQRequestMiddleware", "setup_fastapi",
        "InjectTask", "InjectTaskiq", "setup_taskiq", "InjectMCP", "InjectQMCPMiddleware",
        "setup_mcp",
    ),
    "injectq.integrations.fastapi": (
        "InjectFastAPI", "InjectAPI", "InjectQRequestMiddleware", "setup_fastapi",
        "get_container_fastapi",
    ),
    "injectq.integrations.taskiq": (
        "InjectTaskiq", "InjectTask", "setup_taskiq", "get_injector_instance_taskiq",
    ),
    "injectq.integrations.fastmcp": (
        "InjectMCP", "InjectQMCPMiddleware", "setup_mcp", "get_container_mcp",
    ),
}

# (path, name) -> why it is not here; every other name must import
NOT_PROVIDED: dict[tuple[str, str], str] = {}

# -- documented behaviour ----------------------------------------------------------------------
# (feature, what 0.5.0's documentation says, what injectq does, test)
BEHAVIOUR: tuple[tuple[str, str, str, str], ...] = (
    ("dict interface", "`container[Key] = value` binds, `container[Key]` resolves",
     "the same; `del container[Key]` unbinds", "test_container.py::test_bind_instance"),
    ("`bind` default lifetime", "a binding is a singleton unless told", "the same",
     "test_container.py::test_bind_default_scope_is_singleton"),
    ("`bind_factory`", "a factory's parameters are injected", "the same, sync, async, "
     "generator and async generator factories; a generator's code after `yield` runs when "
     "its owner closes",
     "test_compat_resources.py::test_singleton_resource_closes_with_its_container"),
    ("`get_factory` / `call_factory`", "the factory as bound / called with the caller's "
     "arguments only", "the same in both containers; arguments that do not fit are a "
     "`FactoryCallError` naming the parameter and the bind site",
     "test_compat_container.py::test_call_factory_passes_positional_and_keyword_arguments"),
    ("`aget_factory` / `acall_factory`", "the async counterparts", "the same; "
     "`call_factory` of an async factory says to use `acall_factory`",
     "test_compat_container.py::test_acall_factory_awaits_an_async_factory"),
    ("`container.factories`", "the registered factories by key", "a mapping; assigning "
     "binds a factory (read-only in a generated container)",
     "test_compat_container.py::test_factories_assignment_binds_a_factory"),
    ("`clear_scope` / `clear_all_scopes`", "drop a scope's instances",
     "the same, and what is dropped is finalized; async resources need `aclear_scope`",
     "test_compat_container.py::test_clear_scope_finalizes_and_drops_the_open_scope"),
    ("`allow_concrete`", "an instance bound under a base key is also bound under its class",
     "the same, never for builtin values; an explicit binding of the class wins",
     "test_compat_container.py::test_an_instance_is_bound_under_its_class_too"),
    ("`thread_safe`, `use_async_scopes`", "switch thread safety and async scopes",
     "accepted; both are always on (a container that is not thread safe would create a "
     "singleton twice under threads)",
     "test_compat_container.py::test_flags_are_accepted_and_change_nothing"),
    ("scopes", "`with container.scope(\"request\")`, `async with container.async_scope()`",
     "the same; a scope's instances and resources are dropped and finalized when it ends",
     "test_scopes.py::test_each_scope_gets_its_own_instance"),
    ("`@inject`, `Inject[T]`", "parameters filled from the container",
     "the same, resolved on each call from the container in use",
     "test_inject.py::test_inject_default_marker"),
    ("`@singleton`, `@transient`, `@scoped(\"request\")`, `@register_as`",
     "register a class as it is defined", "the same; a bare `@scoped` is request-scoped",
     "test_decorators.py::test_scoped_without_parentheses_is_request_scoped"),
    ("Modules", "`Module.configure(binder)`, `SimpleModule`, `ProviderModule` with "
     "`@provider`, `ConfigurationModule`", "the same, plus `configure(self)` with "
     "`self.bind(...)`", "test_module.py::test_binder_style"),
    ("`override`", "replace a key for a block", "the same, in this context only; what "
     "depends on it is rebuilt inside the block",
     "test_override.py::test_override_reaches_transitive_dependents"),
    ("`@resource`, resource manager", "lifecycle-managed resources",
     "the same on our finalizers: closed with their owner, newest first",
     "test_compat_resources.py::test_shutdown_all_closes_newest_first_and_every_one"),
    ("`managed_resource` / `async_managed_resource`", "context managers that clean up",
     "the same", "test_compat_resources.py::test_managed_resource_cleans_up_on_exit_and_on_error"),
    ("`DependencyValidator`", "reports missing bindings and cycles as a `ValidationResult`",
     "every problem of the graph checks, with codes, paths and bind sites",
     "test_compat_diagnostics.py::test_a_missing_binding_is_an_error_with_its_path_and_sites"),
    ("`DependencyVisualizer`", "DOT, JSON, text of the graph",
     "the same documents as `injectq-gen graph`, labels escaped; also mermaid",
     "test_compat_diagnostics.py::test_dot_shows_bindings_edges_lazy_and_unbound_keys"),
    ("`DependencyProfiler`", "times resolutions while it is active",
     "the same for `get`, `aget`, `[]` and `@inject`, with cache hits; nothing is wrapped "
     "when no profiler is active",
     "test_compat_diagnostics.py::test_the_profiler_counts_each_key_and_its_cache_hits"),
    ("components", "lifecycle states, interfaces provided and required, start in dependency "
     "order", "the same on the container's graph; stop in reverse, every problem reported "
     "before anything starts",
     "test_compat_components.py::test_start_in_dependency_order_and_stop_in_reverse"),
    ("`test_container`", "a fresh global container for a block",
     "the same; its resources are closed at the end",
     "test_compat_testing.py::test_test_container_is_a_fresh_global_container_for_the_block"),
    ("`override_dependency`", "replace a key in a test", "the same, on any container",
     "test_compat_testing.py::test_override_dependency_replaces_a_key_for_the_block"),
    ("`mock_factory`, `TestModule`", "doubles of services, a module of test bindings",
     "the same; doubles have the class's interface",
     "test_compat_testing.py::test_test_module_binds_mocks_and_values"),
    ("`pytest_container_fixture`", "a pytest fixture of a fresh container", "the same, "
     "also imported into a conftest.py",
     "test_compat_testing.py::test_pytest_container_fixture_gives_each_test_a_fresh_container"),
    ("FastAPI", "`setup_fastapi`, `InjectFastAPI(T)`", "the same, one scope per request",
     "test_fastapi.py::test_inject_forms_resolve_one_scoped_instance_per_request"),
    ("FastMCP", "`setup_mcp`, `InjectMCP(T)`", "the same, one scope per tool call, "
     "finalized when the call ends",
     "test_fastmcp.py::test_each_call_gets_its_own_scope_finalized_after_it"),
    ("`logger`", "the library's logger", "`logging.getLogger(\"injectq\")`, silent until "
     "configured", "test_compat_paths.py::test_logger_is_silent_until_configured"),
    ("exceptions", "`DependencyNotFoundError(key)`, `CircularDependencyError(chain)`",
     "the same constructors and attributes, rendered with our codes",
     "test_compat_errors.py::test_dependency_not_found_with_the_missing_key"),
)

# -- where 0.5.0 is wrong ----------------------------------------------------------------------
# (0.5.0, injectq and why, test)
DIFFERENCES: tuple[tuple[str, str, str], ...] = (
    ("a bare `@scoped` registered nothing", "it registers the class in the request scope, "
     "as 0.5.0's documentation uses it",
     "test_decorators.py::test_scoped_without_parentheses_is_request_scoped"),
    ("a request-scoped service resolved with no scope open was cached for the process",
     "`ScopeError` naming the scope to open (and the path it was reached by)",
     "test_scopes.py::test_scoped_without_open_scope_raises_scope_error"),
    ("`validate()` passed on a missing binding (a factory's parameter, a chain deeper than "
     "one level)", "`validate()` raises `GraphValidationError` listing every problem",
     "test_compat_diagnostics.py::test_a_factorys_missing_dependency_is_an_error"),
    ("`call_factory` of an async factory returned an unawaited coroutine",
     "it refuses and says to use `acall_factory`",
     "test_compat_container.py::test_call_factory_refuses_an_async_factory"),
    ("clearing a scope finalized nothing", "what is dropped is finalized",
     "test_compat_container.py::test_clear_scope_finalizes_and_drops_the_open_scope"),
    ("`allow_concrete` bound builtin types (a `\"port\"` value bound `int`)",
     "only your own classes",
     "test_compat_container.py::test_a_builtin_value_does_not_bind_its_type"),
    ("the validator stopped at the first cycle and could crash with `ValueError`",
     "every cycle is reported; a `Lazy` edge breaks one",
     "test_compat_diagnostics.py::test_every_cycle_is_an_error_and_a_lazy_edge_breaks_one"),
    ("the profiler recorded nothing (the container never reported resolutions)",
     "every lookup while a profiler is active is recorded",
     "test_compat_diagnostics.py::test_nothing_is_recorded_outside_a_session"),
    ("visualizer labels were not escaped (a `\"` in a key broke the DOT file)",
     "labels are escaped for each format",
     "test_compat_diagnostics.py::test_labels_are_escaped_for_each_format"),
    ("component start order was recursive and matched interfaces by `__name__`",
     "an iterative order over the graph, interfaces kept apart",
     "test_compat_components.py::test_interfaces_with_the_same_name_are_kept_apart"),
    ("a failing component start left the started ones running",
     "what that call started is stopped again, newest first",
     "test_compat_components.py::test_a_failing_start_stops_again_what_this_call_started"),
    ("a failing component stop stopped the rest from stopping",
     "every component is stopped, failures reported together",
     "test_compat_components.py::test_a_failing_stop_still_stops_the_others"),
    ("a bare `@resource` replaced the function with a decorator",
     "`@resource`, `@resource()` and `@resource(\"request\")` all work",
     "test_compat_resources.py::test_resource_returns_the_function_itself"),
    ("`shutdown_all` discarded failures and closed oldest first",
     "newest first, every one closed, failures raised together",
     "test_compat_resources.py::test_shutdown_all_closes_newest_first_and_every_one"),
    ("`mock_factory` could not be called as its documentation shows, and its doubles "
     "answered every attribute", "it wraps a factory as documented; doubles have the "
     "class's interface",
     "test_compat_testing.py::test_mock_factory_wraps_a_factory_as_the_docs_show"),
    ("`pytest_container_fixture` in a conftest.py made pytest stop (an unknown hook)",
     "it can be imported there",
     "test_compat_testing.py::test_pytest_container_fixture_gives_each_test_a_fresh_container"),
    ("the shared `mock_factory` carried doubles from one test into the next",
     "each test starts with it as it was before the test",
     "test_compat_testing.py::test_mock_factory_starts_each_test_as_before_it"),
    ("FastMCP tools got no scope, and `InjectMCP` used the synchronous `get`",
     "one scope per call; async bindings are awaited",
     "test_fastmcp.py::test_async_and_named_bindings"),
    ("`HybridLock` did not exclude a thread from a task (a thread lock and per-thread "
     "asyncio locks)", "one lock for threads and tasks, waited for without blocking the loop",
     "test_compat_core.py::test_hybrid_lock_excludes_threads_and_tasks_without_blocking_the_loop"),
    ("`ThreadSafeDict.get_or_create` held its lock while the factory ran or awaited",
     "the factory runs once per key outside the lock; a failure lets the next caller try",
     "test_compat_core.py::test_a_failed_creation_lets_the_next_caller_try"),
    ("`ServiceRegistry` was a second registry beside the container's",
     "a live view of the container's bindings (read-only for a generated container)",
     "test_compat_core.py::test_registry_changes_the_runtime_container"),
    ("`get_function_dependencies` let a `NameError` escape and collapsed `list[int]` to "
     "`list`", "an `InjectionError` naming the parameter; keys as the container injects them",
     "test_compat_utils.py::test_dependencies_are_what_the_container_injects"),
    ("`ThreadLocalStorage` broke on keys such as `\"get\"` (values kept as attributes)",
     "any string is a key", "test_compat_utils.py::test_thread_local_storage_in_one_thread"),
    ("`DependencyNotFoundError(key)` and `CircularDependencyError(chain)` were the only "
     "forms", "the same forms, plus our problems with codes and paths",
     "test_compat_errors.py::test_circular_dependency_with_the_chain"),
)


# -- making the page ----------------------------------------------------------------------------
class Stale(Exception):
    pass


def _kind(obj: object) -> str:
    if inspect.ismodule(obj):
        return "module"
    if isinstance(obj, type):
        if getattr(obj, "_is_protocol", False):
            return "protocol"
        if issubclass(obj, BaseException):
            return "exception"
        return "class"
    if inspect.isfunction(obj) or inspect.isbuiltin(obj):
        return "function"
    if isinstance(obj, typing.TypeVar):
        return "type variable"
    origin = typing.get_origin(obj)
    if origin is not None or type(obj).__name__ in ("UnionType", "_UnionGenericAlias"):
        return "type alias"
    if callable(obj):
        return "callable object"
    return f"{type(obj).__name__} instance"


def _test_exists(ref: str) -> bool:
    file, _, name = ref.partition("::")
    path = ROOT / "tests" / file
    if not path.exists():
        return False
    return re.search(rf"^(async )?def {re.escape(name)}\(", path.read_text(encoding="utf-8"),
                     re.M) is not None


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _ref(ref: str) -> str:
    file, _, name = ref.partition("::")
    return f"`tests/{file}::{name}`"


def page() -> str:
    sys.path.insert(0, str(ROOT))
    problems: list[str] = []
    out = [
        "# InjectQ 0.5.0 compatibility",
        "",
        "<!-- generated by docs/gen_compat.py: edit that file, then run it -->",
        "",
        "Code written for InjectQ 0.5.0 runs on injectq: every public name of 0.5.0 imports",
        "from the same path, and does what 0.5.0's documentation says, on injectq's engine",
        "(both containers, where the API takes a container). Where 0.5.0 itself does",
        "something else than its documentation says, or something harmful, injectq does the",
        "right thing; each such case is listed below with its reason and its test. This page",
        "is generated and checked by a test (`tests/test_compat_table.py`): each name below",
        "was imported from its path when the page was made, and each test named exists.",
        "",
        "How much of 0.5.0's own documentation and examples runs here is measured by",
        "`python3 docs/measure_compat.py --reference PYTHON` (`PYTHON`: an interpreter with",
        "InjectQ 0.5.0 installed in a scratch virtual environment, never the project's own):",
        "it runs every Python block of 0.5.0's documentation pages (a page's blocks in order,",
        "as a reader would) and every example script, under both, and lists what runs under",
        "0.5.0 but not here, with the reason. Measured on this checkout: 189 of the 395",
        "blocks and scripts run under 0.5.0, and 187 of those 189 run here (203 of the 395",
        "in all). The two that do not are deliberate: a request-scoped service resolved",
        "with no scope open (0.5.0 caches it for the process; here it is a `ScopeError`), and",
        "`validate()` of a container with a missing binding (0.5.0 passes; here it raises).",
        "",
        "## Public names",
        "",
    ]
    for path, names in NAMES.items():
        out += [f"### `{path}`", "", "| name | here |", "|---|---|"]
        try:
            module = importlib.import_module(path)
        except ImportError as exc:
            module = None
            if not all((path, n) in NOT_PROVIDED for n in names):
                problems.append(f"{path} does not import: {exc}")
        for name in names:
            if (path, name) in NOT_PROVIDED:
                out.append(f"| `{name}` | not provided: {_cell(NOT_PROVIDED[(path, name)])} |")
                continue
            if module is None or not hasattr(module, name):
                problems.append(f"{path}.{name} does not import")
                continue
            out.append(f"| `{name}` | {_kind(getattr(module, name))} |")
        out.append("")
    out += [
        "## Documented behaviour",
        "",
        "| feature | 0.5.0's documentation | injectq | test |",
        "|---|---|---|---|",
    ]
    for feature, theirs, ours, ref in BEHAVIOUR:
        if not _test_exists(ref):
            problems.append(f"no test {ref}")
        out.append(f"| {_cell(feature)} | {_cell(theirs)} | {_cell(ours)} | {_ref(ref)} |")
    out += [
        "",
        "## Where 0.5.0 is wrong",
        "",
        "| 0.5.0 | injectq | test |",
        "|---|---|---|",
    ]
    for theirs, ours, ref in DIFFERENCES:
        if not _test_exists(ref):
            problems.append(f"no test {ref}")
        out.append(f"| {_cell(theirs)} | {_cell(ours)} | {_ref(ref)} |")
    out.append("")
    if problems:
        raise Stale("docs/compat.md cannot be made:\n  " + "\n  ".join(problems))
    return "\n".join(out)


def main() -> int:
    try:
        text = page()
    except Stale as exc:
        print(exc, file=sys.stderr)
        return 1
    if "--stdout" in sys.argv:
        sys.stdout.write(text)
    else:
        OUTPUT.write_text(text, encoding="utf-8")
        print(f"wrote {OUTPUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
