"""hourly-protect-keys against the ways a key slipped past it: a type change, keys
in DER / base64 / PKCS#8 / OpenSSH / PKCS#12 form, the configured secrets from
every place the user keeps them; and ordinary binary and base64 files that must
pass. Real `git commit` through the plain hooks (`hourly install-hook`) and
through the real pre-commit framework.

The keys are throwaway test keys made with openssl / ssh-keygen for these tests.
"""

from __future__ import annotations

import base64
import io
import os
import random
import struct
import zipfile
import zlib

import pytest

from hook_helpers import HookedRepo, at, install_plain_hooks
from test_precommit import configured, configured_template, hook_source  # noqa: F401 (pytest fixtures)

EC_PEM = ("-----BEGIN EC PRIVATE KEY-----\n"
          "MHQCAQEEICdMoFN3FSZR2fYlUdo1QdHavK0bhm7BnMZdNtlrGxGUoAcGBSuBBAAK\n"
          "oUQDQgAEnw60p45Hb2gBn7e2y+hgQHb3IF4cq8fX99HRnGvv+Sg42aKadyN2jILR\n"
          "9Rm5InYt6DqccDHfaY6D2l0DX4ihVg==\n"
          "-----END EC PRIVATE KEY-----\n")
PKCS8_PEM = ("-----BEGIN PRIVATE KEY-----\n"
             "MIGEAgEAMBAGByqGSM49AgEGBSuBBAAKBG0wawIBAQQgJ0ygU3cVJlHZ9iVR2jVB\n"
             "0dq8rRuGbsGcxl022WsbEZShRANCAASfDrSnjkdvaAGft7bL6GBAdvcgXhyrx9f3\n"
             "0dGca+/5KDjZopp3I3aMgtH1Gbkidi3oOpxwMd9pjoPaXQNfiKFW\n"
             "-----END PRIVATE KEY-----\n")
ENCRYPTED_PEM = ("-----BEGIN ENCRYPTED PRIVATE KEY-----\n"
                 "MIHsMFcGCSqGSIb3DQEFDTBKMCkGCSqGSIb3DQEFDDAcBAg6gWl46cZasAICCAAw\n"
                 "DAYIKoZIhvcNAgkFADAdBglghkgBZQMEASoEEPt7cnSidFovghtGuJSe4A8EgZAe\n"
                 "6btKxuUSUWQlPihsR0yyJGARjwM15rujv8pxxt+mZlfzSZsxYoJfpmG4DDSCz+Dz\n"
                 "lwO4I80EopusScQq2XXQmkHXN2egGl7tGoQyGdVMJ/rgfTAidl9rPeqQ26Rjz9sC\n"
                 "pLooC+XgUtFOIFgcuoGsGDB1WMcAo6I1HmFLWMhMuDggFO7tNkz+24Xzy2GSDOM=\n"
                 "-----END ENCRYPTED PRIVATE KEY-----\n")
ED25519_PEM = ("-----BEGIN PRIVATE KEY-----\n"
               "MC4CAQAwBQYDK2VwBCIEIMmlPSmDRFZQQ2renZ688gYnHh7xRQ6KYFQdMbGJM/dF\n"
               "-----END PRIVATE KEY-----\n")
RSA_PEM = ("-----BEGIN RSA PRIVATE KEY-----\n"
           "MIICXAIBAAKBgQCeCiXGgvi7uOGGy1BTZwEQp6NFnURs5OsyPU/hMRdzS9JaQjC2\n"
           "ILzXuScNLDWr6cQLk4Q4T+j5AeAOx4HwndoZmJLSxPBNHWBDfVO0fKV9Ho4Jl0fM\n"
           "zNUb3SDoA2u433mb/CVorG9uMdk1BbLFtfklbNQIk3hPJ0HoZaSrOMHmowIDAQAB\n"
           "AoGARFJGumbseNsYRFmoxCWHhFe0cefnKNxeAT4YRlYeuS1SJsrunA3TFb9pbnxq\n"
           "R4OryQVg56dEJEH3Ruxg9FCJdFE+1g9QzIOAGZMvE3vFZY8Dz4draVbvPxogq8ub\n"
           "zB/ZicVjLxss8WtSFBJRW8WcAV9b7FEoYZtXgavU7kInrkECQQDRf9htfuYR1YDa\n"
           "95uSOAGSZ/ibAgEgPm02L4gt5IqWp+B1vArMW524BOm7WzRU3mgeVmqp4lU+oCvJ\n"
           "PJ2ctdE5AkEAwR5CwKEKVf2mFnsetYGsqXK9EZIDmiaDMirS+5cWCSgZbxc+4SlH\n"
           "IW2nYP2gIosLasdjK6YSKcBN8owtWeyiuwJBAM+gS6ehB3UPSug4U4djWDN4NYuy\n"
           "Pdlt5SC5lNYe1TcgY7VrSqxj8/inbdnQNxoRXdELRiTd+ivZ4+tJ1s6z5wkCQBc2\n"
           "EOXgNULSotTO5YkBVgRj0w+6kg5EFL7B4Ov2Y+Kj3DK7A4bClFcTO+vvcADW339t\n"
           "CaFka4hzIatGZ+kIBSMCQCwRFHbfZfSDn5roTWRh25cuWbNWR3KQLzGE5HXV46mo\n"
           "Zb3WtTY0R9ch9ln99ZJ1k+e2QYgR/V401vBjYIuDhlM=\n"
           "-----END RSA PRIVATE KEY-----\n")
OPENSSH_PEM = ("-----BEGIN OPENSSH PRIVATE KEY-----\n"
               "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n"
               "QyNTUxOQAAACChjmp12AmhMxs0JpNMi50QnwE+54iuyVNpYRJQHVdO3AAAAIiMLdfkjC3X\n"
               "5AAAAAtzc2gtZWQyNTUxOQAAACChjmp12AmhMxs0JpNMi50QnwE+54iuyVNpYRJQHVdO3A\n"
               "AAAEBBFVPtOzGnqmF4q8hzfRtYwfUskxwUAlPDctC0jgFmkaGOanXYCaEzGzQmk0yLnRCf\n"
               "AT7niK7JU2lhElAdV07cAAAAAXQBAgME\n"
               "-----END OPENSSH PRIVATE KEY-----\n")
# A PKCS#12 store holding the EC key (openssl pkcs12 -export -nocerts), and a
# self-signed certificate: a key store must be refused, a certificate not.
P12_B64 = ("MIIBfgIBAzCCATQGCSqGSIb3DQEHAaCCASUEggEhMIIBHTCCARkGCSqGSIb3DQEHAaCCAQoEggEGMIIBAjCB/wYLKoZIhvcN"
           "AQwKAQKgge8wgewwVwYJKoZIhvcNAQUNMEowKQYJKoZIhvcNAQUMMBwECHOGwgLirgXmAgIIADAMBggqhkiG9w0CCQUAMB0G"
           "CWCGSAFlAwQBKgQQOslEfCtJ+uzm9CYRPfZ7KASBkBoDVNt1/Cu8DH+QqEg4LEuorBrqk0o+TXrlOvx4I735xsVapdoo4irg"
           "XkyRzEtAAg1SDnrIwLeoVKUxIa3iD34RJ7XFDRQcCUvIYxDt3eSMxzTjnrVVaNUHTBGW+k69XU2dIOILM5xihsyMXa4vmNYJ"
           "S+tcxrvYfhU+voJ01M3VY9kNGQlA9UMjky5FqpK2BTBBMDEwDQYJYIZIAWUDBAIBBQAEIKmtKtPXYlnDScExmVj+NnnpRWWf"
           "7HKxHHiWqJdckZjqBAjcCW/Vc/ixkAICCAA=")
CERT_B64 = ("MIIBbjCCAROgAwIBAgIUVibDe/Jwv0W+JJFlXDfaVyHmBFkwCgYIKoZIzj0EAwIwDDEKMAgGA1UEAwwBeDAeFw0yNjEyMDcx"
            "NjExMThaFw0yNzAxMDYxNjExMThaMAwxCjAIBgNVBAMMAXgwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAATXNDcoL7/bKkeN"
            "nMGrQzceUBgkIKsnZALCX7kPt0oP+NWbxqNnvq0pgLAzv0OzLZPqrwllv8z1vY8ZWFl0OX3Zo1MwUTAdBgNVHQ4EFgQUsqCS"
            "Dvo6poBpWybTPSmWE69DeQwwHwYDVR0jBBgwFoAUsqCSDvo6poBpWybTPSmWE69DeQwwDwYDVR0TAQH/BAUwAwEB/zAKBggq"
            "hkjOPQQDAgNJADBGAiEA1jKUV54pzX0Zy63tpqPOeQgpTedOEv/9TNnuT7z68AwCIQCbBqZTM+ZFzNl4hyMo0QK8DyMGlOPx"
            "ifGP1S+wbYfu1w==")
API_KEY = "4f1c2e8a9b7d6c5e4f3a2b1c0d9e8f7a6b5c4d3e"
MERCHANT = "8mQt5bXkX3sYwJ9qLrV2nD7cA1fE4gH6"


def body(pem: str) -> str:
    """The base64 lines of a PEM file, without its armour."""
    return "".join(line + "\n" for line in pem.splitlines() if not line.startswith("-----"))


def der(pem: str) -> bytes:
    return base64.b64decode(body(pem))


# What is staged -> the reason the hook must give.
KEY_FORMS = {
    "EC key, DER": (der(EC_PEM), "it holds a private key (EC (SEC1) DER)"),
    "PKCS#8, DER": (der(PKCS8_PEM), "it holds a private key (PKCS#8 DER)"),
    "Ed25519 PKCS#8, DER": (der(ED25519_PEM), "it holds a private key (PKCS#8 DER)"),
    "encrypted PKCS#8, DER": (der(ENCRYPTED_PEM), "it holds a private key (encrypted PKCS#8 DER)"),
    "RSA, DER": (der(RSA_PEM), "it holds a private key (RSA (PKCS#1) DER)"),
    "PKCS#12": (base64.b64decode(P12_B64), "it holds a private key (PKCS#12 key store DER)"),
    "OpenSSH, binary": (der(OPENSSH_PEM), "it holds a private key (OpenSSH format)"),
    "PKCS#8, armoured": (PKCS8_PEM.encode(), "it holds a private key (-----BEGIN PRIVATE KEY-----)"),
    "encrypted, armoured": (ENCRYPTED_PEM.encode(), "-----BEGIN ENCRYPTED PRIVATE KEY-----"),
    "OpenSSH, armoured": (OPENSSH_PEM.encode(), "-----BEGIN OPENSSH PRIVATE KEY-----"),
    "EC key, bare PEM body": (body(EC_PEM).encode(), "it holds a private key (EC (SEC1) DER, base64)"),
    "RSA, one line in .env": (("KEY=" + body(RSA_PEM).replace("\n", "") + "\n").encode(),
                              "it holds a private key (RSA (PKCS#1) DER, base64)"),
    "PKCS#8 in a JSON string": (('{"key": "' + body(PKCS8_PEM).replace("\n", "\\n") + '"}\n').encode(),
                                "it holds a private key (PKCS#8 DER, base64)"),
    "encrypted, YAML block": (("key: |\n  " + body(ENCRYPTED_PEM).replace("\n", "\n  ") + "\nname: x\n").encode(),
                              "it holds a private key (encrypted PKCS#8 DER, base64)"),
    "OpenSSH body, base64": (body(OPENSSH_PEM).encode(), "it holds a private key (OpenSSH format)"),
    "PKCS#8, UTF-16 (PowerShell's >)": (PKCS8_PEM.encode("utf-16"), "-----BEGIN PRIVATE KEY-----"),
    "JSON Web Key": (b'{"kty": "EC", "crv": "P-256", "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",\n'
                     b' "d": "870MB6gfuTJ4HtUnUvYMyJpr5eUZNP4Bk43bVdj3eAE"}\n', "it holds a private key (JSON Web Key)"),
}


def png() -> bytes:
    """A real 4x4 PNG, written by hand."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    raw = b"".join(b"\0" + bytes(range(12)) for _ in range(4))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 4, 4, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def zipped() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("a.txt", "hello " * 100)
        archive.writestr("b.bin", bytes(random.Random(3).getrandbits(8) for _ in range(4000)))
    return out.getvalue()


def random_bytes(seed: int, size: int) -> bytes:
    return bytes(random.Random(seed).getrandbits(8) for _ in range(size))


ORDINARY = {
    "logo.png": png(),
    "bundle.zip": zipped(),
    "blob.bin": random_bytes(1, 20000),
    "starts-like-der.bin": b"\x30\x82\x01\x00" + random_bytes(2, 400),
    "data.b64": base64.encodebytes(random_bytes(4, 3000)),
    "der-like.b64": base64.encodebytes(b"\x30\x82\x01\x00" + random_bytes(5, 600)),
    "text.b64": base64.encodebytes(("Meeting notes " * 200).encode()),
    "cert.der": base64.b64decode(CERT_B64),
    "cert.pem": ("-----BEGIN CERTIFICATE-----\n" + CERT_B64 + "\n-----END CERTIFICATE-----\n").encode(),
    "public.jwk": b'{"kty": "EC", "crv": "P-256", "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU"}\n',
    "notes-utf16.txt": "Meeting notes, nothing secret\n".encode("utf-16"),
    "README.md": b"Keep `-----BEGIN` blocks out; base64 looks like MHQCAQEEICdMoFN3 but this is prose.\n",
}


def stage(repo: HookedRepo, files: dict) -> None:
    for name, data in files.items():
        target = repo.path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        repo.git("add", "--", name)


def commit(repo: HookedRepo, env=None):
    return repo.try_commit("add files", when=at("09:00"), env=env)


@pytest.fixture
def plain(tmp_path) -> HookedRepo:
    """A repository with the plain hooks of `hourly install-hook`."""
    return install_plain_hooks(HookedRepo(tmp_path / "work"))


def assert_refused(repo: HookedRepo, done, name: str, reason: str, staged: bytes) -> None:
    output = done.stdout + done.stderr
    assert done.returncode == 1, output
    assert f"refusing to commit {name}: " in output and reason in output
    assert f"git restore --staged -- '{name}'" in output
    # Nothing was lost or unstaged: the index still holds exactly what was staged.
    assert name in repo.git("diff", "--cached", "--name-only")
    assert _blob(repo, name) == staged


def _blob(repo: HookedRepo, name: str) -> bytes:
    import subprocess
    return subprocess.run(["git", "cat-file", "blob", f":{name}"], cwd=repo.path, env=repo.env,
                          capture_output=True, check=True).stdout


# ------------------------------------------------------------ key forms, plain hook

@pytest.mark.parametrize("form", sorted(KEY_FORMS))
def test_every_key_form_is_refused_under_an_innocuous_name(plain, form):
    data, reason = KEY_FORMS[form]
    stage(plain, {"docs/notes.txt": data})
    assert_refused(plain, commit(plain), "docs/notes.txt", reason, data)
    assert _blob(plain, "docs/notes.txt") == data


def test_ordinary_binary_and_base64_files_pass(plain):
    stage(plain, ORDINARY)
    done = commit(plain)
    assert done.returncode == 0, done.stdout + done.stderr
    assert sorted(plain.git("ls-files").split()) == sorted(ORDINARY)


# ------------------------------------------------------------ what is staged, and how

def test_a_symlink_replaced_by_the_pem_is_refused(plain):
    os.symlink("/etc/hostname", plain.path / "deploy.conf")
    plain.git("add", "deploy.conf")
    done = commit(plain)
    assert done.returncode == 0, done.stderr  # a link is its target's name: nothing secret
    (plain.path / "deploy.conf").unlink()
    (plain.path / "deploy.conf").write_text(EC_PEM)
    plain.git("add", "deploy.conf")
    assert plain.git("diff", "--cached", "--name-status").split()[0] == "T"  # git calls it a type change
    assert_refused(plain, commit(plain), "deploy.conf", "holds a private key", EC_PEM.encode())


def test_the_index_is_checked_not_the_work_tree(plain):
    stage(plain, {"k.txt": der(EC_PEM)})
    (plain.path / "k.txt").write_text("harmless in the work tree; the key is what is staged\n")
    assert_refused(plain, commit(plain), "k.txt", "EC (SEC1) DER", der(EC_PEM))
    plain.git("reset", "-q", "--", "k.txt")
    stage(plain, {"k.txt": b"harmless\n"})
    (plain.path / "k.txt").write_bytes(der(EC_PEM))  # a key in the work tree only is not committed
    done = commit(plain)
    assert done.returncode == 0, done.stderr


def test_a_rename_and_a_copy_of_a_key_are_refused(plain):
    plain.try_commit("key slipped in", when=at("08:00"), files={"old.txt": body(EC_PEM)}, args=("--no-verify",))
    plain.git("mv", "old.txt", "renamed.txt")
    assert_refused(plain, commit(plain), "renamed.txt", "EC (SEC1) DER, base64", body(EC_PEM).encode())
    plain.git("mv", "renamed.txt", "old.txt")
    (plain.path / "copy.txt").write_text(body(EC_PEM))
    plain.git("add", "copy.txt")
    assert_refused(plain, commit(plain), "copy.txt", "EC (SEC1) DER, base64", body(EC_PEM).encode())


def test_commit_a_and_commit_with_paths_are_checked(plain):
    plain.try_commit("start", when=at("08:00"), files={"app.cfg": "x = 1\n"})
    (plain.path / "app.cfg").write_bytes(der(PKCS8_PEM))
    done = plain.try_commit("edit", when=at("09:00"), args=("-a",))
    assert done.returncode == 1 and "refusing to commit app.cfg" in done.stderr
    done = plain.try_commit("edit", when=at("09:00"), args=("app.cfg",))  # git commit PATH: a temporary index
    assert done.returncode == 1 and "refusing to commit app.cfg" in done.stderr


def test_a_submodule_and_a_deletion_pass(plain, tmp_path):
    plain.try_commit("key slipped in", when=at("08:00"), files={"k.der": "x"}, args=("--no-verify",))
    (plain.path / "k.der").write_bytes(der(EC_PEM))
    plain.git("add", "k.der")
    plain.try_commit("worse", when=at("08:01"), args=("--no-verify",))
    plain.git("rm", "-q", "k.der")
    sub = HookedRepo(tmp_path / "sub")
    sub.commit("s", at("08:00"))
    plain.git("-c", "protocol.file.allow=always", "submodule", "add", "-q", str(sub.path), "vendored")
    done = commit(plain)
    assert done.returncode == 0, done.stdout + done.stderr


# ------------------------------------------------------------ the configured secrets

def test_secrets_from_the_clone_local_file_and_the_environment(plain):
    local = plain.git_dir() / "hourly" / "config.toml"
    local.parent.mkdir(parents=True, exist_ok=True)
    local.write_text(f'[btcpay]\napi_key = "{API_KEY}"\n')
    stage(plain, {"deploy/ci.yml": f"env:\n  KEY: {API_KEY}\n".encode()})
    done = commit(plain)
    assert_refused(plain, done, "deploy/ci.yml", "it contains the BTCPay API key", f"env:\n  KEY: {API_KEY}\n".encode())
    assert API_KEY not in done.stdout + done.stderr
    plain.git("reset", "-q")
    stage(plain, {"notes/token.txt": f"token {MERCHANT}\n".encode()})
    done = commit(plain, env={"BTCPAYSERVER_MERCHANT": MERCHANT})
    assert "refusing to commit notes/token.txt: it contains the BTCPay merchant token" in done.stderr
    assert MERCHANT not in done.stdout + done.stderr
    assert commit(plain).returncode == 0  # without the token configured it is just text


def test_a_secret_from_the_user_file(plain, isolated):
    user = isolated / ".config" / "hourly" / "config.toml"
    user.parent.mkdir(parents=True, exist_ok=True)
    user.write_text(f'[btcpay]\nmerchant_token = "{MERCHANT}"\n')
    stage(plain, {"a.env": f"T={MERCHANT}\n".encode()})
    done = commit(plain, env={"HOME": str(isolated), "XDG_CONFIG_HOME": str(isolated / ".config")})
    assert "refusing to commit a.env: it contains the BTCPay merchant token" in done.stderr, done.stderr
    assert MERCHANT not in done.stdout + done.stderr


# ------------------------------------------------------------ through the pre-commit framework

@pytest.mark.parametrize("form", ["EC key, DER", "encrypted PKCS#8, DER", "RSA, one line in .env",
                                  "OpenSSH, binary"])
def test_pre_commit_refuses_the_key_forms(configured, form):  # noqa: F811
    data, reason = KEY_FORMS[form]
    stage(configured, {"assets/data.bin": data})
    done = commit(configured)
    output = done.stdout + done.stderr
    assert done.returncode == 1, output
    assert f"refusing to commit assets/data.bin: {reason}" in output
    assert _blob(configured, "assets/data.bin") == data


def test_pre_commit_lets_ordinary_files_through(configured):  # noqa: F811
    stage(configured, ORDINARY)
    done = commit(configured)
    assert done.returncode == 0, done.stdout + done.stderr


def test_pre_commit_refuses_a_symlink_replaced_by_a_key(configured):  # noqa: F811
    os.symlink("/etc/hostname", configured.path / "deploy.conf")
    configured.git("add", "deploy.conf")
    assert commit(configured).returncode == 0
    (configured.path / "deploy.conf").unlink()
    (configured.path / "deploy.conf").write_bytes(der(EC_PEM))
    configured.git("add", "deploy.conf")
    done = commit(configured)
    assert done.returncode == 1 and "refusing to commit deploy.conf" in done.stdout + done.stderr
