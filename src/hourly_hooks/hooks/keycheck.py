"""``hourly-protect-keys`` (pre-commit): refuse to commit a private key or a BTCPay secret.

A key is recognised by what it is, in every form a user may hold it in:
PEM armour (``-----BEGIN ... PRIVATE KEY-----``, PKCS#8 and OpenSSH
included), raw DER (SEC1 EC, PKCS#1 RSA, DSA, PKCS#8, encrypted PKCS#8,
PKCS#12), base64 of that DER without the armour (pasted into an .env file,
a JSON or YAML value, or as bare PEM body lines), the OpenSSH binary and
PuTTY formats, a private JSON Web Key, and any of these in UTF-16. DER is
told by its ASN.1 structure, read by hand here: the hook runs on every
commit and must not import a crypto library for it.
The BTCPay PEM file is recognised by name, and the configured merchant
token and API key by value.

Without file arguments (the plain git hook) the blobs in the index are read,
not the work tree: what is checked is what the commit will hold.

The plain hook (hook.sh) starts this check only when `git grep` finds in a
staged file what one of these forms starts with or holds: a form added here
needs its pattern there (tests/test_hook_startups.py holds every form to it).

Exit codes: 0 nothing found, 1 refused (names each file and how to unstage
it; nothing is unstaged or changed), 3 git could not answer.
"""

from __future__ import annotations

import binascii
import os
import re
import sys

from hourly_hooks.errors import GitError, HourlyError
from hourly_hooks.git.run import run_git

PROG_KEYS = "hourly-protect-keys"

# The armour line of a PEM private key: plain (PKCS#8), EC, RSA, DSA, OPENSSH, ENCRYPTED, PGP ... BLOCK
_BLOCK = re.compile(rb"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----")
_PUTTY = re.compile(rb"(?m)^PuTTY-User-Key-File-\d+:")
_JWK_PRIVATE = re.compile(rb'"d"\s*:\s*"[A-Za-z0-9_-]{16,}"')  # a JWK's private part (with "kty" beside it)
_OPENSSH_MAGIC = b"openssh-key-v1\0"
_OPENSSH_B64 = b"b3BlbnNzaC1rZXktdjEA"  # base64 of the magic: how every OpenSSH key body starts
# A run of base64 that may be a DER SEQUENCE (0x30 encodes as "M"): one token
# of at least 16 characters, continued over line breaks (PEM body lines,
# an indented YAML block, "\n" escapes in a JSON string). The lookbehind keeps
# it from starting inside a longer token; "KEY=MHQ..." still starts at "M".
_B64_RUN = re.compile(rb"(?<![A-Za-z0-9+/])M[A-Za-z0-9+/]{15,}(?:(?:\\n|\r?\n[ \t]*)[A-Za-z0-9+/]{4,})*={0,2}")
_B64_NOISE = re.compile(rb"\\n|\s")
_MIN_KEY_DER = 36  # bytes: a SEC1 EC key without its optional parts is 39; an Ed25519 PKCS#8 key 48

# ASN.1 tags
_INTEGER, _OCTETS, _OID, _SEQUENCE = 0x02, 0x04, 0x06, 0x30
# Password-based encryption OIDs (1.2.840.113549.1.5.x: PBES1/PBES2;
# 1.2.840.113549.1.12.1.x: PKCS#12 PBE): what an EncryptedPrivateKeyInfo is
# encrypted with. Requiring one keeps other SEQUENCE{AlgorithmIdentifier,
# OCTET STRING} shapes (a signature's DigestInfo) out.
_PBE_OIDS = (bytes.fromhex("2a864886f70d0105"), bytes.fromhex("2a864886f70d010c01"))
_PKCS7_DATA = bytes.fromhex("2a864886f70d010701")  # a PKCS#12 store's authSafe content type


def main(argv=None) -> int:
    """``hourly-protect-keys [FILE...]``: refuse to commit a private key or a BTCPay secret.

    pre-commit passes the staged files (its stash makes the work tree equal
    the index); run without files it reads the staged blobs from the index.
    """
    args = sys.argv[1:] if argv is None else list(argv)
    if args and args[0] in ("-h", "--help"):
        print(f"usage: {PROG_KEYS} [FILE...]\n\npre-commit hook: refuses staged private keys (PEM, DER, "
              "base64, PKCS#8, PKCS#12, OpenSSH, PuTTY), the BTCPay PEM file and files holding the "
              "BTCPay merchant token or API key.")
        return 0
    try:
        rules = KeyRules.configured()
        contents = _working_tree(args) if args else _staged()
        found = [(path, why) for path, data in contents for why in [rules.why(path, data)] if why]
    except HourlyError as error:
        print(f"{PROG_KEYS}: {error.message}", file=sys.stderr)
        if error.hint:
            print(error.hint, file=sys.stderr)
        return error.exit_code
    for path, why in found:
        print(f"{PROG_KEYS}: refusing to commit {path}: {why}.", file=sys.stderr)
    if found:
        print(_unstage_advice([path for path, _ in found]), file=sys.stderr)
        return 1
    return 0


class KeyRules:
    """What counts as a secret: keys by content, the PEM file by name, tokens by value."""

    def __init__(self, pem_names, secrets):
        self.pem_names = {name for name in pem_names if name}
        self.secrets = [(label, value.encode()) for label, value in secrets if value and len(value) >= 8]

    @classmethod
    def configured(cls) -> "KeyRules":
        """From every configuration layer that sets a BTCPay secret or key file: the
        environment, the user file, the clone-local file, and a repository file even
        when it is refused."""
        if not _secrets_may_be_configured():
            return cls(["btcpayserver.pem"], [])  # the configuration (tomllib, dataclasses) is not imported
        config = _configuration()
        pems = [str(pem) for pem in config.everywhere("btcpay.pem") if "-----BEGIN" not in str(pem)]
        pem_names = ["btcpayserver.pem"] + [os.path.basename(pem) for pem in pems]
        labels = (("btcpay.merchant_token", "the BTCPay merchant token (BTCPAYSERVER_MERCHANT)"),
                  ("btcpay.api_key", "the BTCPay API key (BTCPAYSERVER_API_KEY)"))
        secrets = [(label, str(value)) for key, label in labels for value in config.everywhere(key) if value]
        return cls(pem_names, secrets)

    def why(self, path: str, data: bytes):
        """The reason path must not be committed, or None."""
        key = private_key_in(data)
        if key:
            return f"it holds a private key ({key})"
        if os.path.basename(path) in self.pem_names:
            return "it is the BTCPay private key file"
        return next((f"it contains {label}" for label, value in self.secrets if value in data), None)


def private_key_in(data: bytes):
    """What private key data holds (e.g. "PKCS#8 DER"), or None."""
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        # UTF-16 with its BOM, as Windows PowerShell 5's `>` writes a copied key.
        try:
            data = data.decode("utf-16").encode("utf-8")
        except UnicodeDecodeError:
            pass
    match = _BLOCK.search(data)
    if match:
        return match.group().decode()
    if _OPENSSH_MAGIC in data or _OPENSSH_B64 in data:
        return "OpenSSH format"
    if _PUTTY.search(data):
        return "PuTTY format"
    if b'"kty"' in data and _JWK_PRIVATE.search(data):
        return "JSON Web Key"
    form = der_key_kind(data)
    if form:
        return form + " DER"
    if b"\0" in data[:8000]:
        return None  # binary, as git tells it: base64 is text (and the scan would cost the most here)
    for run in _B64_RUN.finditer(data):
        form = _base64_key_kind(run.group())
        if form:
            return form + " DER, base64"
    return None


def _base64_key_kind(text: bytes):
    """der_key_kind of a base64 run, or None when it is no key (or no base64)."""
    text = _B64_NOISE.sub(b"", text).rstrip(b"=")
    text = text[:len(text) - 1] if len(text) % 4 == 1 else text  # a stray character glued on
    text += b"=" * (-len(text) % 4)
    if len(text) * 3 // 4 < _MIN_KEY_DER:
        return None
    try:
        der = binascii.a2b_base64(text)
    except binascii.Error:
        return None
    return der_key_kind(der, exact=False)


def der_key_kind(data: bytes, exact: bool = True):
    """The kind of private key a DER blob is ("EC (SEC1)", "PKCS#8"...), or None.

    exact: the SEQUENCE must be the whole blob (a file); otherwise it may be
    followed by anything (a decoded base64 run that went on past the key).
    """
    if len(data) < _MIN_KEY_DER or data[0] != _SEQUENCE:
        return None
    outer = _tlv(data, 0)
    if outer is None or (exact and outer[2] != len(data)):
        return None
    items = _items(data, outer[1], outer[2])
    if not items:
        return None
    tags = [tag for tag, _, _ in items]
    first = data[items[0][1]:items[0][2]]
    if tags[0] == _INTEGER:
        if first == b"\x01" and len(items) <= 4 and tags[1:2] == [_OCTETS] and set(tags[2:]) <= {0xA0, 0xA1}:
            return "EC (SEC1)"
        if first in (b"\x00", b"\x01") and 3 <= len(items) <= 5 and tags[1:3] == [_SEQUENCE, _OCTETS] \
                and _starts_with_oid(data, items[1]):
            return "PKCS#8"
        if first == b"\x00" and len(items) in (6, 9) and set(tags) == {_INTEGER}:
            return "RSA (PKCS#1)" if len(items) == 9 else "DSA"
        if first == b"\x03" and tags[1:2] == [_SEQUENCE] and _starts_with_oid(data, items[1], (_PKCS7_DATA,)):
            return "PKCS#12 key store"
    if tags == [_SEQUENCE, _OCTETS] and _starts_with_oid(data, items[0], _PBE_OIDS):
        return "encrypted PKCS#8"
    return None


def _tlv(data: bytes, at: int):
    """(tag, content start, content end) of the DER element at `at`, or None if it is not one."""
    if at + 2 > len(data):
        return None
    tag, size = data[at], data[at + 1]
    start = at + 2
    if size & 0x80:
        count = size & 0x7F
        if not 1 <= count <= 4 or start + count > len(data):
            return None  # indefinite (BER) or absurd lengths: not DER
        size = int.from_bytes(data[start:start + count], "big")
        start += count
    end = start + size
    return (tag, start, end) if end <= len(data) else None


def _items(data: bytes, start: int, end: int, limit: int = 12) -> list:
    """The elements that exactly fill data[start:end], or [] when they do not."""
    items: list = []
    while start < end:
        item = _tlv(data, start)
        if item is None or item[2] > end or len(items) == limit:
            return []
        items.append(item)
        start = item[2]
    return items


def _starts_with_oid(data: bytes, item: tuple, prefixes=(b"",)) -> bool:
    """item is a SEQUENCE whose first element is an OID starting with one of prefixes."""
    inner = _tlv(data, item[1]) if item[0] == _SEQUENCE else None
    return inner is not None and inner[0] == _OID and inner[2] <= item[2] \
        and data[inner[1]:inner[2]].startswith(tuple(prefixes))


# What could set a secret or key file (config/keys.py: btcpay.api_key, btcpay.merchant_token,
# btcpay.pem): their variables, and their names in any TOML spelling (an escape, \u005f, too).
_SECRET_VARIABLES = ("BTCPAYSERVER_API_KEY", "BTCPAYSERVER_MERCHANT", "BTCPAYSERVER_PEM")
_SECRET_WORDS = (b"api_key", b"merchant_token", b"pem", b"\\u", b"\\U")


def _secrets_may_be_configured() -> bool:
    """False only when no layer can set one: no variable, and no configuration file
    (config/reading.py's four) mentions a secret key. The hook's sh makes the same test."""
    if any(os.environ.get(name) for name in _SECRET_VARIABLES):
        return True
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    files = [os.path.join(base, "hourly", "config.toml"), ".hourly.toml", "pyproject.toml"]
    from hourly_hooks.git.repository import common_dir_of, git_dir_of
    try:
        git_dir = git_dir_of(".")
        if git_dir is not None:
            files.append(os.path.join(common_dir_of(git_dir), "hourly", "config.toml"))
        for path in files:
            if os.path.exists(path):
                with open(path, "rb") as handle:
                    text = handle.read()
                if any(word in text for word in _SECRET_WORDS):
                    return True
    except OSError:
        return True  # unreadable: the configuration reports it, leniently
    return False


def _configuration():
    """The resolved configuration, leniently: a broken file is reported by the
    command that needs it, and must not stop this hook from using the rest."""
    from pathlib import Path

    from hourly_hooks import config
    return config.resolve(Path("."), strict=False, checks=False)


def _working_tree(paths) -> list:
    """(path, bytes) of the files pre-commit passes; a symbolic link is its target's
    name, as git stores it (the file it points to is not what is committed)."""
    contents = []
    for path in paths:
        try:
            if os.path.islink(path):
                contents.append((path, os.fsencode(os.readlink(path))))
                continue
            with open(path, "rb") as handle:
                contents.append((path, handle.read()))
        except (IsADirectoryError, FileNotFoundError):
            continue  # a deletion or a submodule: nothing is added
        except OSError as error:
            raise GitError(f"cannot read {path}: {error.strerror}") from None
    return contents


def _staged() -> list:
    """(path, staged bytes) of every file the commit adds or changes, from the index.

    Every change but a deletion (`--diff-filter=d`): additions, modifications,
    a type change (a symbolic link replaced by a file: T), and without rename
    detection a rename or copy is the new path added. Submodules (mode 160000)
    hold no blob here. The blobs are read in one `git cat-file --batch`.
    """
    code, out, err = run_git(["diff", "--cached", "--raw", "-z", "--no-renames", "--no-abbrev",
                              "--diff-filter=d", "--ignore-submodules=all"])
    if code != 0:
        raise GitError("cannot list the staged files: " + err.decode("utf-8", "replace").strip())
    fields = out.split(b"\0")
    entries = []  # (path, blob id)
    for at in range(0, len(fields) - 1, 2):
        meta = fields[at].split()
        if len(meta) >= 4 and meta[1] != b"160000":
            entries.append((os.fsdecode(fields[at + 1]), meta[3].decode("ascii")))
    return list(zip([path for path, _ in entries], _blobs([blob for _, blob in entries])))


def _blobs(ids: list) -> list:
    """The contents of the blobs ids, in order, from one `git cat-file --batch`."""
    if not ids:
        return []
    code, out, err = run_git(["cat-file", "--batch"], input="".join(i + "\n" for i in ids).encode("ascii"))
    if code != 0:
        raise GitError("cannot read the staged files: " + err.decode("utf-8", "replace").strip())
    blobs, at = [], 0
    for _ in ids:
        header_end = out.index(b"\n", at)
        header = out[at:header_end].split()
        size = int(header[2]) if len(header) == 3 else 0  # "<id> missing": nothing to read
        blobs.append(out[header_end + 1:header_end + 1 + size])
        at = header_end + 1 + size + (1 if len(header) == 3 else 0)
    return blobs


def _unstage_advice(paths) -> str:
    lines = ["Unstage it and keep it out of git (your file stays as it is):"]
    for path in paths:
        lines += [f"    git restore --staged -- '{path}'    (or: git rm --cached -- '{path}')",
                  f"    echo '/{path}' >> .gitignore"]
    lines.append("If it was ever pushed, treat it as leaked: revoke it on your BTCPay Server and make a new one.")
    return "\n".join(lines)
