"""Backups a shop can restore (issue 13 §3).

- export.py: the shop's tables out of one snapshot, into a bundle (domain/backup_bundle.py);
- verify.py: a bundle checked whole (or refused with a stable code) before anything is done with it;
- restore.py: a bundle back into the shop's own tables, or into scratch tables to check it;
- portability.py: the owner's zip of CSV and JSON files (LGPD);
- runs.py: the daily backup flow's steps and the weekly restore test; ``export_all``;
- tables.py: which tables a bundle holds and what a restore does with each.
"""
