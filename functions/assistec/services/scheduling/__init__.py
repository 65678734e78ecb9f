"""Scheduling (issue 12): the shop's rules, availability, appointments mirrored to its Google Calendar,
and the reminders."""
