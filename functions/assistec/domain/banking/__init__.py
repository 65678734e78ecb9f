"""Banking: boletos, CNAB files, statements and reconciliation (pure rules, no I/O)."""
