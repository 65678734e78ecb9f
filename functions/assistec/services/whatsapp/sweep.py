"""WhatsApp replies written as queued whose send-queue message was lost: the scheduled relay hands
them to the send queue again (the sender sends each message once, whatever the queue holds)."""

from __future__ import annotations

from uuid import UUID

from assistec.db.connection import Database
from assistec.integrations.queue import WhatsappQueue


def requeue_replies(db: Database, queue: WhatsappQueue, *, older_than_s: int = 120, limit: int = 500) -> int:
    """Enqueue again, across every shop, our messages still queued after ``older_than_s``; how many."""
    with db.transaction() as conn:
        rows = conn.execute("select * from whatsapp_stale_replies(%s, %s)", (older_than_s, limit)).fetchall()
    for tenant_id, message_id in rows:
        queue.outbound(UUID(str(tenant_id)), UUID(str(message_id)))
    return len(rows)
