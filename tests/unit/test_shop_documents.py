"""The shop's documents as files (pure parts): names, keys, the logo's keys, the warranty printed, and
how an order's rows become a document whose sums always add up."""

from __future__ import annotations

import subprocess
import sys
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from assistec.db.rows import CustomerRow, DeviceRow, DocumentSettingsRow, OrderRow, QuoteRow, TenantRow
from assistec.domain import documents, phones
from assistec.domain import shop_documents as rules
from assistec.services.documents import DeliveryDocument, IntakeDocument, QuoteDocument
from assistec.services.documents.assemble import EXTRA_RECEIVED, Facts, document

ROOT = Path(__file__).resolve().parents[2]
TENANT = uuid.UUID("6f0c2f3e-8d7a-4b61-9d0e-0f4a2b7c9e11")
NOW = datetime(2026, 3, 10, 17, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("number", "kind", "paper", "name"),
    [
        (42, "quote", "a4", "OS-0042-orcamento.pdf"),
        (7, "intake", "thermal80", "OS-0007-entrada-80mm.pdf"),
        (123456, "delivery", "a4", "OS-123456-entrega.pdf"),
    ],
)
def test_the_files_name_says_which_order_and_which_document(
    number: int, kind: rules.DocumentKind, paper: rules.PaperName, name: str
) -> None:
    assert rules.filename(number, kind, paper) == name


def test_a_documents_key_is_under_its_shop_and_order_and_named_by_its_content() -> None:
    order = uuid.uuid4()
    key = rules.document_key(TENANT, order, "quote", "a4", b"%PDF-1")
    assert key.startswith(f"documents/{TENANT}/{order}/quote-a4-")
    assert key == rules.document_key(TENANT, order, "quote", "a4", b"%PDF-1")
    assert key != rules.document_key(TENANT, order, "quote", "a4", b"%PDF-2")


def test_a_new_logo_key_is_the_shops_own() -> None:
    for content_type, extension in (("image/png", ".png"), ("image/jpeg", ".jpg")):
        key = rules.new_logo_key(TENANT, content_type)
        assert key.startswith(f"logos/{TENANT}/")
        assert key.endswith(extension)
        assert rules.is_own_logo_key(TENANT, key)
        assert not rules.is_own_logo_key(uuid.uuid4(), key)


@given(
    name=st.uuids(),
    extension=st.sampled_from([".png", ".jpg", ".gif", ".PNG", ".png.exe", ""]),
    before=st.sampled_from(["", "../", "x/", "/", " "]),
    after=st.sampled_from(["", "/", "\n", " ", "/x.png", "?a=1"]),
)
def test_only_a_fresh_name_of_ours_passes_for_the_shops_logo(
    name: uuid.UUID, extension: str, before: str, after: str
) -> None:
    # Given a name after the shop's own prefix: ours (a uuid and .png or .jpg) or one bent out of shape
    key = f"logos/{TENANT}/{before}{name}{extension}{after}"
    # Then it is the shop's logo key exactly when it is ours unbent
    assert rules.is_own_logo_key(TENANT, key) == (before == after == "" and extension in (".png", ".jpg"))


@given(st.text(max_size=120))
def test_no_random_name_passes_for_the_shops_logo(suffix: str) -> None:
    assert not rules.is_own_logo_key(TENANT, f"logos/{TENANT}/{suffix}")


OTHER = uuid.UUID("0b9c3d6e-5f21-4e8a-b7c4-2d1e0f9a8b76")
NAME = "3f2a1b0c-9d8e-4f7a-8b6c-5d4e3f2a1b0c"  # fixed: parallel workers collect the same ids


@pytest.mark.parametrize(
    "key",
    [
        f"logos/{OTHER}/{NAME}.png",  # another shop's
        f"logos/{TENANT}/../{OTHER}/{NAME}.png",
        f"logos/{TENANT}/{NAME}.gif",
        f"logos/{TENANT}/{NAME}.png/x.png",
        f"documents/{TENANT}/{NAME}.png",
        f"/logos/{TENANT}/{NAME}.png",
    ],
)
def test_keys_of_others_or_of_other_shapes_are_not_the_shops_logo(key: str) -> None:
    assert not rules.is_own_logo_key(TENANT, key)


@pytest.mark.parametrize(("until_days", "printed"), [(None, 90), (30, 90), (90, 90), (180, 180), (365, 365)])
def test_the_warranty_printed_is_the_orders_and_never_less_than_the_law(
    until_days: int | None, printed: int
) -> None:
    delivered = date(2026, 3, 10)
    until = None if until_days is None else delivered + timedelta(days=until_days)
    assert rules.warranty_days(delivered, until) == printed


def test_ids_and_phones_print_as_people_write_them() -> None:
    assert documents.formatted("52998224725") == "529.982.247-25"
    assert documents.formatted("11222333000181") == "11.222.333/0001-81"
    assert documents.formatted("12ABC34501DE35") == "12.ABC.345/01DE-35"
    assert phones.readable("+5511987654321") == "(11) 98765-4321"
    assert phones.readable("+551134567890") == "(11) 3456-7890"
    assert phones.readable("+14155552671") == "+1 415-555-2671"


# --- from rows to documents ----------------------------------------------------------------------
def _facts(
    kind: rules.DocumentKind, *, paid: int = 0, quote: QuoteRow | None = None, **order: object
) -> Facts:
    created = datetime(2026, 3, 10, 13, 5, tzinfo=UTC)
    fields: dict[str, object] = {
        "id": uuid.uuid4(),
        "tenant_id": TENANT,
        "number": 42,
        "customer_id": uuid.uuid4(),
        "device_id": uuid.uuid4(),
        "status": "received",
        "reported_problem": "Não liga",
        "diagnosis": None,
        "technician_id": None,
        "priority": "normal",
        "promised_at": None,
        "warranty_of": None,
        "delivered_at": None,
        "warranty_until": None,
        "tracking_token": f"{TENANT}.abc",
        "paid_cents": paid,
        "version": 1,
        "created_at": created,
        "updated_at": created,
    }
    fields.update(order)
    return Facts(
        kind=kind,
        tenant=TenantRow(
            TENANT, "Conserta Já", "11222333000181", "loja@x.com.br", "+5511987654321", "active", created
        ),
        settings=DocumentSettingsRow(
            "America/Sao_Paulo", "Rua A, 1", "Termos", "Mais garantia", None, 3, created
        ),
        order=OrderRow(**fields),  # type: ignore[arg-type]
        customer=CustomerRow(
            uuid.uuid4(),
            TENANT,
            "Ana Souza",
            "+5511912345678",
            "52998224725",
            None,
            None,
            None,
            1,
            created,
            created,
        ),
        device=DeviceRow(
            uuid.uuid4(),
            TENANT,
            uuid.uuid4(),
            "phone",
            "Samsung",
            "A54",
            "SN1",
            "490154203237518",
            "Tela trincada",
            ["capinha"],
            b"sealed",
            1,
            created,
            created,
        ),
        quote=quote,
    )


def _quote(lines: list[tuple[int, int]], discount: int, status: str = "approved") -> QuoteRow:
    at = datetime(2026, 3, 10, 14, 0, tzinfo=UTC)
    subtotal = sum(q * unit for q, unit in lines)
    return QuoteRow(
        id=uuid.uuid4(),
        tenant_id=TENANT,
        order_id=uuid.uuid4(),
        version=2,
        status=status,
        lines=[
            {
                "kind": "labour",
                "description": f"Item {i}",
                "quantity": q,
                "unit_price_cents": unit,
                "total_cents": q * unit,
            }
            for i, (q, unit) in enumerate(lines)
        ],
        subtotal_cents=subtotal,
        discount_cents=min(discount, subtotal),
        discount_rule="Fiel" if discount else None,
        total_cents=subtotal - min(discount, subtotal),
        deadline_days=3,
        valid_until=date(2026, 3, 17),
        rendered_text="",
        public_token=f"{TENANT}.quote",
        public_expires_at=datetime(2026, 3, 18, 3, 0, tzinfo=UTC),
        decided_at=at if status == "approved" else None,
        decided_name="Ana Souza" if status == "approved" else None,
        decided_ip=None,
        decided_user_agent=None,
        decided_via="link" if status == "approved" else None,
        decided_by=None,
        created_by=None,
        created_at=at,
    )


def test_the_intake_is_in_the_shops_time_and_words() -> None:
    promised = datetime(2026, 3, 12, 21, 0, tzinfo=UTC)
    made = document(_facts("intake", promised_at=promised), logo=None, link_base="https://api.x/v1", now=NOW)
    assert isinstance(made, IntakeDocument)
    assert made.opened_at.isoformat() == "2026-03-10T10:05:00-03:00"  # 13:05 UTC in São Paulo
    assert made.order_number == "0042"
    assert (made.shop.document, made.shop.phone, made.shop.terms) == (
        "11.222.333/0001-81",
        "(11) 98765-4321",
        "Termos",
    )
    assert (made.customer.document, made.customer.phone) == ("529.982.247-25", "(11) 91234-5678")
    assert (made.device.kind, made.device.serial, made.device.password_given) == (
        "Celular",
        "490154203237518 / SN1",
        True,
    )
    assert made.notes == "Previsão de entrega: 12/03/2026 às 18:00."
    assert made.tracking_url == f"https://api.x/v1/public/orders/{TENANT}.abc"
    assert document(_facts("intake"), logo=None, link_base="", now=NOW).tracking_url is None  # type: ignore[union-attr]


def test_a_pending_quote_carries_its_approval_link_a_decided_one_its_decision() -> None:
    pending = document(
        _facts("quote", quote=_quote([(1, 1000)], 0, "pending")),
        logo=None,
        link_base="https://api.x",
        now=NOW,
    )
    assert isinstance(pending, QuoteDocument)
    assert pending.approval_url == f"https://api.x/public/quotes/{TENANT}.quote"
    approved = document(
        _facts("quote", quote=_quote([(1, 1000)], 100)), logo=None, link_base="https://api.x", now=NOW
    )
    assert isinstance(approved, QuoteDocument)
    assert approved.approval_url is None
    assert approved.notes == (
        "Prazo: 3 dias úteis após a aprovação. Desconto aplicado: Fiel. "
        "Aprovado por Ana Souza em 10/03/2026 às 11:00."
    )
    expired = document(
        _facts("quote", quote=_quote([(1, 1000)], 0, "pending")), logo=None, link_base="https://api.x",
        now=datetime(2026, 3, 19, tzinfo=UTC),
    )  # fmt: skip
    assert isinstance(expired, QuoteDocument)
    assert expired.approval_url is None
    assert expired.notes is not None
    assert "Vencido em 17/03/2026." in expired.notes


@given(
    lines=st.lists(st.tuples(st.integers(1, 5), st.integers(0, 500_000)), max_size=6),
    discount=st.integers(0, 200_000),
    paid=st.integers(0, 5_000_000),
    approved=st.booleans(),
)
def test_a_delivery_receipt_always_adds_up(
    lines: list[tuple[int, int]], discount: int, paid: int, approved: bool
) -> None:
    # Given any delivered order: an approved quote or none, and whatever its charges took
    delivered = datetime(2026, 3, 10, 18, 0, tzinfo=UTC)
    quote = _quote(lines, discount) if approved else None
    facts = _facts(
        "delivery", paid=paid, quote=quote, status="delivered", delivered_at=delivered,
        warranty_until=date(2026, 6, 8),
    )  # fmt: skip
    # When its receipt is assembled (the document checks its own sums: it would raise)
    made = document(facts, logo=None, link_base="", now=NOW)
    assert isinstance(made, DeliveryDocument)
    # Then the paid amount is the order's, never more than the total, and the total is the quote's
    # plus, only when the charges took more, that difference as a line of its own
    quoted = quote.total_cents if quote else 0
    assert made.paid_cents == paid
    assert made.total_cents == max(quoted, paid)
    extra = [line for line in made.services if line.description == EXTRA_RECEIVED]
    assert [line.unit_cents for line in extra] == ([paid - quoted] if paid > quoted else [])
    assert (made.warranty_days, made.warranty_until, made.warranty_terms) == (
        90,
        date(2026, 6, 8),
        "Mais garantia",
    )


def test_importing_the_api_does_not_import_the_pdf_libraries() -> None:
    # Given a fresh interpreter; When the API's handler is imported (a cold start)
    probe = (
        "import sys\nimport assistec.handlers.api\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'fpdf', 'PIL', 'fontTools', 'pypdf'}))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=ROOT / "functions",
        capture_output=True,
        text=True,
        check=True,
        env={"PATH": "/usr/bin:/bin", "POWERTOOLS_METRICS_NAMESPACE": "Test"},
    )
    # Then none of the PDF machinery was loaded: only a document request pays for it
    assert done.stdout.strip() == "[]"
