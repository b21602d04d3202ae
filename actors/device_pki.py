"""A small PKI for a drill: a CA, the service's TLS certificate, one client certificate per device.

Keys are EC P-256, certificates X.509 v3 signed by the drill's CA; every private key is written
owner-only (0600) in an owner-only folder (0700), and nothing is overwritten. A device's
certificate names the device id as its subject's common name, so the service can tell which
device presented it.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import os
from collections.abc import Iterable, Sequence
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from twin.errors import Conflict, ValidationError

CA, SERVER = "ca", "server"
DAYS = 30  # a drill's certificates expire with the drill


def _name(cn: str) -> x509.Name:
    """A subject with the drill's organisation and `cn`."""
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "myna-twin drill"),
                      x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _write(path: Path, data: bytes, mode: int) -> None:
    """Write a new file with `mode`; refuse to replace one."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    except FileExistsError:
        raise Conflict(f"{path} exists already; the device PKI never overwrites a file") from None
    with os.fdopen(fd, "wb") as f:
        f.write(data)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _cert(subject: str, key: ec.EllipticCurvePrivateKey, issuer: x509.Name,
          issuer_key: ec.EllipticCurvePrivateKey, now: dt.datetime, *, ca: bool = False,
          server_names: Sequence[str] = (), client: bool = False) -> x509.Certificate:
    """One certificate: the CA itself, the service's server certificate, or a device's."""
    b = (x509.CertificateBuilder().subject_name(_name(subject)).issuer_name(issuer)
         .public_key(key.public_key()).serial_number(x509.random_serial_number())
         .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=DAYS))
         .add_extension(x509.BasicConstraints(ca=ca, path_length=0 if ca else None), critical=True))
    if ca:
        b = b.add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False),
                            critical=True)
    else:
        b = b.add_extension(x509.KeyUsage(True, False, False, False, False, False, False, False, False),
                            critical=True)
        usage = ExtendedKeyUsageOID.CLIENT_AUTH if client else ExtendedKeyUsageOID.SERVER_AUTH
        b = b.add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
    if server_names:
        alt: list[x509.GeneralName] = []
        for n in server_names:
            try:
                alt.append(x509.IPAddress(ipaddress.ip_address(n)))
            except ValueError:
                alt.append(x509.DNSName(n))
        b = b.add_extension(x509.SubjectAlternativeName(alt), critical=False)
    return b.sign(issuer_key, hashes.SHA256())


def issue(folder: str | Path, devices: Iterable[str], hosts: Sequence[str] = ("localhost", "127.0.0.1"),
          now: dt.datetime | None = None) -> dict[str, dict[str, str]]:
    """Make the CA, the server certificate for `hosts` and one certificate per device in `folder`."""
    out = Path(folder).expanduser()
    ids = list(dict.fromkeys(devices))
    for d in ids:
        if not d or "/" in d or d in (CA, SERVER) or d.startswith("."):
            raise ValidationError(f"device id {d!r} cannot name a certificate file")
    taken = [out / f"{n}.{x}" for n in (CA, SERVER, *ids) for x in ("key", "pem")
             if (out / f"{n}.{x}").exists()]
    if taken:
        raise Conflict(f"{taken[0]} exists already; the device PKI never overwrites a file "
                       "(use a new --out folder)")
    out.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(out, 0o700)
    now = now or dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = _cert("myna-twin drill CA", ca_key, _name("myna-twin drill CA"), ca_key, now, ca=True)
    files: dict[str, dict[str, str]] = {}

    def save(name: str, key: ec.EllipticCurvePrivateKey, cert: x509.Certificate) -> None:
        _write(out / f"{name}.key", _key_pem(key), 0o600)
        _write(out / f"{name}.pem", cert.public_bytes(serialization.Encoding.PEM), 0o644)
        files[name] = {"cert": str(out / f"{name}.pem"), "key": str(out / f"{name}.key")}

    save(CA, ca_key, ca_cert)
    server_key = ec.generate_private_key(ec.SECP256R1())
    save(SERVER, server_key, _cert(hosts[0], server_key, ca_cert.subject, ca_key, now,
                                   server_names=hosts))
    for d in ids:
        key = ec.generate_private_key(ec.SECP256R1())
        save(d, key, _cert(d, key, ca_cert.subject, ca_key, now, client=True))
    return files


def device_ids_from(data: str | Path) -> list[str]:
    """Every device id in a service data folder's credentials.json."""
    path = Path(data).expanduser() / "credentials.json"
    if not path.is_file():
        raise ValidationError(f"{path.parent} has no credentials.json: give the --data folder of "
                              "`run.py serve` (after its first start)")
    return [d["device_id"] for d in json.loads(path.read_text())["devices"]]


def subject_device(cert: x509.Certificate) -> str:
    """The device id a device certificate names (its subject's common name)."""
    names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(names[0].value) if names else ""
