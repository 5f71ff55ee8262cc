"""Passwords are kept as Argon2id hashes and must be strong enough to be worth hashing."""

from __future__ import annotations

import pytest

from identity.errors import WeakPassword
from identity.passwords import Passwords, check_strength

STRONG = "Str0ng-Passw0rd!"


@pytest.fixture(scope="module")
def passwords() -> Passwords:
    return Passwords(time_cost=1, memory_cost=8192)  # cheap parameters keep the tests quick


def test_a_password_is_hashed_with_argon2id_using_the_chosen_cost(passwords: Passwords) -> None:
    password_hash = passwords.hash(STRONG)

    assert password_hash.startswith("$argon2id$v=19$")
    assert "m=8192,t=1," in password_hash
    assert STRONG not in password_hash


def test_the_same_password_hashes_differently_each_time(passwords: Passwords) -> None:
    assert passwords.hash(STRONG) != passwords.hash(STRONG)


def test_the_right_password_verifies_and_a_wrong_one_does_not(passwords: Passwords) -> None:
    password_hash = passwords.hash(STRONG)

    assert passwords.verify(password_hash, STRONG) is True
    assert passwords.verify(password_hash, "Str0ng-Passw0rd?") is False
    assert passwords.verify(password_hash, "") is False


def test_an_unknown_account_or_a_mangled_hash_never_verifies(passwords: Passwords) -> None:
    assert passwords.verify(None, STRONG) is False
    assert passwords.verify("not-a-hash", STRONG) is False
    assert passwords.verify(passwords.hash(STRONG)[:-4], STRONG) is False


def test_the_default_cost_is_the_production_one() -> None:
    assert "m=65536,t=3," in Passwords().hash(STRONG)


@pytest.mark.parametrize("password", [STRONG, "correct horse battery 9", "打印机坏了-Printer-2024", "Zq8#mW2!xR"])
def test_strong_passwords_are_accepted(password: str) -> None:
    check_strength(password, login="li.lei@example.test")


@pytest.mark.parametrize(("password", "why"), [
    ("Sh0rt-pw!", "too short (9 characters)"),
    ("", "empty"),
    ("password123", "a well-known password"),
    ("PASSWORD123", "a well-known password in other case"),
    ("1234567890", "a well-known password"),
    ("aaaaaaaaaaaa1!", "too few different characters"),
    ("ababababab12", "too few different characters"),
    ("abcdefghijklmn", "only lower case letters"),
    ("ABCDEFGHIJKLMN", "only upper case letters"),
    ("19283746501928", "only digits"),
    ("LiLei-Is-Here-2024", "contains the login name"),
])
def test_weak_passwords_are_refused(password: str, why: str) -> None:
    with pytest.raises(WeakPassword) as refusal:
        check_strength(password, login="lilei@example.test")
    assert refusal.value.code == "password.too_weak" and refusal.value.status == 422, why


def test_a_phone_login_inside_the_password_is_refused() -> None:
    with pytest.raises(WeakPassword):
        check_strength("x13800138000-Yz", login="13800138000")
