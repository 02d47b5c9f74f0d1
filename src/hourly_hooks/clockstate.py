"""Former home of the clock state; now only names kept for callers not yet moved.

The rules are in clockrules.py (pure), the repository probe in repository.py,
the look-up of an identity's last marker in store.py (the marker store every
command shares). New code imports those directly.
"""

from __future__ import annotations

from hourly_hooks import markers
from hourly_hooks.clockrules import FUTURE_SLACK, Problem, check, describe, parse_tz, stamp  # noqa: F401
from hourly_hooks.gitcmd import finish, git_message, git_text, run_git, start_git  # noqa: F401
from hourly_hooks.repository import Repository as Repo, author_ident  # noqa: F401
from hourly_hooks.store import last_marker  # noqa: F401

GREP = markers.GREP
