"""hourly-hooks: bill by the hour from clock-in / clock-out markers in git history."""

__version__ = "0.1.0"
