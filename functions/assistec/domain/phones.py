"""Phone numbers in E.164, Brazilian by default.

Brazilian mobiles gained a ninth digit (a leading 9 after the area code) between 2012 and 2016;
people and old address books still write the eight-digit form, and WhatsApp ids of old accounts keep
it. Both forms name one line, so the canonical form always carries the 9.
"""

from __future__ import annotations

DEFAULT_REGION = "BR"


def to_e164(raw: str, region: str = DEFAULT_REGION) -> str | None:
    """The number in E.164 (``+5511987654321``), or None when it is not a valid phone number."""
    import phonenumbers  # deferred: ~20 ms of import that only requests carrying a phone pay

    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return None
    if number.country_code == 55:
        national = str(number.national_number)
        # 10 digits = area code + 8: a mobile (starts 6-9) written without its ninth digit.
        if len(national) == 10 and national[2] in "6789":
            number = phonenumbers.parse(f"+55{national[:2]}9{national[2:]}")
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def brazilian_variants(e164: str) -> set[str]:
    """Both spellings of a Brazilian mobile (with and without the ninth digit), for matching."""
    variants = {e164}
    if e164.startswith("+55") and len(e164) == 14 and e164[5] == "9":
        variants.add(e164[:5] + e164[6:])
    return variants


def readable(e164: str) -> str:
    """The number as people write it: ``(11) 98765-4321`` for Brazil, international form otherwise."""
    import phonenumbers

    try:
        number = phonenumbers.parse(e164, DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        return e164
    style = (
        phonenumbers.PhoneNumberFormat.NATIONAL
        if number.country_code == 55
        else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    return phonenumbers.format_number(number, style)
