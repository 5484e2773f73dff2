"""Lay out generated statements the way black and ``ruff format`` do, so that running
either on ``_wiring.py`` changes nothing (and ``injectq-gen build --check`` stays true).

The generated module only holds a few statement forms: ``head = expression``,
``return expression``, calls, subscripts, tuples and dicts of names and literals. For
those the formatters' layout is simple: a line that fits in ``LINE_LENGTH`` stays as it
is; a longer one is split at its last bracket, one item per line, each followed by a
comma (the "magic trailing comma" that makes both formatters keep it split), and each
item laid out the same way. Strings are double-quoted unless that needs more escapes,
hexadecimal digits are upper case: the formatters' own normalizations.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Sequence

from injectq_codegen.errors import InternalError

__all__ = [
    "LINE_LENGTH", "Items", "bytes_literal", "call", "expression", "layout", "number",
    "signature", "string",
]

LINE_LENGTH = 88  # black's and ruff's default
INDENT = "    "


def string(text: str) -> str:
    """A str literal as the formatters write it (``text`` is a plain str)."""
    return _requote(str.__repr__(text))


def bytes_literal(data: bytes) -> str:
    """A bytes literal as the formatters write it."""
    return "b" + _requote(bytes.__repr__(data)[1:])


def _requote(single: str) -> str:
    """A repr()-made literal (quotes chosen by Python) with the formatters' quotes."""
    if single[0] == '"':
        return single  # it has a ' and no ": repr chose double quotes already
    body = single[1:-1]
    if body.count('"') > body.count("\\'"):
        return single  # double quotes would need more escapes
    return '"' + body.replace("\\'", "'").replace('"', '\\"') + '"'


def number(text: str) -> str:
    """An int or float literal as the formatters write it."""
    if text.startswith(("0x", "-0x")):
        sign, _, digits = text.partition("0x")
        return f"{sign}0x{digits.upper()}"
    return text.replace("E", "e")


def _flat(node: ast.AST) -> str:
    match node:
        case ast.Name(id=name):
            return name
        case ast.Constant(value=value):
            if isinstance(value, str):
                return string(value)
            if isinstance(value, bytes):
                return bytes_literal(value)
            if isinstance(value, bool) or value is None or value is Ellipsis:
                return "..." if value is Ellipsis else repr(value)
            if isinstance(value, int):
                try:
                    return int.__repr__(value)
                except ValueError:  # more digits than int -> str allows: hex has no limit
                    return number(hex(value))
            if isinstance(value, float):
                return number(float.__repr__(value))
        case ast.Attribute(value=inner, attr=attr):
            return f"{_flat(inner)}.{attr}"
        case ast.Call(func=func, args=args, keywords=keywords):
            return f"{_flat(func)}({', '.join(_items(args, keywords))})"
        case ast.Subscript(value=inner, slice=index):
            if isinstance(index, ast.Tuple) and index.elts:
                return f"{_flat(inner)}[{', '.join(_flat(e) for e in index.elts)}]"
            return f"{_flat(inner)}[{_flat(index)}]"
        case ast.Tuple(elts=elts):
            if len(elts) == 1:
                return f"({_flat(elts[0])},)"
            return f"({', '.join(_flat(e) for e in elts)})"
        case ast.List(elts=elts):
            return f"[{', '.join(_flat(e) for e in elts)}]"
        case ast.Dict(keys=keys, values=values):
            pairs = zip(keys, values, strict=True)
            return "{" + ", ".join(f"{_flat(k)}: {_flat(v)}" for k, v in pairs if k) + "}"
        case ast.Await(value=inner):
            return f"await {_flat(inner)}"
        case ast.BinOp(left=left, op=ast.BitOr(), right=right):
            return f"{_flat(left)} | {_flat(right)}"
        case ast.UnaryOp(op=ast.USub(), operand=operand):
            return f"-{_flat(operand)}"
        case ast.Starred(value=inner):
            return f"*{_flat(inner)}"
        case _:
            pass
    raise InternalError(f"internal error: cannot lay out a {type(node).__name__} expression")


def _items(args: list[ast.expr], keywords: list[ast.keyword]) -> list[str]:
    out = [_flat(a) for a in args]
    out += [f"{k.arg}={_flat(k.value)}" if k.arg else f"**{_flat(k.value)}" for k in keywords]
    return out


def _split(node: ast.AST) -> tuple[str, str, list[tuple[str, ast.AST]], str] | None:
    """(text before the bracket, the bracket, items as (prefix, node), closing bracket):
    where the formatters split ``node``; None when it has nothing to split."""
    match node:
        case ast.Call(func=func, args=args, keywords=keywords) if args or keywords:
            items: list[tuple[str, ast.AST]] = [("", a) for a in args]
            items += [(f"{k.arg}=" if k.arg else "**", k.value) for k in keywords]
            return _flat(func), "(", items, ")"
        case ast.Subscript(value=inner, slice=ast.Tuple(elts=elts)) if len(elts) > 1:
            return _flat(inner), "[", [("", e) for e in elts], "]"
        case ast.Tuple(elts=elts) if len(elts) > 1:
            return "", "(", [("", e) for e in elts], ")"
        case ast.List(elts=elts) | ast.Set(elts=elts) if elts:
            return "", "[", [("", e) for e in elts], "]"
        case ast.Dict(keys=keys, values=values) if keys:
            return "", "{", [
                (f"{_flat(k)}: ", v) for k, v in zip(keys, values, strict=True) if k is not None
            ], "}"
        case ast.Await(value=inner):
            found = _split(inner)
            if found is None:
                return None
            before, bracket, items, close = found
            return "await " + before, bracket, items, close
        case _:
            pass
    return None


def _lay(indent: str, head: str, node: ast.AST, tail: str) -> list[str]:
    line = f"{indent}{head}{_flat(node)}{tail}"
    if len(line) <= LINE_LENGTH:
        return [line]
    found = _split(node)
    if found is None:
        return [line]  # nothing to split: the formatters leave it long too
    before, bracket, items, close = found
    inner = indent + INDENT
    lines = [f"{indent}{head}{before}{bracket}"]
    for prefix, item in items:
        lines += _lay(inner, prefix, item, ",")
    lines.append(f"{indent}{close}{tail}")
    return lines


def expression(text: str) -> str:
    """``text`` (an expression) on one line, in the formatters' spelling."""
    return _flat(_parse(text))


def _parse(text: str) -> ast.expr:
    try:
        return ast.parse(text, mode="eval").body
    except SyntaxError as exc:
        raise InternalError(f"internal error: generated an invalid expression {text!r}") from exc


def layout(indent: str, head: str, text: str, tail: str = "") -> list[str]:
    """The lines of ``head + text + tail`` at ``indent``. ``text`` is an expression already
    in the formatters' spelling (what the planner prints is): one that fits is kept as it
    is; a longer one is parsed and split."""
    line = f"{indent}{head}{text}{tail}"
    if len(line) <= LINE_LENGTH:
        return [line]
    return _lay(indent, head, _parse(text), tail)


class Items:
    """A bracketed sequence of expressions already in the formatters' spelling (a tuple
    literal, say), laid out without parsing it."""

    __slots__ = ("close", "items", "open", "single_comma")

    def __init__(self, open_: str, items: list[str], close: str, *, single_comma: bool = False
                 ) -> None:
        self.open = open_
        self.items = items
        self.close = close
        self.single_comma = single_comma  # a one-item tuple: (x,)

    def flat(self) -> str:
        comma = "," if self.single_comma and len(self.items) == 1 else ""
        return f"{self.open}{', '.join(self.items)}{comma}{self.close}"


_KEYWORD = re.compile(r"([A-Za-z_]\w*)=(?!=)")  # ``name=`` before a keyword argument


def _item_lines(indent: str, head: str, item: str | Items, tail: str) -> list[str]:
    if isinstance(item, str):
        keyword = _KEYWORD.match(item)
        if keyword is not None:  # name=value: the name is no part of the expression
            return layout(indent, head + keyword.group(0), item[keyword.end():], tail)
        return layout(indent, head, item, tail)
    line = f"{indent}{head}{item.flat()}{tail}"
    if len(line) <= LINE_LENGTH or not item.items:
        return [line]
    inner = indent + INDENT
    lines = [f"{indent}{head}{item.open}"]
    for sub in item.items:
        lines += layout(inner, "", sub, ",")
    lines.append(f"{indent}{item.close}{tail}")
    return lines


def call(indent: str, head: str, func: str, args: Sequence[str | Items], tail: str = ""
         ) -> list[str]:
    """``head + func(args) + tail``, the arguments already in the formatters' spelling:
    one line when it fits, else one argument per line (each laid out in turn)."""
    flat = [a if isinstance(a, str) else a.flat() for a in args]
    line = f"{indent}{head}{func}({', '.join(flat)}){tail}"
    if len(line) <= LINE_LENGTH or not args:
        return [line]
    inner = indent + INDENT
    lines = [f"{indent}{head}{func}("]
    for arg in args:
        lines += _item_lines(inner, "", arg, ",")
    lines.append(f"{indent}){tail}")
    return lines


def signature(indent: str, head: str, params: list[tuple[str, str | None]], tail: str
              ) -> list[str]:
    """A ``def`` or ``class`` line: ``head(params)tail``; each param is (text, expression
    after it or None). Split one parameter per line when it does not fit (the formatters
    split a definition at its first bracket)."""
    flat = [text + (expression(value) if value is not None else "") for text, value in params]
    line = f"{indent}{head}({', '.join(flat)}){tail}"
    if len(line) <= LINE_LENGTH or not params:
        return [line]
    inner = indent + INDENT
    lines = [f"{indent}{head}("]
    for text, value in params:
        lines += layout(inner, text, value, ",") if value is not None else [f"{inner}{text},"]
    lines.append(f"{indent}){tail}")
    return lines
