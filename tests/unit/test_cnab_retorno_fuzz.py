"""Property (hypothesis): whatever a damaged retorno holds, ``parse_retorno`` either reads it or
refuses it with a ``CnabError`` (a code and a message for the person) — never another exception."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assistec.domain.banking.cnab import CnabError, Retorno, parse_retorno
from tests.unit.cnab_support import FIXTURES

FILES = sorted(
    p.read_bytes() for p in FIXTURES.rglob("*") if p.suffix.lower() in {".ret", ".crt", ".rem", ".ced"}
)


@st.composite
def damaged(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(FILES)))
    for _ in range(draw(st.integers(0, 6))):
        kind = draw(st.sampled_from(["flip", "cut", "insert", "delete"]))
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        if kind == "flip" and data:
            data[at] = draw(st.integers(0, 255))
        elif kind == "cut":
            del data[at:]
        elif kind == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=5))
        elif data:
            del data[at : at + draw(st.integers(1, 300))]
    return bytes(data)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=damaged())
def test_damaged_files_are_read_or_refused_clearly(data: bytes) -> None:
    error: CnabError | None = None
    try:
        result = parse_retorno(data)
    except CnabError as exc:
        error = exc
    if error is None:
        assert isinstance(result, Retorno)
    else:
        assert error.code
        assert error.message
