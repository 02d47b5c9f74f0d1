"""Kept for hooks installed by older versions: they run `from hourly_hooks.hook import clock_main` (and the two others).

The entry points live in hooks/entry.py now; new hooks import them from there.
"""
from hourly_hooks.hooks.entry import clock_main, protect_keys_main, source_main

__all__ = ["clock_main", "protect_keys_main", "source_main"]
