"""Self-signed TLS certificates for loopback test servers (openssl, as installed on the machine)."""

from __future__ import annotations

import ipaddress
import subprocess
from pathlib import Path


def self_signed_certificate(folder: Path, name: str) -> tuple[Path, Path]:
    """A certificate valid for `name` only (a DNS name or an IP address), and its key."""
    try:
        ipaddress.ip_address(name)
        alternative = f"IP:{name}"
    except ValueError:
        alternative = f"DNS:{name}"
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", f"/CN={name}",
         "-addext", f"subjectAltName={alternative}", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )
    return cert, key
