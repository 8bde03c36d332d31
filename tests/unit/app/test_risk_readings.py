"""How `gpttrader risk show` tells when a guard was last read."""

from datetime import UTC, datetime

from gpttrader.app.commands.risk import reading_line

NOW = datetime(2026, 12, 1, 22, 0, tzinfo=UTC)


def test_a_reading_says_how_long_ago_it_was_taken() -> None:
    reading = {"scope": None, "value": 0.0065, "level": "ok", "at": "2026-12-01T21:59:30+00:00"}
    assert reading_line(reading, NOW) == "last reading: 0.0065 (ok), 30 s ago"


def test_a_reading_on_a_clock_ahead_of_this_one_gives_its_time_not_a_negative_age() -> None:
    """A paper session on the sandbox's virtual clock reads its guards ahead of the wall clock."""
    reading = {"scope": "BTC-USD", "value": 0.0065, "level": "ok", "at": "2026-12-01T22:58:23+00:00"}
    # today: "last reading (BTC-USD): 0.0065 (ok), -3503 s ago"
    assert reading_line(reading, NOW) == (
        "last reading (BTC-USD): 0.0065 (ok), at 2026-12-01T22:58:23+00:00 (the session's clock)"
    )
