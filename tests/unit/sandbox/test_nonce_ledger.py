"""The sandbox's memory of used nonces: a replay is caught while its token lives, and the memory stays bounded."""

from gpttrader.sandbox.auth import NonceLedger


def test_a_nonce_is_refused_while_its_token_lives_then_forgotten() -> None:
    ledger = NonceLedger()
    assert ledger.first_use("key", "n", expires=100, now=0)
    assert not ledger.first_use("key", "n", expires=100, now=99)
    assert ledger.first_use("other-key", "n", expires=100, now=99)  # nonces are per key
    assert ledger.first_use("key", "m", expires=300, now=100)  # the expired entry goes on the next use
    assert len(ledger) == 1
    assert ledger.first_use("key", "n", expires=220, now=100)


def test_a_full_ledger_forgets_the_tokens_closest_to_expiry_first() -> None:
    ledger = NonceLedger(capacity=3)
    for nonce, expires in (("late", 120), ("soon", 10), ("middle", 60)):
        assert ledger.first_use("key", nonce, expires=expires, now=0)
    assert ledger.first_use("key", "new", expires=120, now=1)
    assert len(ledger) == 3
    assert ledger.first_use("key", "soon", expires=120, now=2)  # forgotten to make room
    assert not ledger.first_use("key", "late", expires=120, now=2)
