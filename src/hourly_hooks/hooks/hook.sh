#!/bin/sh
### hourly-hooks @HOOK@ hook ###
# The @HOOK@ hook of hourly-hooks (https://pypi.org/project/hourly-hooks/):
# commit-msg checks clock-in / clock-out markers and writes them in canonical
# form; prepare-commit-msg notes for it whether git is amending; pre-commit
# refuses staged private keys and BTCPay secrets. Installed by
# `hourly install-hook` (or printed by `hourly install-hook --print`), removed
# by `hourly uninstall-hook`; bypass once with `git commit --no-verify`.
# Plain POSIX sh, for repositories without the pre-commit framework. Python
# starts only when something needs checking: an ordinary commit runs git and
# grep, not Python.
#@@ commit-msg pre-commit

# Filled in by `hourly install-hook`: the Python that has hourly-hooks, and
# the directory holding the package (so Python can start with -S: the hook
# needs nothing but the standard library, and skipping site-packages start-up
# makes every commit faster).
INSTALL_PYTHON=''
HOURLY_PATH=''
#@@
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
#@@ prepare-commit-msg

# git says where the message comes from ($2: message, template, merge, squash,
# commit; $3: the commit for `commit`) to this hook only. Left for the
# commit-msg check next to the message file, the note hourly-clock-source
# (hooks/entry.py) writes through pre-commit: source, revision, HEAD's commit
# as read from git's files (repository.read_head), the time. Never refuses:
# this hook runs even under --no-verify.
if [ $# -eq 1 ]; then
    source=${PRE_COMMIT_COMMIT_MSG_SOURCE:-} rev=${PRE_COMMIT_COMMIT_OBJECT_NAME:-}
else
    source=${2:-} rev=${3:-}
fi
case $1 in
    */*) git_dir=${1%/*}; git_dir=${git_dir:-/} ;;
    *) git_dir=. ;;
esac

is_sha() {
    case $1 in *[!0-9a-f]*|"") return 1 ;; esac
    [ ${#1} -eq 40 ] || [ ${#1} -eq 64 ]
}

# HEAD's commit, or "" where the files do not say (as repository.read_head).
read_head() {
    token='' head='' common=$git_dir value='' line=''
    IFS= read -r head <"$git_dir/HEAD" || [ -n "$head" ] || return 0
    if is_sha "$head"; then token=$head; return 0; fi
    case $head in "ref: refs/heads/"*) ;; *) return 0 ;; esac
    ref=${head#ref: }
    case /$ref/ in *//*|*/.*|*.lock/*|*\\*) return 0 ;; esac
    if [ -f "$git_dir/commondir" ]; then
        IFS= read -r common <"$git_dir/commondir" || [ -n "$common" ] || return 0
        case $common in /*) ;; *) common=$git_dir/$common ;; esac
    fi
    if [ -e "$common/$ref" ]; then
        IFS= read -r value <"$common/$ref" 2>/dev/null || [ -n "$value" ] || return 0
        is_sha "$value" && token=$value
        return 0
    fi
    [ -f "$common/packed-refs" ] || return 0
    while IFS= read -r line || [ -n "$line" ]; do
        if [ "${line#* }" = "$ref" ] && is_sha "${line%% *}"; then token=${line%% *}; return 0; fi
    done <"$common/packed-refs"
}

read_head 2>/dev/null
note=$git_dir/hourly-commit-source
[ -e "$note" ] && existed=1 || existed=''
now=$(date +%s)
{
    umask 077  # the commit-msg check trusts the note: 0600, whatever the umask
    printf '%s\n%s\n%s\n%s\n' "$source" "$rev" "$token" "$now" >"$note"
    [ -z "$existed" ] || chmod 600 "$note"
} 2>/dev/null
exit 0
#@@ commit-msg

# Python starts only when the message could hold a marker (or change one at
# autosquash): the test hooks/entry.py makes first, "clock" in any case or
# amend! / squash!. U+212A KELVIN SIGN is the one character beyond ASCII that
# Python lower-cases to one of these letters.
kelvin=$(printf '\342\204\252')
LC_ALL=C grep -q -i -F -e clock -e "cloc$kelvin" -e 'amend!' -e 'squash!' -- "$1" 2>/dev/null
[ $? -eq 1 ] && exit 0
#@@ pre-commit

# Python starts only when a staged file could hold a key or secret (the check
# in hooks/keycheck.py is the authority; this only skips it when it cannot
# find anything). git lists what is staged and greps those blobs for what every
# key form starts with or holds (PEM armour, OpenSSH, PuTTY, JSON Web Key, a
# UTF-16 byte-order mark, a DER SEQUENCE of a key's shape, a base64 run from
# "M"); a symbolic link, a quoted name, the BTCPay PEM file's name or a
# configured secret (compared by value, which only Python reads) start it too.
staged_might_hold_a_key() {
    staged=$(git -c core.quotePath=false diff --cached --raw --no-renames --no-abbrev --diff-filter=d \
        --ignore-submodules=all) || return 0
    tab='	'
    set --
    while IFS= read -r entry; do
        [ -n "$entry" ] || continue
        [ $# -lt 1000 ] || return 0  # many files: Python reads them in one pass anyway
        path=${entry#*"$tab"}
        case ${entry%%"$tab"*} in
            *" 160000 "*) continue ;;  # a submodule: no blob here
            *" 120000 "*) return 0 ;;  # a symbolic link: its target's name is what is committed
        esac
        case /$path in '/"'*|*/btcpayserver.pem) return 0 ;; esac
        set -- "$@" "$path"
    done <<EOF
$staged
EOF
    [ $# -gt 0 ] || return 1
    secret_configured && return 0
    # One pattern a line, matched in the C locale; bytes as printf's octal escapes.
    {
        printf 'PRIVATE KEY\nopenssh-key-v1\nb3BlbnNzaC1rZXktdjEA\nPuTTY-User-Key-File-\n"kty"\n'
        printf '^\377\376\n^\376\377\n'  # UTF-16's byte-order marks
        printf '^0[\201-\204]\n^0[\042-\177]\002\001\n^0[\042-\177]0[\013-\177]\006\n'  # DER keys' first bytes
        printf '(^|[^A-Za-z0-9+/])M[A-I][A-Za-z0-9+/]{14}\n'  # their base64
    } |
        LC_ALL=C git --literal-pathspecs grep --cached --no-recurse-submodules -q -a -E -f - -- "$@"
    [ $? -ne 1 ]
}

# Could a configuration layer set a BTCPay secret or key file (config.py reads
# the environment, the user file, this clone's file, .hourly.toml and pyproject.toml)?
secret_configured() {
    [ -n "${BTCPAYSERVER_API_KEY:-}${BTCPAYSERVER_MERCHANT:-}${BTCPAYSERVER_PEM:-}" ] && return 0
    [ -n "${XDG_CONFIG_HOME:-}${HOME:-}" ] || return 0
    if [ -d .git ] && [ ! -e .git/commondir ]; then
        common=.git
    else
        common=$(git rev-parse --git-common-dir) || return 0
    fi
    set --
    for file in "${XDG_CONFIG_HOME:-$HOME/.config}/hourly/config.toml" "$common/hourly/config.toml" \
        .hourly.toml pyproject.toml; do
        [ ! -e "$file" ] || set -- "$@" "$file"
    done
    [ $# -gt 0 ] || return 1
    # Any spelling of the keys (a TOML escape too: \u005f is "_").
    grep -q -E -e 'api_key|merchant_token|pem' -e '\\[uU]' -- "$@" 2>/dev/null
    [ $? -ne 1 ]
}

staged_might_hold_a_key || exit 0
#@@ commit-msg pre-commit

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
exit 1
