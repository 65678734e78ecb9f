"""Which of a shop's tables a bundle holds, what a restore does with each, and in which order.

The tables come from the catalog (``db.backup.tenant_tables``: ``tenants`` and every table of schema
public with a ``tenant_id``), so a table added by a later migration is in the next bundle and is
restored like the shop's other data unless it is named below.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from assistec.db.backup import TableShape


class Restore(StrEnum):
    """What a restore into the shop's own tables does with a table."""

    REPLACE = "replace"  # the shop's rows are deleted, the bundle's written back
    APPEND = "append"  # append-only history: the bundle's rows that are missing are written back
    KEEP = "keep"  # left as it is: a ledger whose present state must survive a restore
    SHOP = "shop"  # the shop's own row: its name, e-mail and phone as in the bundle
    CLEAR = "clear"  # not in the bundle: emptied (what it holds stops being valid)


# Tables of schema public without shop data, never in a bundle (the catalog finds only tables with a
# tenant_id; these are listed so the manifest says why they are not there). The first two are
# read by the app role only through SECURITY DEFINER functions (migrations 0015 and 0016).
GLOBAL_TABLES = {
    "login_attempts": "tentativas de login de todas as lojas, por hash de e-mail e endereço; sem loja "
    "(lida só por funções SECURITY DEFINER)",
    "signup_requests": "cadastros ainda não confirmados: nenhuma loja existe ainda (lida só por funções "
    "SECURITY DEFINER)",
    "plans": "a tabela de preços da plataforma, igual para todas as lojas",
    "platform_webhook_inbox": "avisos da conta Asaas da plataforma antes de se saber de que loja são",
    "schema_migrations": "a versão do banco (vai no manifesto como schema_version)",
    "ops_audit": "o registro das ações dos operadores da plataforma (console de operação), de todas as lojas",
    "capacity_snapshots": "o tamanho do banco dia a dia, para o relatório de capacidade da plataforma",
    "backup_restore_permits": "as autorizações dos operadores para restaurar uma loja (uma por "
    "restauração, válidas por minutos)",
}

# A shop's tables that are not in its bundles, each with why.
NOT_BUNDLED = {
    "refresh_tokens": "sessões abertas: restaurá-las reabriria sessões encerradas (logout, senha trocada); "
    "uma restauração encerra todas as sessões da loja",
    "google_oauth_states": "consentimentos do Google em andamento (minutos de validade, segredos PKCE)",
    "asaas_customer_claims": "reservas de minutos enquanto uma cobrança é criada no Asaas",
    "backup_runs": "o registro dos próprios backups",
    "data_exports": "o registro das exportações de dados pedidas pelo dono (os arquivos ficam 7 dias)",
    "realtime_tickets": "tickets de conexão em tempo real (válidos por 60 segundos, uma vez)",
    "realtime_connections": "conexões abertas do painel em tempo real (duram no máximo 2 horas)",
}

RESTORE: dict[str, Restore] = {
    "tenants": Restore.SHOP,
    # Append-only for the app: a restore never erases history, it only brings back what is missing.
    "audit_log": Restore.APPEND,
    # Events already published (or to be), the providers' deliveries already applied (their ids are
    # what keeps a redelivery from applying twice): rolled back, they would be published or applied
    # again.
    "outbox": Restore.KEEP,
    "webhook_inbox": Restore.KEEP,
    "whatsapp_inbox": Restore.KEEP,
    # The shop's subscription to assistec lives at the platform's Asaas account: its records follow
    # that account, not the shop's backup (and the shop's billing status stays the platform's).
    "tenant_subscriptions": Restore.KEEP,
    "subscription_invoices": Restore.KEEP,
    "billing_notices": Restore.KEEP,
    "refresh_tokens": Restore.CLEAR,
    "google_oauth_states": Restore.CLEAR,
    "asaas_customer_claims": Restore.CLEAR,
    "backup_runs": Restore.KEEP,
    # The owner's exports: a restore neither brings back nor forgets one (a pending one stays pending).
    "data_exports": Restore.KEEP,
    # The real-time channel's tickets and open connections: a restore ends the shop's sessions, and
    # so its connections (the panel asks for a new ticket; the staff chat's messages are restored).
    "realtime_tickets": Restore.CLEAR,
    "realtime_connections": Restore.CLEAR,
    # The bank agreements' counters and the remessas sent: the bank has seen every nosso número and
    # file sequence handed out, so a restore never moves them back (a number handed out again would be
    # a second boleto under one number at the bank). The boletos, bank files and matches are restored
    # with the orders they belong to (a retorno read after the bundle is read again when re-sent).
    "bank_agreements": Restore.KEEP,
    "remessa_files": Restore.KEEP,
}


def restore_mode(table: str) -> Restore:
    return RESTORE.get(table, Restore.REPLACE)


class UnreadableTableError(RuntimeError):
    """A table of the shop's data that the app role cannot read, or that row-level security does not
    isolate: a bundle would silently miss it, or hold other shops' rows."""


def bundled(shapes: Iterable[TableShape]) -> list[TableShape]:
    """The tables of a bundle, parents before children (each table after those its foreign keys
    point at; by name otherwise). Refuses a table the app role cannot read or RLS does not isolate."""
    tables = [s for s in shapes if s.name not in NOT_BUNDLED]
    for table in tables:
        if not table.readable:
            raise UnreadableTableError(
                f"{table.name}: the app role cannot read it; list it in NOT_BUNDLED or grant it"
            )
        if not table.isolated:
            raise UnreadableTableError(f"{table.name}: row-level security is not enabled and forced")
    return dependency_order(tables)


def dependency_order(shapes: Iterable[TableShape]) -> list[TableShape]:
    """Parents first (Kahn's algorithm, ties by name); references to tables outside the set are
    ignored; a cycle between tables is refused (none exists: each would need deferred constraints)."""
    by_name = {s.name: s for s in shapes}
    waiting = {name: set(s.references) & by_name.keys() for name, s in by_name.items()}
    order: list[TableShape] = []
    while waiting:
        ready = sorted(name for name, parents in waiting.items() if not parents)
        if not ready:
            raise ValueError(f"foreign keys form a cycle among {sorted(waiting)}")
        for name in ready:
            order.append(by_name[name])
            del waiting[name]
        for parents in waiting.values():
            parents.difference_update(ready)
    return order


def excluded() -> dict[str, str]:
    """What the manifest says is not in the bundle, and why."""
    return {**GLOBAL_TABLES, **NOT_BUNDLED}
