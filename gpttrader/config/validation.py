"""Turn pydantic's errors into messages that name the field, the bad value and what is allowed."""

import typing
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import PydanticCustomError

_LOCATED = "located"


def located_error(field: str, value: object, reason: str) -> PydanticCustomError:
    """An error a model's validator raises about one of its fields, or an entry inside one (`params.fast`):
    pydantic would report it at the model, with the whole model as the bad value."""
    return PydanticCustomError(_LOCATED, "{reason}", {"field": field, "value": value, "reason": reason})


def section_model(annotation: Any) -> type[BaseModel] | None:
    """The model inside an annotation such as `Model`, `Model | None` or `Annotated[Model, ...]`."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = section_model(arg)
        if found is not None:
            return found
    return None


def _allowed_keys(model: type[BaseModel], loc: tuple[int | str, ...]) -> list[str] | None:
    """Field names of the model that holds the unknown key at `loc`, or None if no model holds it."""
    current: Any = model
    parts = list(loc[:-1])
    while parts:
        part = parts.pop(0)
        if isinstance(current, type) and issubclass(current, BaseModel):
            field = current.model_fields.get(str(part))
            if field is None:
                return None
            current = field.annotation
            if typing.get_origin(current) is dict:
                current = typing.get_args(current)[1]
                if not parts:
                    return None
                parts.pop(0)
            current = section_model(current) or current
        else:
            return None
    return sorted(current.model_fields) if isinstance(current, type) and issubclass(current, BaseModel) else None


def format_validation_error(source: str, error: ValidationError, model: type[BaseModel]) -> str:
    """One line for one problem; a heading and a line per problem for several."""
    problems = []
    for item in error.errors(include_url=False):
        loc = tuple(item["loc"])
        where = ".".join(str(part) for part in loc)
        if item["type"] == "extra_forbidden":
            allowed = _allowed_keys(model, loc)
            hint = f"; allowed keys: {', '.join(allowed)}" if allowed else ""
            problems.append(f"{where}: unknown key{hint}")
        elif item["type"] == _LOCATED:
            context = item.get("ctx", {})
            field = ".".join(part for part in (where, context["field"]) if part)
            problems.append(f"{field} = {context['value']!r}: {context['reason']}")
        elif isinstance(item.get("input"), dict):
            # A rule across several fields: the message names them; the whole section would be noise.
            problems.append(f"{where or 'configuration'}: {item['msg'].removeprefix('Value error, ')}")
        else:
            problems.append(f"{where} = {item.get('input')!r}: {item['msg'].removeprefix('Value error, ')}")
    if len(problems) == 1:
        return f"{source}: {problems[0]}"
    return "\n  ".join([f"{source}: invalid configuration", *problems])
