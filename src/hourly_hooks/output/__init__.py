"""Timesheet renderers: table, csv, json, markdown, timeclock, html and its chart, the report's extras.

No git and no click here: tests/test_layers.py holds that.
"""
