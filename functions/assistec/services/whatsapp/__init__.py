"""WhatsApp through the Evolution API (issue 11): the shop's number (``instance``), Evolution's
deliveries stored once and applied by the consumer (``inbox``), the bot that answers (``bot``), the
send queue paced per number (``sender``) and the staff's side of the conversations
(``conversations``)."""
