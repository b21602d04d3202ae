"""How a reader checks what COMPUTE DIGITAL SIGNATURE returned for DigestInfo(SHA-256(message)).

RSA (the real card): PKCS#1 v1.5 over the DigestInfo, i.e. an ordinary SHA256withRSA
signature of the message. P-256 (the twin's faster choice): ECDSA over the digest inside,
i.e. an ordinary SHA-256 ECDSA signature of the message. An Ed25519 card cannot sign a
digest made outside it, so an authority of that kind cannot serve the APDU path.
"""

from __future__ import annotations

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa


def verify_card_signature(public: object, signature: bytes, message: bytes) -> bool:
    """Whether `signature` is a card's signature over DigestInfo(SHA-256(`message`))."""
    try:
        if isinstance(public, rsa.RSAPublicKey):
            public.verify(signature, message, padding.PKCS1v15(), hashes.SHA256())
        elif isinstance(public, ec.EllipticCurvePublicKey):
            public.verify(signature, message, ec.ECDSA(hashes.SHA256()))
        else:
            return False
    except InvalidSignature:
        return False
    return True
