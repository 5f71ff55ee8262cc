"""Search terms: Chinese as overlapping character bigrams, other words lower-cased, phones by suffix.

PostgreSQL's text search has no Chinese parser, and pg_trgm needs three characters, so a
two-character query like 打印 would find nothing. Each run of CJK characters becomes its
bigrams (打印机 → 打印, 印机); a query's bigrams must all be present, and the exact
substring is then rechecked on the stored text, so there are no false positives.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK_RUN = re.compile(f"[{_CJK}]+")
_WORD = re.compile(r"[0-9a-z\u00c0-\u024f]+(?:[._'-][0-9a-z\u00c0-\u024f]+)*")
_DIGITS = re.compile(r"\d")
# Tagged terms start with '#', which no word term can: an English prefix query such as
# 'mail' or 'no' must not match every email or ticket number.
PHONE, EMAIL, NUMBER = "#tel:", "#mail:", "#no:"


def _bigrams(run: str) -> Iterable[str]:
    if len(run) == 1:
        yield run
    for i in range(len(run) - 1):
        yield run[i:i + 2]


def text_terms(text: str) -> set[str]:
    """The terms a piece of free text is found by."""
    lowered = text.casefold()
    terms: set[str] = set()
    for run in _CJK_RUN.findall(lowered):
        terms.update(_bigrams(run))
    for word in _WORD.findall(_CJK_RUN.sub(" ", lowered)):
        terms.add(word)
        terms.update(part for part in re.split(r"[._'-]", word) if part)
    return terms


def phone_terms(phone: str | None) -> set[str]:
    """A phone is found by its whole digits and by every suffix of four or more digits."""
    digits = "".join(_DIGITS.findall(phone or ""))
    return {PHONE + digits[i:] for i in range(max(0, len(digits) - 3))} if len(digits) >= 4 else set()


def email_terms(email: str | None) -> set[str]:
    if not email:
        return set()
    email = email.casefold()
    return {EMAIL + email} | text_terms(email)


def number_terms(number: str) -> set[str]:
    """GD-000123 is found as gd-000123, 000123 and 123."""
    lowered = number.casefold()
    digits = lowered.rsplit("-", 1)[-1]
    return {NUMBER + lowered, NUMBER + digits, NUMBER + (digits.lstrip("0") or "0")}


def quote_lexeme(term: str) -> str:
    """A term as a tsquery operand, taken literally."""
    return "'" + term.replace("\\", "\\\\").replace("'", "''") + "'"


def parse_query(q: str, public_only: bool = False) -> tuple[str | None, list[str]]:
    """A tsquery for `q` (every part must match) and the CJK substrings to recheck exactly.

    `public_only` restricts every lexeme to weight A, the terms stored as public.
    """
    weight = "A" if public_only else ""

    def _lexeme(term: str, prefix: bool = False) -> str:
        quoted = quote_lexeme(term)
        label = ("*" if prefix else "") + weight
        return f"{quoted}:{label}" if label else quoted

    lowered = q.casefold().strip()
    digits = "".join(_DIGITS.findall(lowered))
    if re.fullmatch(r"[a-z]{1,4}-\d+", lowered):
        # A ticket number, or a model number of the same shape (HL-2260, BCD-470)
        prefix, number = lowered.split("-")
        return f"({_lexeme(f'{NUMBER}{prefix}-{number.rjust(6, chr(48))}')} | {_lexeme(lowered, prefix=True)})", []
    if re.fullmatch(r"\+?[\d \-()]{4,}", lowered) and len(digits) >= 4:
        alternatives = [_lexeme(PHONE + digits), _lexeme(NUMBER + (digits.lstrip("0") or "0")), _lexeme(digits)]
        return "(" + " | ".join(alternatives) + ")", []
    if re.fullmatch(r"[^@\s]+@[^@\s]+", lowered):
        return _lexeme(EMAIL + lowered), []
    parts: list[str] = []
    recheck: list[str] = []
    for run in _CJK_RUN.findall(lowered):
        parts.extend(_lexeme(b) for b in dict.fromkeys(_bigrams(run)))
        recheck.append(run)
    for word in _WORD.findall(_CJK_RUN.sub(" ", lowered)):
        parts.append(_lexeme(word, prefix=True))
    return (" & ".join(parts) if parts else None), recheck
