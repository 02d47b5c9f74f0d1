"""One error base class; every subclass carries its documented exit code.

Exit codes (also in the README):

  0  success
  1  refused: a hook or `hourly in/out` rejected the clock event, or a
     protected key was staged, or the user declined a confirmation
  2  usage: a bad option value (date, time zone, rate, period, ...)
  3  git: not a repository, an empty repository, git failed
  4  configuration: a config file cannot be read or holds a bad value
  5  BTCPay Server or network: the server refused or could not be reached
  6  nothing to bill: no billable hours, no rate, or an open session
  7  verify: the history gives another bill (a session or a figure differs, one missing or extra)
  8  verify: this clone lacks commits the bill names (shallow, or not fetched): fetch and verify again
  9  verify: the timesheet was changed after it was made (its manifest's digest does not match)
  70 an unexpected error (a bug: please report it; HOURLY_DEBUG=1 shows the traceback)
  74 output: a report or the invoice ledger cannot be written (a missing folder, a full disk,
     /dev/full); silent when the reader of a pipe has gone (`| head`), whatever the command
  130 interrupted (Ctrl-C), at the invoice question too (an end of input there is a no: 1)
"""

from __future__ import annotations


class HourlyError(Exception):
    """Base class of every error the tool reports as one clear line."""

    exit_code = 1

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        self.message = message  # str(error) is the message too (Exception's own __str__)
        self.hint = hint


class Rejected(HourlyError):
    """A clock event or a commit was refused; the message says why."""

    exit_code = 1


class UsageError(HourlyError):
    """A value given on the command line (or in config) cannot be understood."""

    exit_code = 2


class GitError(HourlyError):
    """git cannot answer: not a repository, no commits, git itself failed."""

    exit_code = 3


class ConfigError(HourlyError):
    """A configuration file is unreadable or holds a bad value."""

    exit_code = 4


class BTCPayError(HourlyError):
    """The BTCPay Server refused the request or could not be reached.

    `maybe_created`: a create that may have happened (read by the billing protocol's ledger).
    `answered`: the server did answer (an error, or a body this tool cannot read), so asking it
    again by order id settles the question; without an answer the create may still be running
    on the server, and only time settles it. `status`: the HTTP status of an error answer, and
    `has_body`: whether the answer carried a body.
    """

    exit_code = 5

    def __init__(self, message: str, hint: str | None = None, *, maybe_created: bool = False,
                 answered: bool = False, status: int | None = None, has_body: bool = True):
        super().__init__(message, hint)
        self.maybe_created, self.answered, self.status, self.has_body = maybe_created, answered, status, has_body


class NothingToBill(HourlyError):
    """There is nothing to invoice; the message explains what is missing."""

    exit_code = 6


class NotReproduced(HourlyError):
    """`hourly verify`: the history, under the bill's own rules, gives another bill."""

    exit_code = 7


class Incomplete(HourlyError):
    """`hourly verify`: this clone lacks commits the bill names; the hint says what to fetch."""

    exit_code = 8


class Altered(HourlyError):
    """`hourly verify`: the timesheet's content does not match its digest (edited after it was made)."""

    exit_code = 9


class OutputError(HourlyError):
    """The output cannot be written: the file's folder is missing, the disk is full."""

    exit_code = 74  # EX_IOERR in sysexits.h, beside 70 (EX_SOFTWARE) for bugs


def quoted(text, longest: int = 40) -> str:
    """A bad value as an error message repeats it: cut short (thousands of digits help no one)."""
    text = str(text)
    return repr(text) if len(text) <= longest else f"{text[:longest]!r}... ({len(text)} characters)"


EXIT_CRASH = 70
EXIT_INTERRUPTED = 130
