#!/bin/sh
### hourly-hooks @HOOK@ hook ###
# Runs @COMMAND@ (hourly-hooks, https://pypi.org/project/hourly-hooks/):
# commit-msg checks clock-in / clock-out markers and writes them in canonical
# form; prepare-commit-msg notes for it whether git is amending; pre-commit
# refuses staged private keys and BTCPay secrets. Installed by
# `hourly install-hook` (or printed by `hourly install-hook --print`), removed
# by `hourly uninstall-hook`; bypass once with `git commit --no-verify`.
# Plain POSIX sh, for repositories without the pre-commit framework.

# Filled in by `hourly install-hook`: the Python that has hourly-hooks, and
# the directory holding the package (so Python can start with -S: the hook
# needs nothing but the standard library, and skipping site-packages start-up
# makes every commit faster).
INSTALL_PYTHON=''
HOURLY_PATH=''
# A hook that was here before hourly's is moved aside to this name and still
# runs first; its refusal stands.
CHAINED_HOOK="${0%/*}/@HOOK@.pre-hourly"

if [ -f "$CHAINED_HOOK" ]; then
    if [ -x "$CHAINED_HOOK" ]; then
        "$CHAINED_HOOK" "$@" || exit $?
    else
        echo "@COMMAND@: $CHAINED_HOOK (the hook that was here before) is not executable; skipped" >&2
    fi
fi

# Exit status 127 from Python means "hourly_hooks is not importable there": try the next way.
# `python -c` puts the current directory (the repository's top, where git runs
# hooks) first on sys.path: a re.py committed there must not run in the hook.
run='import sys
if sys.path[:1] == [""]:
    del sys.path[0]
if sys.argv[1]:
    sys.path.append(sys.argv[1])
try:
    from hourly_hooks.hooks.entry import @ENTRY@ as main
except ImportError:
    sys.exit(127)
sys.exit(main(sys.argv[2:]))'

if [ -n "$INSTALL_PYTHON" ] && [ -x "$INSTALL_PYTHON" ]; then
    if [ -n "$HOURLY_PATH" ]; then
        "$INSTALL_PYTHON" -S -c "$run" "$HOURLY_PATH" "$@"
    else
        "$INSTALL_PYTHON" -c "$run" "" "$@"
    fi
    status=$?
    [ "$status" -ne 127 ] && exit "$status"
fi
if command -v @COMMAND@ >/dev/null 2>&1; then
    exec @COMMAND@ "$@"
fi
if command -v python3 >/dev/null 2>&1; then
    python3 -c "$run" "" "$@"
    status=$?
    [ "$status" -ne 127 ] && exit "$status"
fi
echo "@COMMAND@: hourly-hooks is not installed for ${INSTALL_PYTHON:-python3}, and no @COMMAND@ is on PATH." >&2
echo "  Reinstall it (pip install hourly-hooks && hourly install-hook), or commit with --no-verify." >&2
exit @MISSING_STATUS@
