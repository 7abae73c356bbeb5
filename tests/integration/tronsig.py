"""TRON signatures for the tests, independent of the daemon's C++ code: Keccak-256 from Debian's
python3-pycryptodome, secp256k1 from python3-ecdsa. Checked against ../shared vectors in
test_payments.py before the tests rely on it."""
import hashlib

import ecdsa
from Cryptodome.Hash import keccak
from ecdsa.util import sigdecode_string, sigencode_string

B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
N = ecdsa.SECP256k1.order


def keccak256(b):
    return keccak.new(digest_bits=256, data=b).digest()


def b58encode_check(raw):
    raw = raw + hashlib.sha256(hashlib.sha256(raw).digest()).digest()[:4]
    n = int.from_bytes(raw, "big")
    out = ""
    while n:
        n, r = divmod(n, 58)
        out = B58[r] + out
    return "1" * (len(raw) - len(raw.lstrip(b"\0"))) + out


def b58decode_check(s):
    n = 0
    for c in s:
        n = n * 58 + B58.index(c)
    raw = n.to_bytes(25, "big")
    assert hashlib.sha256(hashlib.sha256(raw[:21]).digest()).digest()[:4] == raw[21:], "checksum"
    return raw[:21]


def address_of(vk):
    return b"\x41" + keccak256(vk.to_string())[12:]


class Key:
    def __init__(self, secret=None):
        self.sk = (ecdsa.SigningKey.from_string(secret, curve=ecdsa.SECP256k1) if secret
                   else ecdsa.SigningKey.generate(curve=ecdsa.SECP256k1))
        self.addr21 = address_of(self.sk.get_verifying_key())
        self.base58 = b58encode_check(self.addr21)

    def sign_digest(self, digest):
        """r || s || v with low s and v = 27 + recovery id."""
        sig = self.sk.sign_digest_deterministic(digest, hashfunc=hashlib.sha256,
                                                sigencode=sigencode_string)
        r, s = sigdecode_string(sig, N)
        if s > N // 2:
            s = N - s
        rs = r.to_bytes(32, "big") + s.to_bytes(32, "big")
        for v in (27, 28):
            if recover(digest, rs + bytes([v])) == self.addr21:
                return rs + bytes([v])
        raise AssertionError("no recovery id")


def recover(digest, sig):
    if len(sig) != 65 or sig[64] not in (27, 28):
        return None
    keys = ecdsa.VerifyingKey.from_public_key_recovery_with_digest(
        sig[:64], digest, ecdsa.SECP256k1, sigdecode=sigdecode_string)
    return address_of(keys[sig[64] - 27]) if len(keys) > sig[64] - 27 else None


def message_digest(msg):
    """TIP-104 (signMessageV2)."""
    return keccak256(b"\x19TRON Signed Message:\n" + str(len(msg)).encode() + msg)


def word(addr21_or_int):
    if isinstance(addr21_or_int, bytes):
        return bytes(12) + addr21_or_int[1:]
    return addr21_or_int.to_bytes(32, "big")


def claim_digest(payer21, beneficiary21, cumulative, chain_id, hub21):
    """TIP-712 Claim(address payer,address beneficiary,uint256 cumulative), SeedboxClaimHub v1."""
    domain_type = keccak256(b"EIP712Domain(string name,string version,uint256 chainId,"
                            b"address verifyingContract)")
    domain = keccak256(domain_type + keccak256(b"SeedboxClaimHub") + keccak256(b"1") +
                       word(chain_id) + word(hub21))
    claim_type = keccak256(b"Claim(address payer,address beneficiary,uint256 cumulative)")
    struct = keccak256(claim_type + word(payer21) + word(beneficiary21) + word(cumulative))
    return keccak256(b"\x19\x01" + domain + struct)


def typed_data_digest(domain, types, primary, message):
    """Generic TIP-712 hashing for the vector check (string/address/uint256/bytes32 fields)."""
    def type_string(name):
        return name + "(" + ",".join(f"{f['type']} {f['name']}" for f in types[name]) + ")"

    def encode(name, value):
        enc = keccak256(type_string(name).encode())
        for f in types[name]:
            v = value[f["name"]]
            t = f["type"]
            if t == "string":
                enc += keccak256(v.encode())
            elif t == "address":
                a = v if isinstance(v, bytes) else (
                    b58decode_check(v) if v.startswith("T") else bytes.fromhex("41" + v[-40:]))
                enc += word(a)
            elif t.startswith("uint"):
                enc += word(int(v))
            elif t == "bytes32":
                enc += bytes.fromhex(v[2:] if v.startswith("0x") else v)
            else:
                raise NotImplementedError(t)
        return keccak256(enc)

    types = dict(types)
    types["EIP712Domain"] = [{"name": "name", "type": "string"},
                             {"name": "version", "type": "string"},
                             {"name": "chainId", "type": "uint256"},
                             {"name": "verifyingContract", "type": "address"}]
    return keccak256(b"\x19\x01" + encode("EIP712Domain", domain) + encode(primary, message))
