"""Banking use cases: the shop's bank agreements (agreements.py) and the bank files it receives
(intake.py, through the parser seam of parsing.py)."""
