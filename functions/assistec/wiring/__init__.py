"""Composition roots: one per function family (API, payments worker, outbox relay).

A root builds settings, the database, the integrations and the services once per execution
environment, on first use (nothing at import time), and hands them to routers and handlers. Tests
build a root of their own, replace the parts they fake (``root.event_bus = FakeBus()``) before first
use, and install it.
"""
