"""hourly-hooks: bill by the hour from clock-in / clock-out markers in git history."""

__version__ = "0.1.0"

# The shape version of every JSON document hourly prints (report, status,
# invoice, invoices, config): a script checks it and refuses a shape it does
# not know. It goes up when a key is renamed, removed or changes meaning (not
# when a key is added).
JSON_VERSION = 1
