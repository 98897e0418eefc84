"""`docgen users add` and `docgen serve` as an authority runs them: separate processes, HTTPS with the
authority's certificate, a clean stop on SIGTERM, and clear refusals without a traceback."""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import re
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.support.browser import free_port

DOCGEN = [sys.executable, "-m", "docgen.entrypoints.cli"]
ROOT = Path(__file__).resolve().parents[2]


def _server_certificate(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 made now, for this test only."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                   .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
                   .not_valid_after(now + dt.timedelta(days=1))
                   .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
                   .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
                   .sign(key, hashes.SHA256()))
    cert_path, key_path = folder / "server.pem", folder / "server.key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def _run(args: list[str], env: dict[str, str], stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([*DOCGEN, *args], env=env, input=stdin, capture_output=True, text=True, timeout=120, cwd=ROOT)


def _wait_for_port(port: int, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"docgen serve stopped: {process.stderr.read() if process.stderr else ''}")
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise AssertionError("docgen serve did not start listening within 60 seconds")


def test_an_administrator_is_added_and_signs_in_over_https(tmp_path: Path) -> None:
    env = {**os.environ, "DOCGEN_DATABASE_URL": f"sqlite:///{tmp_path / 'docgen.sqlite3'}"}
    env.pop("DOCGEN_WEB_SECRET_KEY", None)
    added = _run(["users", "add", "a.rahman", "--name", "Aisha Rahman", "--role", "administrator", "--password-stdin",
                  "--actor", "installer"], env, stdin="a private first password\n")
    assert added.returncode == 0, added.stderr
    assert "Added administrator account a.rahman" in added.stdout

    short = _run(["users", "add", "b.lee", "--name", "B Lee", "--role", "chair", "--password-stdin"], env, stdin="short\n")
    assert short.returncode == 1 and "Traceback" not in short.stderr
    assert "professional id" in short.stderr or "at least 12 characters" in short.stderr

    no_secret = _run(["serve", "--port", str(free_port())], env)
    assert no_secret.returncode == 1 and "Traceback" not in no_secret.stderr
    assert "DOCGEN_WEB_SECRET_KEY" in no_secret.stderr

    certificate, key = _server_certificate(tmp_path)
    port = free_port()
    env["DOCGEN_WEB_SECRET_KEY"] = "a-secret-for-this-test-only-" + os.urandom(16).hex()
    process = subprocess.Popen([*DOCGEN, "serve", "--port", str(port), "--tls-certificate", str(certificate),
                                         "--tls-key", str(key)], env=env, cwd=tmp_path, text=True,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        _wait_for_port(port, process)
        context = ssl.create_default_context(cafile=str(certificate))
        jar = CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPSHandler(context=context),
                                             urllib.request.HTTPCookieProcessor(jar))
        base = f"https://127.0.0.1:{port}"
        page = opener.open(f"{base}/sign-in", timeout=30)
        assert page.headers["Strict-Transport-Security"].startswith("max-age=")
        assert any(cookie.name == "__Host-docgen" and cookie.secure for cookie in jar)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.read().decode()).group(1)  # type: ignore[union-attr]
        signed_in = opener.open(urllib.request.Request(
            f"{base}/sign-in", data=urllib.parse.urlencode({"username": "a.rahman", "password": "a private first password",
                                                            "csrf_token": token}).encode(),
            headers={"Referer": f"{base}/sign-in"}), timeout=30)
        assert signed_in.url.endswith("/admin/accounts")
        assert "a.rahman" in signed_in.read().decode()
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            code = process.wait(timeout=30)
        finally:
            process.kill()
    stderr = process.stderr.read() if process.stderr else ""
    assert code == 0, stderr
    assert "Traceback" not in stderr
