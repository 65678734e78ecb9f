"""E-mail messages: their pt-BR templates (templates.py) and, later, the sending service."""
