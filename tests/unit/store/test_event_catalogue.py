"""One list of event types, one payload shape per type: writers and readers name types by their
`EventType` member, and an append that does not fit its type's shape is refused."""

import ast
import typing
from collections.abc import Iterator
from pathlib import Path

import pytest

from gpttrader.domain import events as catalogue
from gpttrader.domain.events import PAYLOADS, EventType
from gpttrader.risk import MemoryJournal
from gpttrader.store import Database, EventStore

PACKAGE = Path(__file__).resolve().parents[3] / "gpttrader"
EVENT_CALLS = frozenset({"append", "latest", "_record", "read", "tail"})


def _strings(module: ast.Module) -> dict[str, str]:
    """The module's top-level names bound to a string: a constant passed as a type is a string too."""
    return {
        target.id: node.value.value
        for node in module.body
        if isinstance(node, ast.Assign | ast.AnnAssign)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
        for target in (node.targets if isinstance(node, ast.Assign) else [node.target])
        if isinstance(target, ast.Name)
    }


def _is_string(node: ast.expr, constants: dict[str, str]) -> bool:
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str)
    if isinstance(node, ast.JoinedStr):
        return True
    if isinstance(node, ast.IfExp):
        return _is_string(node.body, constants) or _is_string(node.orelse, constants)
    return isinstance(node, ast.Name) and node.id in constants


def _event_types(call: ast.Call) -> Iterator[ast.expr]:
    """What a call passes as an event type, if it is a call of the event store's or the journal's API."""
    if not isinstance(call.func, ast.Attribute) or call.func.attr not in EVENT_CALLS:
        return
    name = call.func.attr
    # list.append takes one argument; an event's append takes its payload too
    positional = (name == "append" and len(call.args) + len(call.keywords) >= 2) or name in ("latest", "_record")
    if positional and call.args:
        yield call.args[0]
    for keyword in call.keywords:
        if keyword.arg == "types":
            value = keyword.value
            yield from value.elts if isinstance(value, ast.List | ast.Tuple | ast.Set) else [value]


def _string_types(path: Path) -> list[tuple[int, str]]:
    """Each call in the file that passes a string as an event type: its line and what it passes."""
    module = ast.parse(path.read_text())
    constants = _strings(module)
    return sorted(
        (node.lineno, ast.unparse(given))
        for node in ast.walk(module)
        if isinstance(node, ast.Call)
        for given in _event_types(node)
        if _is_string(given, constants)
    )


def test_no_event_type_is_a_string() -> None:
    found = [
        f"{path.relative_to(PACKAGE)}:{line}: {given}"
        for path in sorted(PACKAGE.rglob("*.py"))
        for line, given in _string_types(path)
    ]
    assert not found, "name event types by their EventType member:\n" + "\n".join(found)


def test_the_check_sees_a_string_type(tmp_path: Path) -> None:
    source = tmp_path / "writer.py"
    source.write_text(
        'DONE = "x.done"\n'
        'events.append("x.started", {"a": 1})\n'
        "events.append(DONE, {}, run_id=None)\n"
        'journal.latest("x.state")\n'
        'events.read(types=[EventType.ALERT, "x.other"])\n'
        'events.append(f"x.{kind}", payload)\n'
        "problems.append('a list, not the store')\n"
    )
    assert [given for _, given in _string_types(source)] == [
        "'x.started'",
        "DONE",
        "'x.state'",
        "'x.other'",
        "f'x.{kind}'",
    ]


def test_every_type_has_a_payload_shape_and_every_shape_a_type() -> None:
    assert set(PAYLOADS) == set(EventType)
    assert all(typing.is_typeddict(shape) for shape in PAYLOADS.values())
    declared = {value for value in vars(catalogue).values() if typing.is_typeddict(value)}
    assert declared == set(PAYLOADS.values()), "a payload TypedDict no event type uses"


def test_a_member_is_named_after_its_stored_value() -> None:
    assert [t.name for t in EventType] == [t.value.upper().replace(".", "_") for t in EventType]


@pytest.fixture(params=["store", "journal"])
def append(request: pytest.FixtureRequest, database: Database) -> typing.Callable[..., object]:
    if request.param == "store":
        return EventStore(database).append
    return MemoryJournal().append


def test_an_unknown_key_is_refused_naming_the_type_and_the_key(append: typing.Callable[..., object]) -> None:
    with pytest.raises(ValueError, match=r"event risk\.kill_switch: payload has unknown 'operater'"):
        append(EventType.RISK_KILL_SWITCH, {"operater": "ann", "operator": "ann", "reason": "test"})


def test_a_missing_key_is_refused_naming_the_type_and_the_key(append: typing.Callable[..., object]) -> None:
    with pytest.raises(ValueError, match=r"event risk\.state_changed: payload misses 'to'"):
        append(EventType.RISK_STATE_CHANGED, {"from": "active", "by": "system", "reason": "test"})


def test_keys_only_some_writers_put_may_be_left_out(database: Database) -> None:
    store = EventStore(database)
    store.append(EventType.RISK_STATE_CHANGED, {"from": "active", "to": "halted", "by": "system", "reason": "x"})
    store.append(
        EventType.RISK_STATE_CHANGED,
        {"from": "halted", "to": "active", "by": "operator", "operator": "ann", "reason": "reviewed"},
    )
    assert store.count() == 2


def test_a_refused_payload_writes_nothing(database: Database) -> None:
    store = EventStore(database)
    with pytest.raises(ValueError, match="misses 'operator'"):
        store.append(EventType.BOT_PAUSED, {})
    assert store.count() == 0


def test_rows_stored_as_strings_read_back_as_members(database: Database) -> None:
    """The stored format is the type's value: a store written before the catalogue reads as it always did."""
    with database.transaction() as conn:
        conn.executemany(
            "INSERT INTO events (time, type, run_id, payload) VALUES (?, ?, ?, ?)",
            [
                ("2026-01-01T00:00:00.000000+00:00", "bot.paused", "r1", '{"operator":"ann"}'),
                ("2026-01-01T00:01:00.000000+00:00", "risk.state_changed", "r1", '{"from":"active","to":"halted"}'),
                # a type no bot writes any more, in a store kept from an earlier version
                ("2026-01-01T00:02:00.000000+00:00", "reconcile.unsent", "r1", '{"client_order_id":"a","message":"m"}'),
            ],
        )
    store = EventStore(database)
    read = list(store.read())
    assert [e.type for e in read] == [EventType.BOT_PAUSED, EventType.RISK_STATE_CHANGED, EventType.RECONCILE_UNSENT]
    assert all(type(e.type) is EventType for e in read)
    assert [e.type for e in store.tail(5, types=[EventType.RISK_STATE_CHANGED])] == [EventType.RISK_STATE_CHANGED]
    assert store.latest(EventType.RISK_STATE_CHANGED) == {"from": "active", "to": "halted"}
    appended = store.append(EventType.BOT_RESUMED, {"operator": "ann"})
    with database.reading() as conn:
        stored = conn.execute("SELECT type FROM events WHERE id = ?", (appended.id,)).fetchone()[0]
    assert type(stored) is str
    assert stored == "bot.resumed"
