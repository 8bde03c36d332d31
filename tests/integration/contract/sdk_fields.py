"""What the official SDK's typed response classes make of an answer: the fields they do not declare.

The SDK wraps every answer in a typed class (`coinbase.rest.types`, `coinbase.websocket.types`) whose
`__init__` pops the fields it declares and hands the rest to `BaseResponse.__init__`, which keeps them as
attributes all the same: an undeclared field never fails, so it has to be looked for. `Capture` records what
reaches `BaseResponse.__init__` (minus the rate-limit headers it maps itself). Some declared objects are kept
as raw dicts (`Account.available_balance: Optional[Amount]`, `CreateOrderResponse.success_response:
Optional[CreateOrderSuccess]`): `undeclared` reads the annotations in the SDK's source and parses those
through their class too, so a field nested in them is looked for as well.
A helper module, not a test module."""

import ast
import copy
import inspect
import sys
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from typing import Any

import pytest
from coinbase.rest.types import base_response as rest_base
from coinbase.websocket.types import base_response as ws_base

Leftovers = list[tuple[str, str]]  # (typed class, field it does not declare)


@contextmanager
def capture() -> Iterator[Leftovers]:
    """Within the block, every field an SDK typed class leaves undeclared, as (class name, field)."""
    found: Leftovers = []
    with pytest.MonkeyPatch.context() as patch:
        for module in (rest_base, ws_base):
            original = module.BaseResponse.__init__

            def recording(self: Any, *args: Any, _original: Any = original, **kwargs: Any) -> None:
                found.extend((type(self).__name__, key) for key in kwargs if key not in rest_base.common_fields)
                _original(self, *args, **kwargs)

            patch.setattr(module.BaseResponse, "__init__", recording)
        yield found


@cache
def nested_classes(cls: type) -> dict[str, type]:
    """The fields `cls` declares with a typed class of the SDK as (part of) their annotation."""
    source = textwrap.dedent(inspect.getsource(cls))
    namespace = vars(sys.modules[cls.__module__])
    result: dict[str, type] = {}
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.AnnAssign) or node.value is None:
            continue
        keys = [
            call.args[0].value
            for call in ast.walk(node.value)
            if isinstance(call, ast.Call)
            and isinstance(call.func, ast.Attribute)
            and call.func.attr == "pop"
            and call.args
            and isinstance(call.args[0], ast.Constant)
        ]
        types = [
            namespace[name.id]
            for name in ast.walk(node.annotation)
            if isinstance(name, ast.Name)
            and isinstance(namespace.get(name.id), type)
            and issubclass(namespace[name.id], (rest_base.BaseResponse, ws_base.BaseResponse))
        ]
        if keys and types:
            result[str(keys[0])] = types[0]
    return result


def undeclared(typed: Any) -> Leftovers:
    """Fields of an already parsed answer that its typed classes, nested raw-kept ones included, do not
    declare. (Fields the SDK's own parse left over are what `capture` saw while it ran.)"""
    found: Leftovers = []
    for name, value in vars(typed).items():
        if isinstance(value, (rest_base.BaseResponse, ws_base.BaseResponse)):
            found += undeclared(value)
        elif isinstance(value, list):
            found += [f for item in value if hasattr(item, "__dict__") for f in undeclared(item)]
        cls = nested_classes(typed.__class__).get(name)
        raw = [value] if isinstance(value, dict) else value if isinstance(value, list) else []
        for item in raw:
            if cls is not None and isinstance(item, dict):
                with capture() as inner:
                    parsed = cls(**copy.deepcopy(item))
                found += inner + undeclared(parsed)
    return found
