"""Fragments of a registered secret found and redacted: any 12 characters of it in a row, wherever they are
cut (halves, lines), and nothing shorter; with the pattern redaction still applied."""

from gpttrader.config.secrets import REDACTED, Secret
from gpttrader.runs.leaks import FRAGMENT, holds_secret, redact_secrets

SECRET = Secret("Zq8vN3xW5rT1yL7kP2mB9cD4fG6hJ0sA")  # registered by being made
VALUE = SECRET.reveal()


def test_a_secret_in_two_halves_is_found_and_each_half_redacted() -> None:
    text = f"first {VALUE[:16]}\nthen {VALUE[16:]} done"
    assert redact_secrets(text) == f"first {REDACTED}\nthen {REDACTED} done"


def test_any_run_of_fragment_characters_is_found_and_shorter_ones_are_not() -> None:
    assert FRAGMENT == 12
    for start in range(len(VALUE) - FRAGMENT + 1):
        assert holds_secret(f"x{VALUE[start : start + FRAGMENT]}y")
    assert not holds_secret(VALUE[3:14])
    assert not holds_secret(f"{VALUE[:11]} {VALUE[11:22]} {VALUE[22:]}")


def test_overlapping_and_adjacent_fragments_become_one_redaction() -> None:
    assert redact_secrets(f"<{VALUE}{VALUE[:12]}>") == f"<{REDACTED}>"
    assert redact_secrets(f"<{VALUE[:12]}-{VALUE[12:24]}>") == f"<{REDACTED}-{REDACTED}>"


def test_patterns_are_still_redacted() -> None:
    assert redact_secrets("Authorization: Bearer abc.def") == f"Authorization: Bearer {REDACTED}"
    assert redact_secrets("nothing here") == "nothing here"
