"""Turn pydantic's errors into messages that name the field, the bad value and what is allowed."""

import typing
from typing import Any

from pydantic import BaseModel, ValidationError


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
    lines = [f"{source}: invalid configuration"]
    for item in error.errors(include_url=False):
        loc = tuple(item["loc"])
        where = ".".join(str(part) for part in loc)
        if item["type"] == "extra_forbidden":
            allowed = _allowed_keys(model, loc)
            hint = f"; allowed keys: {', '.join(allowed)}" if allowed else ""
            lines.append(f"  {where}: unknown key{hint}")
        elif isinstance(item.get("input"), dict):
            # A rule across several fields: the message names them; the whole section would be noise.
            lines.append(f"  {where or 'configuration'}: {item['msg'].removeprefix('Value error, ')}")
        else:
            lines.append(f"  {where} = {item.get('input')!r}: {item['msg'].removeprefix('Value error, ')}")
    return "\n".join(lines)
