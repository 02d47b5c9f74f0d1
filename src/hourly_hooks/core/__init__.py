"""The pure domain: markers, marker commits, pairing, clock rules, money, periods, budgets, timesheets.

Nothing here reads the machine (no os, subprocess, sqlite3, click, requests):
tests/test_layers.py holds that.
"""
