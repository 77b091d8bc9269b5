#!/usr/bin/env python3
"""Blind evaluation corpus for dynamo-shadow.

Writes DynamoDB items (DynamoDB JSON) that look like rows of a Django-style
application, with labeled sensitive values ("planted") and labeled harmless
look-alikes ("decoys").  Every value is synthesized here from a documented
format (see FORMATS.md); nothing is copied from a secret scanner's fixtures.

    python3 generate.py --seed 1 --items 3000 --out corpus.jsonl

Same seed and same pinned packages (requirements.txt) give the same bytes.
"""
from __future__ import annotations

import argparse
import base64
import datetime as dt
import hashlib
import json
import random
import re
import string
import struct
import sys
import zlib
from dataclasses import dataclass, field

import phonenumbers
from faker import Faker
from stdnum import iban as sn_iban
from stdnum import isbn as sn_isbn
from stdnum import luhn as sn_luhn
from stdnum import verhoeff as sn_verhoeff
from stdnum.au import tfn as sn_tfn
from stdnum.br import cnpj as sn_cnpj
from stdnum.br import cpf as sn_cpf
from stdnum.ca import sin as sn_sin
from stdnum.de import idnr as sn_idnr
from stdnum.es import dni as sn_dni
from stdnum.es import nie as sn_nie
from stdnum.fr import nir as sn_nir
from stdnum.gb import nhs as sn_nhs
from stdnum.in_ import aadhaar as sn_aadhaar
from stdnum.in_ import pan as sn_pan
from stdnum.iso7064 import mod_11_10
from stdnum.it import codicefiscale as sn_cf
from stdnum.nl import bsn as sn_bsn
from stdnum.pl import pesel as sn_pesel
from stdnum.se import personnummer as sn_pnr
from stdnum.us import itin as sn_itin
from stdnum.us import rtn as sn_rtn
from stdnum.us import ssn as sn_ssn

# ---------------------------------------------------------------------------
# randomness
# ---------------------------------------------------------------------------
R = random.Random(0)          # re-seeded in main()
FK: dict[str, Faker] = {}     # locale -> Faker, seeded in main()

UP = string.ascii_uppercase
LO = string.ascii_lowercase
DG = string.digits
AN = UP + LO + DG
ANL = LO + DG
HEX = "0123456789abcdef"
HEXU = "0123456789ABCDEF"
B64 = AN + "+/"
B64U = AN + "-_"
B32 = UP + "234567"
B62 = DG + UP + LO
CROCK = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def rs(alpha: str, n: int) -> str:
    return "".join(R.choice(alpha) for _ in range(n))


def ch(seq):
    return R.choice(seq)


def rb(n: int) -> bytes:
    return bytes(R.getrandbits(8) for _ in range(n))


def ri(a: int, b: int) -> int:
    return R.randint(a, b)


def chance(p: float) -> bool:
    return R.random() < p


def wch(pairs):
    """weighted choice over [(item, weight), ...]"""
    tot = sum(w for _, w in pairs)
    x = R.random() * tot
    for item, w in pairs:
        x -= w
        if x <= 0:
            return item
    return pairs[-1][0]


def b64(b: bytes) -> str:
    return base64.b64encode(b).decode()


def b64u(b: bytes) -> str:
    return base64.urlsafe_b64encode(b).decode().rstrip("=")


def wrap(s: str, n: int) -> list[str]:
    return [s[i:i + n] for i in range(0, len(s), n)]


def base62(n: int, width: int) -> str:
    out = ""
    while n:
        n, r = divmod(n, 62)
        out = B62[r] + out
    return out.rjust(width, "0")


def json_escape(s: str) -> str:
    return json.dumps(s, ensure_ascii=False)[1:-1]


# ---------------------------------------------------------------------------
# time
# ---------------------------------------------------------------------------
UTC = dt.timezone.utc
T0 = dt.datetime(2023, 1, 1, tzinfo=UTC)
T1 = dt.datetime(2025, 9, 30, tzinfo=UTC)


def rand_time() -> dt.datetime:
    span = int((T1 - T0).total_seconds())
    return T0 + dt.timedelta(seconds=R.randrange(span), microseconds=R.randrange(1000) * 1000)


def iso(t: dt.datetime, ms=True) -> str:
    if ms:
        return t.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (t.microsecond // 1000)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def epoch(t: dt.datetime) -> int:
    return int(t.timestamp())


def epoch_ms(t: dt.datetime) -> int:
    return int(t.timestamp() * 1000)


def rand_birth() -> dt.date:
    return dt.date(1942, 1, 1) + dt.timedelta(days=R.randrange(365 * 63))


MONTHS_EN = ["January", "February", "March", "April", "May", "June", "July", "August",
             "September", "October", "November", "December"]
MONTHS_FR = ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
             "septembre", "octobre", "novembre", "décembre"]
MONTHS_DE = ["Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August",
             "September", "Oktober", "November", "Dezember"]
MONTHS_ES = ["enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto",
             "septiembre", "octubre", "noviembre", "diciembre"]

# ---------------------------------------------------------------------------
# check digit helpers (algorithms from the cited standards)
# ---------------------------------------------------------------------------


def luhn_complete(prefix: str, length: int) -> str:
    body = prefix + rs(DG, length - len(prefix) - 1)
    return body + sn_luhn.calc_check_digit(body)


def luhn_ok(digits: str) -> bool:
    return sn_luhn.is_valid(digits)


def gs1_check(body: str) -> str:
    """GS1 mod-10 (EAN-13, UPC-A, ISBN-13): weights 3,1 from the right."""
    s = 0
    for i, c in enumerate(reversed(body)):
        s += int(c) * (3 if i % 2 == 0 else 1)
    return str((10 - s % 10) % 10)


VIN_TR = {**{str(d): d for d in range(10)},
          "A": 1, "B": 2, "C": 3, "D": 4, "E": 5, "F": 6, "G": 7, "H": 8,
          "J": 1, "K": 2, "L": 3, "M": 4, "N": 5, "P": 7, "R": 9,
          "S": 2, "T": 3, "U": 4, "V": 5, "W": 6, "X": 7, "Y": 8, "Z": 9}
VIN_W = [8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2]
VIN_ALPHA = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"


def vin_check(v: str) -> str:
    s = sum(VIN_TR[c] * w for c, w in zip(v, VIN_W))
    r = s % 11
    return "X" if r == 10 else str(r)


def mrz_check(s: str) -> str:
    def val(c):
        if c.isdigit():
            return int(c)
        if c == "<":
            return 0
        return ord(c) - 55
    w = [7, 3, 1]
    return str(sum(val(c) * w[i % 3] for i, c in enumerate(s)) % 10)


BECH32 = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"


def bech32_encode(hrp: str, data: bytes) -> str:
    # BIP-173 checksum; used by age (https://age-encryption.org/v1)
    acc, bits, five = 0, 0, []
    for b in data:
        acc = (acc << 8) | b
        bits += 8
        while bits >= 5:
            bits -= 5
            five.append((acc >> bits) & 31)
    if bits:
        five.append((acc << (5 - bits)) & 31)

    def polymod(values):
        gen = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3]
        chk = 1
        for v in values:
            top = chk >> 25
            chk = (chk & 0x1ffffff) << 5 ^ v
            for i in range(5):
                chk ^= gen[i] if ((top >> i) & 1) else 0
        return chk
    hx = [ord(x) >> 5 for x in hrp] + [0] + [ord(x) & 31 for x in hrp]
    pm = polymod(hx + five + [0] * 6) ^ 1
    chk = [(pm >> 5 * (5 - i)) & 31 for i in range(6)]
    return hrp + "1" + "".join(BECH32[d] for d in five + chk)


def crc24(data: bytes) -> int:
    crc = 0xB704CE
    for b in data:
        crc ^= b << 16
        for _ in range(8):
            crc <<= 1
            if crc & 0x1000000:
                crc ^= 0x1864CFB
    return crc & 0xFFFFFF


# ---------------------------------------------------------------------------
# identifier primitives shared by decoys and plants
# ---------------------------------------------------------------------------


def uuid_fmt(b: bytes) -> str:
    h = b.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def uuid4() -> str:
    b = bytearray(rb(16))
    b[6] = (b[6] & 0x0F) | 0x40
    b[8] = (b[8] & 0x3F) | 0x80
    return uuid_fmt(bytes(b))


def uuid1() -> str:
    t = rand_time()
    ts = int((t - dt.datetime(1582, 10, 15, tzinfo=UTC)).total_seconds() * 10_000_000) + ri(0, 9999)
    tl, tm, th = ts & 0xFFFFFFFF, (ts >> 32) & 0xFFFF, ((ts >> 48) & 0x0FFF) | 0x1000
    cs = (ri(0, 0x3FFF)) | 0x8000
    node = bytearray(rb(6))
    node[0] |= 0x01  # multicast bit: random node id, not a hardware address (RFC 4122 4.5)
    return "%08x-%04x-%04x-%04x-%s" % (tl, tm, th, cs, node.hex())


def uuid7() -> str:
    ms = epoch_ms(rand_time())
    b = bytearray(ms.to_bytes(6, "big") + rb(10))
    b[6] = (b[6] & 0x0F) | 0x70
    b[8] = (b[8] & 0x3F) | 0x80
    return uuid_fmt(bytes(b))


def ulid() -> str:
    n = (epoch_ms(rand_time()) << 80) | R.getrandbits(80)
    return "".join(CROCK[(n >> (5 * i)) & 31] for i in reversed(range(26)))


def ksuid() -> str:
    ts = epoch(rand_time()) - 1400000000
    n = int.from_bytes(ts.to_bytes(4, "big") + rb(16), "big")
    return base62(n, 27)


def objectid() -> str:
    return epoch(rand_time()).to_bytes(4, "big").hex() + rb(5).hex() + rb(3).hex()


def snowflake() -> str:
    ms = epoch_ms(rand_time()) - 1288834974657
    return str((ms << 22) | (ri(0, 1023) << 12) | ri(0, 4095))


def hexd(n: int) -> str:
    return rs(HEX, n)


def md5() -> str:
    return hashlib.md5(rb(32)).hexdigest()


def sha1() -> str:
    return hashlib.sha1(rb(32)).hexdigest()


def sha256() -> str:
    return hashlib.sha256(rb(32)).hexdigest()


# ---------------------------------------------------------------------------
# word banks
# ---------------------------------------------------------------------------
COMPANIES = ["Northwind Outfitters", "Bluefin Analytics", "Harbor & Pine", "Quillstone Labs",
             "Redwood Freight", "Lumen Dental Group", "Copperleaf Foods", "Orbitline Travel",
             "Kestrel Robotics", "Meridian Health Partners", "Saltmarsh Coffee Co.",
             "Tidewater Logistics", "Brightpath Learning", "Ironbark Tools", "Velvet Fern Studio",
             "Granite Peak Insurance", "Nimbus Cloudworks", "Pebble & Oak Interiors",
             "Silverline Pharmacy", "Juniper Bikes"]
SLUGS = ["northwind", "bluefin", "harborpine", "quillstone", "redwood", "lumen", "copperleaf",
         "orbitline", "kestrel", "meridian", "saltmarsh", "tidewater", "brightpath", "ironbark",
         "velvetfern", "granitepeak", "nimbus", "pebbleoak", "silverline", "juniper"]
SERVICES = ["orders-api", "billing-worker", "auth-service", "notifications", "search-indexer",
            "checkout", "inventory-sync", "reporting", "webhooks-relay", "media-resizer",
            "shadow-export", "gateway", "scheduler", "ledger", "catalog-api"]
ENVS = ["prod", "staging", "dev", "qa", "sandbox"]
REGIONS = ["us-east-1", "us-west-2", "eu-west-1", "eu-central-1", "ap-southeast-2", "ap-northeast-1"]
USER_WORDS = ["pixel", "mango", "rocket", "quiet", "lunar", "tiger", "maple", "cobalt", "sunny",
              "ninja", "fuzzy", "delta", "echo", "otter", "panda", "crimson", "breeze", "nova",
              "koala", "biscuit", "zephyr", "marble", "comet", "waffle"]
NICKS = ["Captain Koala", "MapleSyrupFan", "the_real_otter", "Night Owl", "CoffeeFirst", "Nova ✨",
         "biscuit-lord", "QuietStorm", "Sunny D", "Lunar Moth", "Rocket Raccoon Fan", "tiny tiger",
         "Jess 🌵", "Cobalt Blue", "Mango Tango", "ZephyrRunner", "Waffle Wednesday", "DeltaDawn"]
PRODUCTS = [("Merino Crew Sock", "apparel"), ("Trail Running Shoe", "footwear"),
            ("Cold Brew Concentrate 1L", "grocery"), ("Ceramic Pour-Over Set", "kitchen"),
            ("USB-C Hub 7-in-1", "electronics"), ("Linen Duvet Cover", "home"),
            ("Bamboo Cutting Board", "kitchen"), ("Noise-Cancelling Earbuds", "electronics"),
            ("Organic Oat Milk 6-pack", "grocery"), ("Waxed Canvas Tote", "accessories"),
            ("LED Desk Lamp", "home"), ("Stainless Water Bottle 750ml", "outdoor"),
            ("Wool Beanie", "apparel"), ("Cast Iron Skillet 26cm", "kitchen"),
            ("Mechanical Keyboard TKL", "electronics"), ("Yoga Mat 6mm", "fitness")]
COLORS = ["black", "navy", "forest", "sand", "charcoal", "rust", "ivory", "sage", "plum"]
SIZES = ["XS", "S", "M", "L", "XL", "38", "40", "42", "44", "One Size"]
PASS_WORDS = ["Marigold", "sunflower", "Falcon", "harbor", "Pumpkin", "dragon", "Willow", "tangerine",
              "Bluebird", "monsoon", "Pretzel", "glacier", "Cactus", "lighthouse", "Nebula",
              "walrus", "Juniper", "avalanche", "Mistral", "quokka", "Saffron", "thunder"]
DOMAINS_FREE = ["gmail.com", "outlook.com", "yahoo.com", "hotmail.co.uk", "web.de", "gmx.de",
                "orange.fr", "free.fr", "proton.me", "icloud.com", "libero.it", "uol.com.br",
                "rediffmail.com", "bigpond.com", "telefonica.net", "ziggo.nl", "wp.pl"]
DOMAINS_CORP = ["northwind-outfitters.com", "bluefinanalytics.io", "harborandpine.co.uk",
                "redwoodfreight.com", "lumendental.com", "copperleaf-foods.de", "orbitline.travel",
                "kestrel-robotics.fr", "meridianhp.org", "tidewater-logistics.nl"]
HOSTS_INTERNAL = ["db.prod.internal", "pg-main.cluster-c9x2k1.eu-west-1.rds.amazonaws.com",
                  "orders-db.svc.cluster.local", "10.0.3.12", "mysql-primary.internal",
                  "redis.cache.internal", "mongo-0.mongo.default.svc", "172.20.4.18",
                  "ledger-db.c1abcd2efgh3.us-east-1.rds.amazonaws.com"]

# ---------------------------------------------------------------------------
# sensitive value specifications
# ---------------------------------------------------------------------------
CLASS_OF = {
    "cloud": "secret", "devtools": "secret", "observability": "secret", "comms": "secret",
    "payments": "secret", "saas": "secret", "ai": "secret", "keys": "secret", "token": "secret",
    "generic": "secret",
    "national_id": "pii", "financial": "pii", "medical": "pii", "contact": "pii",
    "network": "pii", "vehicle": "pii", "dob": "pii",
    "person": "person", "address": "person",
}


@dataclass
class Spec:
    kind: str
    value: str
    label: str = ""                 # human label, e.g. "Stripe secret key"
    env: str = ""                   # ENV_VAR spelling of the label
    headers: list = field(default_factory=list)   # HTTP header lines holding the value
    native: list = field(default_factory=list)    # ready-made snippets holding the value
    attrs: list = field(default_factory=list)     # attribute names that say what it is
    standalone: bool = False        # recognisable without a label
    numeric: bool = False           # digits only, no leading zero: may go in N / NS
    prose: list = field(default_factory=list)     # sentences with {v}
    extra: list = field(default_factory=list)     # [(value, kind)] also inside native
    native_only: bool = False

    @property
    def family(self):
        return self.kind.split("/")[0]

    @property
    def cls(self):
        return CLASS_OF[self.family]


KINDS: dict[str, tuple] = {}   # kind -> (factory, weight)


def reg(kind, weight=1.0):
    def deco(fn):
        KINDS[kind] = (fn, weight)
        return fn
    return deco


def attrs_for(env: str) -> list[str]:
    low = env.lower()
    last = low.rsplit("_", 1)[-1]
    generic = {"key": ["api_key", "apiKey"], "token": ["token", "access_token", "auth_token"],
               "secret": ["secret", "client_secret"], "pat": ["token", "pat"],
               "password": ["password"]}.get(last, ["api_key", "secret"])
    return [low, low, *generic]


def prov(kind, gen, label, env, headers=(), standalone=True, env_alt=(), attrs=None, weight=1.0):
    def f():
        v = gen()
        e = ch([env, *env_alt]) if env_alt else env
        return Spec(kind, v, label=label, env=e, headers=[h.replace("{v}", v) for h in headers],
                    standalone=standalone, attrs=list(attrs) if attrs else attrs_for(e))
    KINDS[kind] = (f, weight)


def gh_token(prefix: str) -> str:
    # 30 random base62 characters + base62(CRC32) in 6 characters
    body = rs(AN, 30)
    return prefix + body + base62(zlib.crc32(body.encode()), 6)


def pem(label: str, der: bytes, width=64) -> tuple[str, str]:
    body = "\n".join(wrap(b64(der), width))
    return f"-----BEGIN {label}-----\n{body}\n-----END {label}-----", body


def rsa_private_der() -> bytes:
    n = b"\x00" + bytes([0x80 | R.getrandbits(7)]) + rb(255)
    d = bytes([R.getrandbits(7) + 1]) + rb(255)
    parts = [b"\x02\x01\x00", b"\x02\x82\x01\x01" + n, b"\x02\x03\x01\x00\x01", b"\x02\x82\x01\x00" + d]
    for _ in range(5):
        parts.append(b"\x02\x81\x81\x00" + rb(128))
    body = b"".join(parts)
    return b"\x30\x82" + len(body).to_bytes(2, "big") + body


def pkcs8_der() -> bytes:
    inner = rsa_private_der()
    alg = bytes.fromhex("300d06092a864886f70d0101010500")
    body = b"\x02\x01\x00" + alg + b"\x04\x82" + len(inner).to_bytes(2, "big") + inner
    return b"\x30\x82" + len(body).to_bytes(2, "big") + body


def ec_private_der() -> bytes:
    return (bytes.fromhex("30770201010420") + rb(32) + bytes.fromhex("a00a06082a8648ce3d030107a144034200")
            + b"\x04" + rb(64))


def ed25519_pub_blob(pub: bytes) -> bytes:
    return struct.pack(">I", 11) + b"ssh-ed25519" + struct.pack(">I", 32) + pub


def openssh_private() -> tuple[str, str]:
    pub = rb(32)
    blob = ed25519_pub_blob(pub)
    chk = rb(4)
    comment = ch(["deploy@ci-runner-07", "ubuntu@ip-10-0-1-23", "build@jenkins", "ops@bastion"]).encode()
    priv = (chk + chk + struct.pack(">I", 11) + b"ssh-ed25519" + struct.pack(">I", 32) + pub
            + struct.pack(">I", 64) + rb(32) + pub + struct.pack(">I", len(comment)) + comment)
    priv += bytes(range(1, 1 + (8 - len(priv) % 8) % 8))
    raw = (b"openssh-key-v1\x00" + struct.pack(">I", 4) + b"none" + struct.pack(">I", 4) + b"none"
           + struct.pack(">I", 0) + struct.pack(">I", 1) + struct.pack(">I", len(blob)) + blob
           + struct.pack(">I", len(priv)) + priv)
    return pem("OPENSSH PRIVATE KEY", raw, 70)


def jwt(alg="HS256", claims=None, sig_len=32) -> str:
    hdr = {"alg": alg, "typ": "JWT"}
    if alg.startswith("RS") and chance(0.6):
        hdr["kid"] = hexd(16)
    t = rand_time()
    body = claims or {"sub": uuid4(), "iat": epoch(t), "exp": epoch(t) + ch([900, 3600, 86400]),
                      "scope": ch(["read:orders write:orders", "openid profile", "admin", "api"])}
    return (b64u(json.dumps(hdr, separators=(",", ":")).encode()) + "."
            + b64u(json.dumps(body, separators=(",", ":")).encode()) + "." + b64u(rb(sig_len)))


# ---- cloud ----------------------------------------------------------------
prov("cloud/aws_access_key_id", lambda: "AKIA" + rs(B32, 16), "AWS access key id",
     "AWS_ACCESS_KEY_ID", attrs=["aws_access_key_id", "access_key_id", "accessKeyId"])
prov("cloud/aws_sts_access_key_id", lambda: "ASIA" + rs(B32, 16), "AWS temporary access key id",
     "AWS_ACCESS_KEY_ID", attrs=["aws_access_key_id", "AccessKeyId"])
prov("cloud/aws_secret_access_key", lambda: rs(B64, 40), "AWS secret access key",
     "AWS_SECRET_ACCESS_KEY", standalone=False,
     attrs=["aws_secret_access_key", "secret_access_key", "SecretAccessKey"], weight=1.5)


def _aws_session_token():
    return b64(b"!\n\torigin_ec\x10" + rb(ri(230, 300)))


prov("cloud/aws_session_token", _aws_session_token, "AWS session token", "AWS_SESSION_TOKEN",
     standalone=False, attrs=["aws_session_token", "SessionToken"])


@reg("cloud/aws_credentials_file", 1.5)
def _aws_creds():
    kid = "AKIA" + rs(B32, 16)
    sec = rs(B64, 40)
    prof = ch(["default", "prod", "deploy", "ci"])
    native = [f"[{prof}]\naws_access_key_id = {kid}\naws_secret_access_key = {sec}\nregion = {ch(REGIONS)}",
              f"export AWS_ACCESS_KEY_ID={kid}\nexport AWS_SECRET_ACCESS_KEY={sec}",
              f'aws configure set aws_secret_access_key {sec} --profile {prof}  # key id {kid}']
    return Spec("cloud/aws_credentials_file", sec, native=native, extra=[(kid, "cloud/aws_access_key_id")],
                native_only=True)


prov("cloud/gcp_api_key", lambda: "AIza" + rs(B64U, 35), "Google API key", "GOOGLE_API_KEY",
     env_alt=("GCP_API_KEY", "GOOGLE_MAPS_API_KEY"), headers=["X-Goog-Api-Key: {v}"])
prov("cloud/gcp_oauth_client_secret", lambda: "GOCSPX-" + rs(B64U, 28), "Google OAuth client secret",
     "GOOGLE_CLIENT_SECRET", attrs=["client_secret", "google_client_secret"])
prov("cloud/gcp_oauth_access_token", lambda: "ya29." + rs(B64U, ri(120, 170)), "Google OAuth access token",
     "GOOGLE_ACCESS_TOKEN", headers=["Authorization: Bearer {v}"])


@reg("cloud/gcp_service_account_key", 1.5)
def _gcp_sa():
    proj = ch(SLUGS) + "-" + ch(ENVS) + "-" + str(ri(100000, 999999))
    _, body = pem("PRIVATE KEY", pkcs8_der())
    key = "-----BEGIN PRIVATE KEY-----\n" + body + "\n-----END PRIVATE KEY-----\n"
    sa = {"type": "service_account", "project_id": proj, "private_key_id": hexd(40),
          "private_key": key, "client_email": f"{ch(SERVICES)}@{proj}.iam.gserviceaccount.com",
          "client_id": str(ri(10**20, 10**21 - 1)), "auth_uri": "https://accounts.google.com/o/oauth2/auth",
          "token_uri": "https://oauth2.googleapis.com/token",
          "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs"}
    text = json.dumps(sa, indent=2)
    return Spec("cloud/gcp_service_account_key", json_escape(body), native=[text], native_only=True)


def _azure_client_secret():
    a = B64U + "~."
    return rs(a.replace("~", "").replace(".", ""), 3) + rs(DG, 1) + "Q~" + rs(a, 34)


prov("cloud/azure_ad_client_secret", _azure_client_secret, "Azure AD client secret", "AZURE_CLIENT_SECRET",
     attrs=["client_secret", "azure_client_secret", "clientSecret"])


@reg("cloud/azure_storage_account_key")
def _az_storage():
    k = b64(rb(64))
    acct = ch(SLUGS) + ch(ENVS) + "store"
    native = [f"DefaultEndpointsProtocol=https;AccountName={acct};AccountKey={k};EndpointSuffix=core.windows.net",
              f"AZURE_STORAGE_KEY={k}"]
    return Spec("cloud/azure_storage_account_key", k, native=native, native_only=True)


@reg("cloud/azure_sas_signature")
def _az_sas():
    sig = b64(rb(32)).replace("+", "%2B").replace("/", "%2F").replace("=", "%3D")
    acct = ch(SLUGS) + "exports"
    t = rand_time()
    url = (f"https://{acct}.blob.core.windows.net/{ch(['exports', 'backups', 'invoices'])}/"
           f"{t:%Y-%m-%d}/report.csv?sv=2022-11-02&ss=b&srt=o&sp=r&se={iso(t + dt.timedelta(days=30), False)}"
           f"&st={iso(t, False)}&spr=https&sig={sig}")
    return Spec("cloud/azure_sas_signature", sig, native=[url, f"AZURE_SAS_URL={url}"], native_only=True)


@reg("cloud/azure_servicebus_key")
def _az_sb():
    k = b64(rb(32))
    ns = ch(SLUGS) + "-" + ch(ENVS) + "-bus"
    s = f"Endpoint=sb://{ns}.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey={k}"
    return Spec("cloud/azure_servicebus_key", k, native=[s, f'"ServiceBusConnection": "{s}"'], native_only=True)


prov("cloud/azure_devops_pat", lambda: rs(LO + "234567", 52), "Azure DevOps personal access token",
     "AZURE_DEVOPS_PAT", standalone=False, env_alt=("AZURE_DEVOPS_EXT_PAT", "ADO_PAT"))
prov("cloud/alibaba_access_key_id", lambda: "LTAI" + rs(AN, 20), "Alibaba Cloud AccessKey ID",
     "ALIBABA_CLOUD_ACCESS_KEY_ID", attrs=["access_key_id", "accessKeyId"])
prov("cloud/alibaba_access_key_secret", lambda: rs(AN, 30), "Alibaba Cloud AccessKey secret",
     "ALIBABA_CLOUD_ACCESS_KEY_SECRET", standalone=False, attrs=["access_key_secret", "accessKeySecret"])
prov("cloud/ibm_cloud_api_key", lambda: rs(B64U, 44), "IBM Cloud API key", "IBMCLOUD_API_KEY",
     standalone=False, env_alt=("IC_API_KEY",))
prov("cloud/oracle_oci_auth_token", lambda: rs(AN + "()[]:_.+-", 20), "OCI auth token",
     "OCI_AUTH_TOKEN", standalone=False, attrs=["oci_auth_token", "auth_token"])
prov("cloud/digitalocean_pat", lambda: "dop_v1_" + hexd(64), "DigitalOcean token", "DIGITALOCEAN_TOKEN",
     env_alt=("DO_TOKEN",), headers=["Authorization: Bearer {v}"])
prov("cloud/digitalocean_oauth_token", lambda: "doo_v1_" + hexd(64), "DigitalOcean OAuth token",
     "DIGITALOCEAN_ACCESS_TOKEN")
prov("cloud/linode_token", lambda: hexd(64), "Linode API token", "LINODE_TOKEN", standalone=False,
     env_alt=("LINODE_CLI_TOKEN",))
prov("cloud/scaleway_secret_key", uuid4, "Scaleway secret key", "SCW_SECRET_KEY", standalone=False,
     attrs=["scw_secret_key", "secret_key"])
prov("cloud/scaleway_access_key", lambda: "SCW" + rs(UP + DG, 17), "Scaleway access key", "SCW_ACCESS_KEY")
prov("cloud/cloudflare_api_token", lambda: rs(B64U, 40), "Cloudflare API token", "CLOUDFLARE_API_TOKEN",
     standalone=False, env_alt=("CF_API_TOKEN",), headers=["Authorization: Bearer {v}"])
prov("cloud/cloudflare_global_api_key", lambda: hexd(37), "Cloudflare global API key", "CLOUDFLARE_API_KEY",
     standalone=False, headers=["X-Auth-Key: {v}"])
prov("cloud/fastly_api_token", lambda: rs(B64U, 32), "Fastly API token", "FASTLY_API_TOKEN",
     standalone=False, headers=["Fastly-Key: {v}"])
prov("cloud/vercel_token", lambda: rs(AN, 24), "Vercel token", "VERCEL_TOKEN", standalone=False)
prov("cloud/netlify_pat", lambda: "nfp_" + rs(AN, 36), "Netlify personal access token", "NETLIFY_AUTH_TOKEN")
prov("cloud/heroku_api_key", lambda: "HRKU-" + rs(B64U, 60), "Heroku API key", "HEROKU_API_KEY")
prov("cloud/heroku_api_key_legacy", uuid4, "Heroku API key", "HEROKU_API_KEY", standalone=False,
     attrs=["heroku_api_key"])
prov("cloud/fly_token", lambda: "fm2_" + b64(rb(ri(150, 220))), "Fly.io token", "FLY_API_TOKEN",
     headers=["Authorization: FlyV1 {v}"])
prov("cloud/render_api_key", lambda: "rnd_" + rs(AN, 32), "Render API key", "RENDER_API_KEY")
prov("cloud/supabase_secret_key", lambda: "sb_secret_" + rs(B64U, 31), "Supabase secret key",
     "SUPABASE_SECRET_KEY", headers=["apikey: {v}"])
prov("cloud/supabase_pat", lambda: "sbp_" + hexd(40), "Supabase access token", "SUPABASE_ACCESS_TOKEN")
prov("cloud/supabase_service_role_jwt",
     lambda: jwt("HS256", {"iss": "supabase", "ref": rs(LO, 20), "role": "service_role",
                           "iat": epoch(rand_time()), "exp": 2000000000 + ri(0, 10**8)}),
     "Supabase service_role key", "SUPABASE_SERVICE_ROLE_KEY", attrs=["service_role_key"])
prov("cloud/firebase_fcm_server_key", lambda: "AAAA" + rs(B64U, 7) + ":APA91b" + rs(B64U, 134),
     "FCM server key", "FCM_SERVER_KEY", headers=["Authorization: key={v}"])

# ---- developer tooling ----------------------------------------------------
prov("devtools/github_pat", lambda: gh_token("ghp_"), "GitHub token", "GITHUB_TOKEN",
     env_alt=("GH_TOKEN", "GITHUB_PAT"), headers=["Authorization: token {v}", "Authorization: Bearer {v}"],
     weight=1.5)
prov("devtools/github_oauth_token", lambda: gh_token("gho_"), "GitHub OAuth token", "GITHUB_OAUTH_TOKEN")
prov("devtools/github_app_user_token", lambda: gh_token("ghu_"), "GitHub App user token", "GITHUB_USER_TOKEN")
prov("devtools/github_app_installation_token", lambda: gh_token("ghs_"), "GitHub App installation token",
     "GITHUB_TOKEN", headers=["Authorization: Bearer {v}"])
prov("devtools/github_refresh_token", lambda: gh_token("ghr_"), "GitHub refresh token", "GITHUB_REFRESH_TOKEN")
prov("devtools/github_fine_grained_pat", lambda: "github_pat_" + rs(AN, 22) + "_" + rs(AN, 59),
     "GitHub fine-grained token", "GITHUB_TOKEN", env_alt=("GH_PAT",))
prov("devtools/gitlab_pat", lambda: "glpat-" + rs(B64U, 20), "GitLab personal access token", "GITLAB_TOKEN",
     env_alt=("GL_TOKEN", "CI_JOB_PAT"), headers=["PRIVATE-TOKEN: {v}"], weight=1.3)
prov("devtools/gitlab_deploy_token", lambda: "gldt-" + rs(B64U, 20), "GitLab deploy token", "GITLAB_DEPLOY_TOKEN")
prov("devtools/gitlab_runner_token", lambda: "glrt-" + rs(B64U, 20), "GitLab runner token",
     "RUNNER_TOKEN", attrs=["runner_token", "token"])
prov("devtools/gitlab_pipeline_trigger_token", lambda: "glptt-" + hexd(40), "GitLab pipeline trigger token",
     "TRIGGER_TOKEN")
prov("devtools/bitbucket_app_password", lambda: "ATBB" + rs(AN, 32), "Bitbucket app password",
     "BITBUCKET_APP_PASSWORD", attrs=["app_password", "bitbucket_app_password"])
prov("devtools/npm_token", lambda: "npm_" + rs(AN, 36), "npm token", "NPM_TOKEN",
     env_alt=("NODE_AUTH_TOKEN",))


@reg("devtools/npmrc_auth_token")
def _npmrc():
    v = "npm_" + rs(AN, 36)
    return Spec("devtools/npmrc_auth_token", v, native=[f"//registry.npmjs.org/:_authToken={v}",
                                                        f"registry=https://registry.npmjs.org/\n//registry.npmjs.org/:_authToken={v}\nalways-auth=true"],
                native_only=True)


def _pypi_token(host=b"pypi.org"):
    ident = json.dumps({"version": 1, "permissions": "user"}).encode()
    raw = (b"\x02\x01" + bytes([len(host)]) + host + b"\x02" + bytes([len(ident)]) + ident
           + b"\x00\x02\x06" + rb(ri(70, 110)) + b"\x00\x00\x06\x20" + rb(32))
    return "pypi-" + b64u(raw)


prov("devtools/pypi_token", _pypi_token, "PyPI API token", "PYPI_TOKEN", env_alt=("TWINE_PASSWORD",))
prov("devtools/testpypi_token", lambda: _pypi_token(b"test.pypi.org"), "TestPyPI token", "TEST_PYPI_TOKEN")
prov("devtools/rubygems_api_key", lambda: "rubygems_" + hexd(48), "RubyGems API key", "GEM_HOST_API_KEY")
prov("devtools/nuget_api_key", lambda: "oy2" + rs(ANL, 43), "NuGet API key", "NUGET_API_KEY")
prov("devtools/crates_io_token", lambda: "cio" + rs(AN, 32), "crates.io token", "CARGO_REGISTRY_TOKEN")
prov("devtools/dockerhub_pat", lambda: "dckr_pat_" + rs(B64U, 27), "Docker Hub access token",
     "DOCKERHUB_TOKEN", env_alt=("DOCKER_PASSWORD",))
prov("devtools/dockerhub_org_token", lambda: "dckr_oat_" + rs(B64U, 32), "Docker Hub organization token",
     "DOCKER_ORG_TOKEN")
prov("devtools/jfrog_api_key", lambda: "AKCp" + rs(AN, 69), "JFrog API key", "ARTIFACTORY_API_KEY",
     headers=["X-JFrog-Art-Api: {v}"])
prov("devtools/jfrog_reference_token", lambda: "cmVmdGtuOjAxOj" + rs(AN, 50), "JFrog access token",
     "JFROG_ACCESS_TOKEN", headers=["Authorization: Bearer {v}"])
prov("devtools/terraform_cloud_token", lambda: rs(AN, 14) + ".atlasv1." + rs(B64U, 67), "Terraform Cloud token",
     "TF_TOKEN_app_terraform_io", env_alt=("TFE_TOKEN",))
prov("devtools/pulumi_token", lambda: "pul-" + hexd(40), "Pulumi access token", "PULUMI_ACCESS_TOKEN")
prov("devtools/doppler_personal_token", lambda: "dp.pt." + rs(AN, 43), "Doppler token", "DOPPLER_TOKEN")
prov("devtools/doppler_service_token", lambda: "dp.st." + ch(ENVS) + "." + rs(AN, 40), "Doppler service token",
     "DOPPLER_TOKEN")
prov("devtools/vault_service_token", lambda: "hvs.CAESI" + rs(B64U, 86), "Vault token", "VAULT_TOKEN",
     headers=["X-Vault-Token: {v}"])
prov("devtools/vault_batch_token", lambda: "hvb.AAAAAQ" + rs(B64U, 120), "Vault batch token", "VAULT_TOKEN")
prov("devtools/circleci_pat", lambda: "CCIPAT_" + rs(AN, 22) + "_" + hexd(40), "CircleCI token", "CIRCLECI_TOKEN",
     headers=["Circle-Token: {v}"])
prov("devtools/travis_api_token", lambda: rs(B64U, 22), "Travis CI API token", "TRAVIS_API_TOKEN",
     standalone=False, headers=["Authorization: token {v}"])
prov("devtools/buildkite_api_token", lambda: "bkua_" + hexd(40), "Buildkite API token", "BUILDKITE_API_TOKEN")
prov("devtools/buildkite_agent_token", lambda: hexd(50), "Buildkite agent token", "BUILDKITE_AGENT_TOKEN",
     standalone=False)


def _sentry_org():
    payload = {"iat": epoch(rand_time()) + 0.25, "url": "https://sentry.io", "region_url": "https://us.sentry.io",
               "org": ch(SLUGS)}
    return "sntrys_" + b64(json.dumps(payload, separators=(",", ":")).encode()).rstrip("=") + "_" + rs(B64, 43)


prov("devtools/sentry_org_token", _sentry_org, "Sentry auth token", "SENTRY_AUTH_TOKEN")
prov("devtools/sentry_user_token", lambda: "sntryu_" + hexd(64), "Sentry user token", "SENTRY_AUTH_TOKEN",
     headers=["Authorization: Bearer {v}"])
prov("devtools/codecov_token", uuid4, "Codecov upload token", "CODECOV_TOKEN", standalone=False)
prov("devtools/snyk_token", uuid4, "Snyk API token", "SNYK_TOKEN", standalone=False,
     headers=["Authorization: token {v}"])
prov("devtools/sonar_project_token", lambda: "sqp_" + hexd(40), "SonarQube project token", "SONAR_TOKEN")
prov("devtools/sonar_user_token", lambda: "squ_" + hexd(40), "SonarQube user token", "SONAR_TOKEN")
prov("devtools/launchdarkly_sdk_key", lambda: "sdk-" + uuid4(), "LaunchDarkly SDK key", "LAUNCHDARKLY_SDK_KEY")

# ---- observability --------------------------------------------------------
prov("observability/datadog_api_key", lambda: hexd(32), "Datadog API key", "DD_API_KEY", standalone=False,
     env_alt=("DATADOG_API_KEY",), headers=["DD-API-KEY: {v}"], weight=1.3)
prov("observability/datadog_app_key", lambda: hexd(40), "Datadog application key", "DD_APP_KEY",
     standalone=False, env_alt=("DD_APPLICATION_KEY",), headers=["DD-APPLICATION-KEY: {v}"])
prov("observability/newrelic_user_key", lambda: "NRAK-" + rs(UP + DG, 27), "New Relic user key",
     "NEW_RELIC_API_KEY", headers=["Api-Key: {v}"])
prov("observability/newrelic_license_key", lambda: hexd(36) + "NRAL", "New Relic license key",
     "NEW_RELIC_LICENSE_KEY")
prov("observability/newrelic_insert_key", lambda: "NRII-" + rs(B64U, 32), "New Relic insert key",
     "NEW_RELIC_INSERT_KEY", headers=["X-Insert-Key: {v}"])
prov("observability/grafana_service_account_token", lambda: "glsa_" + rs(AN, 32) + "_" + hexd(8),
     "Grafana service account token", "GRAFANA_TOKEN", headers=["Authorization: Bearer {v}"])


def _glc():
    payload = {"o": str(ri(100000, 999999)), "n": ch(SLUGS) + "-" + ch(ENVS) + "-writer",
               "k": rs(AN, 24), "m": {"r": ch(["prod-us-east-0", "prod-eu-west-2", "prod-ap-southeast-1"])}}
    return "glc_" + b64(json.dumps(payload, separators=(",", ":")).encode())


prov("observability/grafana_cloud_token", _glc, "Grafana Cloud access policy token", "GRAFANA_CLOUD_TOKEN")
prov("observability/honeycomb_api_key", lambda: rs(AN, 22), "Honeycomb API key", "HONEYCOMB_API_KEY",
     standalone=False, headers=["X-Honeycomb-Team: {v}"])
prov("observability/honeycomb_ingest_key", lambda: "hcaik_01" + rs(ANL, 56), "Honeycomb ingest key",
     "HONEYCOMB_API_KEY")
prov("observability/dynatrace_token", lambda: "dt0c01." + rs(UP + DG, 24) + "." + rs(UP + DG, 64),
     "Dynatrace API token", "DT_API_TOKEN", headers=["Authorization: Api-Token {v}"])
prov("observability/splunk_hec_token", lambda: uuid4().upper(), "Splunk HEC token", "SPLUNK_HEC_TOKEN",
     standalone=False, headers=["Authorization: Splunk {v}"])
prov("observability/pagerduty_api_key", lambda: rs(AN + "_+-", 20), "PagerDuty API key", "PAGERDUTY_TOKEN",
     standalone=False, headers=["Authorization: Token token={v}"])
prov("observability/pagerduty_routing_key", lambda: hexd(32), "PagerDuty integration key",
     "PAGERDUTY_ROUTING_KEY", standalone=False, attrs=["routing_key", "integration_key"])
prov("observability/opsgenie_api_key", uuid4, "Opsgenie API key", "OPSGENIE_API_KEY", standalone=False,
     headers=["Authorization: GenieKey {v}"])
prov("observability/elastic_api_key", lambda: b64((rs(AN, 20) + ":" + rs(B64U, 22)).encode()),
     "Elasticsearch API key", "ELASTIC_API_KEY", standalone=False, headers=["Authorization: ApiKey {v}"])

# ---- communication ----------------------------------------------------------
prov("comms/slack_bot_token", lambda: f"xoxb-{rs(DG, ri(10, 13))}-{rs(DG, ri(10, 13))}-{rs(AN, 24)}",
     "Slack bot token", "SLACK_BOT_TOKEN", headers=["Authorization: Bearer {v}"], weight=1.3)
prov("comms/slack_user_token",
     lambda: f"xoxp-{rs(DG, ri(10, 13))}-{rs(DG, ri(10, 13))}-{rs(DG, 13)}-{hexd(32)}",
     "Slack user token", "SLACK_USER_TOKEN")
prov("comms/slack_app_token", lambda: f"xapp-1-A{rs(UP + DG, 10)}-{rs(DG, 13)}-{hexd(64)}",
     "Slack app-level token", "SLACK_APP_TOKEN")


@reg("comms/slack_webhook")
def _slack_hook():
    sec = rs(AN, 24)
    url = f"https://hooks.slack.com/services/T{rs(UP + DG, ri(8, 10))}/B{rs(UP + DG, ri(8, 10))}/{sec}"
    return Spec("comms/slack_webhook", sec, native=[url, f"SLACK_WEBHOOK_URL={url}", f'webhook_url: "{url}"'],
                native_only=True)


def _discord_bot():
    uid = snowflake()
    return b64(uid.encode()).rstrip("=") + "." + rs(B64U, 6) + "." + rs(B64U, 38)


prov("comms/discord_bot_token", _discord_bot, "Discord bot token", "DISCORD_TOKEN",
     headers=["Authorization: Bot {v}"])


@reg("comms/discord_webhook")
def _discord_hook():
    sec = rs(B64U, 68)
    url = f"https://discord.com/api/webhooks/{snowflake()}/{sec}"
    return Spec("comms/discord_webhook", sec, native=[url, f"DISCORD_WEBHOOK={url}"], native_only=True)


prov("comms/telegram_bot_token", lambda: f"{ri(10**7, 10**10 - 1)}:AA{rs(B64U, 33)}", "Telegram bot token",
     "TELEGRAM_BOT_TOKEN")
prov("comms/twilio_auth_token", lambda: hexd(32), "Twilio auth token", "TWILIO_AUTH_TOKEN", standalone=False)
prov("comms/sendgrid_api_key", lambda: "SG." + rs(B64U, 22) + "." + rs(B64U, 43), "SendGrid API key",
     "SENDGRID_API_KEY", headers=["Authorization: Bearer {v}"], weight=1.3)
prov("comms/mailgun_api_key", lambda: "key-" + hexd(32), "Mailgun API key", "MAILGUN_API_KEY")
prov("comms/mailgun_private_key", lambda: f"{hexd(32)}-{hexd(8)}-{hexd(8)}", "Mailgun private API key",
     "MAILGUN_API_KEY", standalone=False)
prov("comms/mailchimp_api_key", lambda: hexd(32) + "-us" + str(ri(1, 21)), "Mailchimp API key",
     "MAILCHIMP_API_KEY")
prov("comms/postmark_server_token", uuid4, "Postmark server token", "POSTMARK_SERVER_TOKEN",
     standalone=False, headers=["X-Postmark-Server-Token: {v}"])
prov("comms/sparkpost_api_key", lambda: hexd(40), "SparkPost API key", "SPARKPOST_API_KEY", standalone=False)
prov("comms/vonage_api_secret", lambda: rs(AN, 16), "Vonage API secret", "VONAGE_API_SECRET", standalone=False,
     env_alt=("NEXMO_API_SECRET",), attrs=["api_secret", "vonage_api_secret"])
prov("comms/messagebird_access_key", lambda: rs(AN, 25), "MessageBird access key", "MESSAGEBIRD_ACCESS_KEY",
     standalone=False, headers=["Authorization: AccessKey {v}"])
prov("comms/intercom_access_token", lambda: b64(f"tok:{uuid4()}:1:0".encode()), "Intercom access token",
     "INTERCOM_ACCESS_TOKEN", standalone=False, headers=["Authorization: Bearer {v}"])
prov("comms/zendesk_api_token", lambda: rs(AN, 40), "Zendesk API token", "ZENDESK_API_TOKEN", standalone=False)

# ---- payments ---------------------------------------------------------------
prov("payments/stripe_secret_key", lambda: "sk_live_" + ch(["", "51"]) + rs(AN, ch([24, 32, 97])),
     "Stripe secret key", "STRIPE_SECRET_KEY", env_alt=("STRIPE_API_KEY",),
     headers=["Authorization: Bearer {v}"], weight=1.5)
prov("payments/stripe_test_secret_key", lambda: "sk_test_51" + rs(AN, 97), "Stripe test secret key",
     "STRIPE_SECRET_KEY")
prov("payments/stripe_restricted_key", lambda: "rk_live_51" + rs(AN, 97), "Stripe restricted key",
     "STRIPE_RESTRICTED_KEY")
prov("payments/stripe_webhook_secret", lambda: "whsec_" + rs(AN, 32), "Stripe webhook signing secret",
     "STRIPE_WEBHOOK_SECRET", attrs=["webhook_secret", "signing_secret", "endpoint_secret"])
prov("payments/square_access_token", lambda: "EAAA" + rs(B64U, 60), "Square access token", "SQUARE_ACCESS_TOKEN",
     headers=["Authorization: Bearer {v}"])
prov("payments/square_oauth_secret", lambda: "sq0csp-" + rs(B64U, 43), "Square application secret",
     "SQUARE_APPLICATION_SECRET")
prov("payments/braintree_access_token",
     lambda: f"access_token$production${rs(ANL, 16)}${hexd(32)}", "Braintree token",
     "BRAINTREE_TOKEN", attrs=["braintree_token", "bt_token", "gateway_token"])
prov("payments/braintree_private_key", lambda: hexd(32), "Braintree private key", "BRAINTREE_PRIVATE_KEY",
     standalone=False)
prov("payments/paypal_client_secret", lambda: "E" + rs(B64U, 79), "PayPal client secret", "PAYPAL_CLIENT_SECRET",
     standalone=False)
prov("payments/adyen_api_key", lambda: "AQE" + rs(AN, 6) + "/" + rs(B64, 120) + "=-" + rs(B64, 43) + "=-" + rs(AN, 16),
     "Adyen API key", "ADYEN_API_KEY", standalone=False, headers=["X-API-Key: {v}"])
prov("payments/razorpay_key_secret", lambda: rs(AN, 24), "Razorpay key secret", "RAZORPAY_KEY_SECRET",
     standalone=False, attrs=["key_secret", "razorpay_key_secret"])
prov("payments/plaid_secret", lambda: hexd(30), "Plaid secret", "PLAID_SECRET", standalone=False,
     headers=["PLAID-SECRET: {v}"])
prov("payments/plaid_access_token", lambda: "access-production-" + uuid4(), "Plaid access token",
     "PLAID_ACCESS_TOKEN", attrs=["access_token", "plaid_access_token"])
prov("payments/coinbase_api_secret", lambda: rs(AN, 32), "Coinbase API secret", "COINBASE_API_SECRET",
     standalone=False)
prov("payments/shopify_access_token", lambda: "shpat_" + hexd(32), "Shopify Admin API access token",
     "SHOPIFY_ACCESS_TOKEN", headers=["X-Shopify-Access-Token: {v}"])
prov("payments/shopify_shared_secret", lambda: "shpss_" + hexd(32), "Shopify shared secret",
     "SHOPIFY_API_SECRET")
prov("payments/shopify_custom_app_token", lambda: "shpca_" + hexd(32), "Shopify custom app token",
     "SHOPIFY_ACCESS_TOKEN")
prov("payments/shopify_private_app_password", lambda: "shppa_" + hexd(32), "Shopify private app password",
     "SHOPIFY_PASSWORD")

# ---- SaaS -------------------------------------------------------------------
prov("saas/atlassian_api_token", lambda: "ATATT3xFfGF0" + rs(B64U, 170) + "=" + hexd(8).upper(),
     "Atlassian API token", "JIRA_API_TOKEN", env_alt=("CONFLUENCE_API_TOKEN", "ATLASSIAN_API_TOKEN"))
prov("saas/linear_api_key", lambda: "lin_api_" + rs(AN, 40), "Linear API key", "LINEAR_API_KEY",
     headers=["Authorization: {v}"])
prov("saas/notion_integration_token", lambda: "ntn_" + rs(DG, 11) + rs(AN, 35), "Notion integration token",
     "NOTION_TOKEN", headers=["Authorization: Bearer {v}"])
prov("saas/notion_legacy_secret", lambda: "secret_" + rs(AN, 43), "Notion integration secret", "NOTION_API_KEY")
prov("saas/airtable_pat", lambda: "pat" + rs(AN, 14) + "." + hexd(64), "Airtable personal access token",
     "AIRTABLE_TOKEN", headers=["Authorization: Bearer {v}"])
prov("saas/asana_pat", lambda: f"2/{rs(DG, 16)}/{rs(DG, 16)}:{hexd(32)}", "Asana personal access token",
     "ASANA_ACCESS_TOKEN")
prov("saas/monday_api_token",
     lambda: jwt("HS256", {"tid": ri(10**8, 10**9), "aai": ri(10, 99), "uid": ri(10**7, 10**8),
                           "iad": iso(rand_time(), True), "per": "me:write", "actid": ri(10**6, 10**7),
                           "rgn": "use1"}),
     "monday.com API token", "MONDAY_API_TOKEN", standalone=False, headers=["Authorization: {v}"])
prov("saas/hubspot_private_app_token", lambda: ch(["pat-na1-", "pat-eu1-"]) + uuid4(), "HubSpot private app token",
     "HUBSPOT_ACCESS_TOKEN", headers=["Authorization: Bearer {v}"])
prov("saas/salesforce_access_token", lambda: "00D" + rs(AN, 12) + "!" + rs(AN + "._", 96),
     "Salesforce access token", "SF_ACCESS_TOKEN", headers=["Authorization: Bearer {v}"])
prov("saas/okta_api_token", lambda: "00" + rs(B64U, 40), "Okta API token", "OKTA_API_TOKEN", standalone=False,
     headers=["Authorization: SSWS {v}"])
prov("saas/auth0_client_secret", lambda: rs(B64U, 64), "Auth0 client secret", "AUTH0_CLIENT_SECRET",
     standalone=False)
prov("saas/postman_api_key", lambda: "PMAK-" + hexd(24) + "-" + hexd(34), "Postman API key", "POSTMAN_API_KEY",
     headers=["X-Api-Key: {v}"])
prov("saas/figma_pat", lambda: "figd_" + rs(B64U, 40), "Figma personal access token", "FIGMA_TOKEN",
     headers=["X-Figma-Token: {v}"])
prov("saas/dropbox_access_token", lambda: "sl." + ch(["", "u."]) + rs(B64U, 136), "Dropbox access token",
     "DROPBOX_ACCESS_TOKEN", headers=["Authorization: Bearer {v}"])
prov("saas/box_developer_token", lambda: rs(AN, 32), "Box developer token", "BOX_DEVELOPER_TOKEN",
     standalone=False)
prov("saas/zoom_client_secret", lambda: rs(AN, 32), "Zoom client secret", "ZOOM_CLIENT_SECRET", standalone=False)
prov("saas/contentful_pat", lambda: "CFPAT-" + rs(B64U, 43), "Contentful management token",
     "CONTENTFUL_MANAGEMENT_TOKEN")
prov("saas/clickup_token", lambda: f"pk_{ri(10**6, 10**8)}_{rs(UP + DG, 32)}", "ClickUp API token",
     "CLICKUP_API_TOKEN", headers=["Authorization: {v}"])
prov("saas/mapbox_secret_token",
     lambda: "sk." + b64u(json.dumps({"u": ch(SLUGS), "a": rs(ANL, 25)}, separators=(",", ":")).encode()) + "." + rs(B64U, 22),
     "Mapbox secret token", "MAPBOX_SECRET_TOKEN")
prov("saas/algolia_admin_key", lambda: hexd(32), "Algolia admin API key", "ALGOLIA_ADMIN_KEY", standalone=False,
     headers=["X-Algolia-API-Key: {v}"])
prov("saas/typeform_pat", lambda: "tfp_" + rs(B64U, 44) + "_" + rs(B64U, 14), "Typeform token", "TYPEFORM_TOKEN")

# ---- AI providers ---------------------------------------------------------
prov("ai/openai_project_key", lambda: "sk-proj-" + rs(B64U, 74) + "T3BlbkFJ" + rs(B64U, 74), "OpenAI API key",
     "OPENAI_API_KEY", headers=["Authorization: Bearer {v}"], weight=1.5)
prov("ai/openai_legacy_key", lambda: "sk-" + rs(AN, 20) + "T3BlbkFJ" + rs(AN, 20), "OpenAI API key",
     "OPENAI_API_KEY", headers=["Authorization: Bearer {v}"])
prov("ai/openai_service_account_key", lambda: "sk-svcacct-" + rs(B64U, 74) + "T3BlbkFJ" + rs(B64U, 74),
     "OpenAI service account key", "OPENAI_API_KEY")
prov("ai/openai_admin_key", lambda: "sk-admin-" + rs(B64U, 74) + "T3BlbkFJ" + rs(B64U, 74), "OpenAI admin key",
     "OPENAI_ADMIN_KEY")
prov("ai/anthropic_api_key", lambda: "sk-ant-api03-" + rs(B64U, 93) + "AA", "Anthropic API key",
     "ANTHROPIC_API_KEY", headers=["x-api-key: {v}"], weight=1.5)
prov("ai/anthropic_admin_key", lambda: "sk-ant-admin01-" + rs(B64U, 93) + "AA", "Anthropic admin key",
     "ANTHROPIC_ADMIN_KEY")
prov("ai/huggingface_token", lambda: "hf_" + rs(UP + LO, 34), "Hugging Face token", "HF_TOKEN",
     env_alt=("HUGGING_FACE_HUB_TOKEN",), headers=["Authorization: Bearer {v}"])
prov("ai/cohere_api_key", lambda: rs(AN, 40), "Cohere API key", "CO_API_KEY", standalone=False,
     env_alt=("COHERE_API_KEY",))
prov("ai/mistral_api_key", lambda: rs(AN, 32), "Mistral API key", "MISTRAL_API_KEY", standalone=False)
prov("ai/groq_api_key", lambda: "gsk_" + rs(AN, 52), "Groq API key", "GROQ_API_KEY")
prov("ai/replicate_token", lambda: "r8_" + rs(AN, 37), "Replicate API token", "REPLICATE_API_TOKEN")
prov("ai/perplexity_api_key", lambda: "pplx-" + rs(AN, 48), "Perplexity API key", "PERPLEXITY_API_KEY")
prov("ai/google_ai_studio_key", lambda: "AIza" + rs(B64U, 35), "Gemini API key", "GEMINI_API_KEY",
     env_alt=("GOOGLE_GENERATIVE_AI_API_KEY",), headers=["x-goog-api-key: {v}"])
prov("ai/xai_api_key", lambda: "xai-" + rs(AN, 80), "xAI API key", "XAI_API_KEY")
prov("ai/deepseek_api_key", lambda: "sk-" + hexd(32), "DeepSeek API key", "DEEPSEEK_API_KEY", standalone=False)
prov("ai/langsmith_api_key", lambda: "lsv2_pt_" + hexd(32) + "_" + hexd(10), "LangSmith API key",
     "LANGSMITH_API_KEY")
prov("ai/pinecone_api_key", lambda: "pcsk_" + rs(AN, 6) + "_" + rs(AN, 63), "Pinecone API key", "PINECONE_API_KEY")
prov("ai/openrouter_api_key", lambda: "sk-or-v1-" + hexd(64), "OpenRouter API key", "OPENROUTER_API_KEY")


# ---- key material -------------------------------------------------------------
@reg("keys/rsa_private_key_pem", 1.3)
def _rsa_pem():
    block, body = pem("RSA PRIVATE KEY", rsa_private_der())
    return Spec("keys/rsa_private_key_pem", body, native=[block], native_only=True)


@reg("keys/pkcs8_private_key_pem")
def _pkcs8_pem():
    block, body = pem("PRIVATE KEY", pkcs8_der())
    return Spec("keys/pkcs8_private_key_pem", body, native=[block], native_only=True)


@reg("keys/ec_private_key_pem")
def _ec_pem():
    block, body = pem("EC PRIVATE KEY", ec_private_der())
    return Spec("keys/ec_private_key_pem", body, native=[block], native_only=True)


@reg("keys/encrypted_private_key_pem")
def _enc_pem():
    der = bytes.fromhex("308204fe304006092a864886f70d01050d3033301b06092a864886f70d01050c300e0408") + rb(1250)
    block, body = pem("ENCRYPTED PRIVATE KEY", der)
    return Spec("keys/encrypted_private_key_pem", body, native=[block], native_only=True)


@reg("keys/openssh_private_key", 1.3)
def _openssh():
    block, body = openssh_private()
    return Spec("keys/openssh_private_key", body, native=[block], native_only=True)


@reg("keys/putty_private_key")
def _ppk():
    pub = b64(ed25519_pub_blob(rb(32)))
    priv = b64(struct.pack(">I", 32) + rb(32))
    text = (f"PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\nComment: eddsa-key-{rand_time():%Y%m%d}\n"
            f"Public-Lines: 2\n{pub[:64]}\n{pub[64:]}\nPrivate-Lines: 1\n{priv}\nPrivate-MAC: {hexd(64)}")
    return Spec("keys/putty_private_key", priv, native=[text], native_only=True)


@reg("keys/pgp_private_key_block")
def _pgp():
    raw = b"\x95\x03\x98\x04" + epoch(rand_time()).to_bytes(4, "big") + b"\x01\x0c\x00" + rb(900)
    body = "\n".join(wrap(b64(raw), 64))
    c = crc24(raw).to_bytes(3, "big")
    text = f"-----BEGIN PGP PRIVATE KEY BLOCK-----\n\n{body}\n={b64(c)}\n-----END PGP PRIVATE KEY BLOCK-----"
    return Spec("keys/pgp_private_key_block", body, native=[text], native_only=True)


@reg("keys/age_secret_key")
def _age():
    v = bech32_encode("age-secret-key-", rb(32)).upper()
    pub = bech32_encode("age", rb(32))
    text = [f"# created: {iso(rand_time(), False)}\n# public key: {pub}\n{v}", f"SOPS_AGE_KEY={v}", v]
    return Spec("keys/age_secret_key", v, native=text, standalone=True, native_only=True)


@reg("keys/jwk_private")
def _jwk():
    kid = hexd(16)
    if chance(0.5):
        k = {"kty": "EC", "crv": "P-256", "kid": kid, "use": "sig", "x": b64u(rb(32)), "y": b64u(rb(32)),
             "d": b64u(rb(32))}
    else:
        k = {"kty": "OKP", "crv": "Ed25519", "kid": kid, "x": b64u(rb(32)), "d": b64u(rb(32))}
    return Spec("keys/jwk_private", k["d"], native=[json.dumps(k), json.dumps({"keys": [k]}, indent=2)],
                native_only=True)


@reg("keys/pkcs12_base64")
def _p12():
    der = bytes.fromhex("30820a1d020103308209e306092a864886f70d010701a08209d4048209d0") + rb(2480)
    v = b64(der)
    name = ch(["KEYSTORE_P12_BASE64", "APPLE_CERT_P12", "SIGNING_CERT_PFX", "TLS_PFX_B64"])
    return Spec("keys/pkcs12_base64", v, native=[f"{name}={v}", f"{name.lower()}: {v}"], native_only=True)


# ---- tokens -----------------------------------------------------------------
prov("token/jwt_hs256", lambda: jwt("HS256"), "access token", "ACCESS_TOKEN",
     headers=["Authorization: Bearer {v}"], weight=1.3)
prov("token/jwt_rs256", lambda: jwt("RS256", sig_len=256), "ID token", "ID_TOKEN",
     headers=["Authorization: Bearer {v}"], attrs=["id_token", "access_token", "jwt"])
prov("token/jwt_refresh", lambda: jwt("HS512", {"token_type": "refresh", "jti": hexd(32), "user_id": ri(1000, 999999),
                                                 "exp": epoch(rand_time()) + 1209600}, sig_len=64),
     "refresh token", "REFRESH_TOKEN", attrs=["refresh_token", "refreshToken"])


# ---- generic secrets ---------------------------------------------------------
PW_SYM = "!*-_+.?~^"


def password(url_special=False) -> str:
    style = ri(0, 4)
    if style == 0:
        v = ch(PASS_WORDS) + str(ri(1, 2025)) + ch("!?.*#") * ri(1, 2)
    elif style == 1:
        v = "-".join(ch(PASS_WORDS).lower() for _ in range(3)) + str(ri(1, 99))
    elif style == 2:
        v = rs(AN + PW_SYM, ri(12, 22))
    elif style == 3:
        w = ch(PASS_WORDS)
        v = w[0].upper() + w[1:].replace("o", "0").replace("a", "@").replace("e", "3") + rs(DG, ri(2, 4)) + ch(PW_SYM)
    else:
        v = rs(AN, ri(16, 32))
    if url_special:
        v = v[: len(v) // 2] + ch(["#", "%", "#!", "%25"]) + v[len(v) // 2:]
    v = v.replace('"', "").replace("'", "").replace("\\", "")
    while len(v) < 10:
        v += rs(AN, 1)
    return v


def opaque() -> str:
    return ch([lambda: hexd(32), lambda: hexd(40), lambda: hexd(64), lambda: b64(rb(32)),
               lambda: b64u(rb(32)), lambda: rs(AN, ri(20, 48)), uuid4, lambda: rs(ANL, 32)])()


def styles(env: str) -> dict:
    parts = env.lower().split("_")
    camel = parts[0] + "".join(p.capitalize() for p in parts[1:])
    return {"env": env.upper(), "snake": env.lower(), "camel": camel, "kebab": "-".join(parts),
            "pascal": "".join(p.capitalize() for p in parts), "header": "-".join(p.capitalize() for p in parts)}


def q(v: str, pref='"') -> str:
    """quote with a quote character the value does not contain"""
    if pref in v:
        pref = "'" if pref == '"' else '"'
    return pref + v + pref


def kv_line(name: str, v: str, syntax: str) -> str:
    st = styles(name) if re.fullmatch(r"[A-Za-z0-9_]+", name) else None
    if st is None:  # non-ascii or odd names are used verbatim
        st = {k: name for k in ("env", "snake", "camel", "kebab", "pascal", "header")}
    if syntax == "env":
        return ch([f"{st['env']}={v}", f"{st['env']}={q(v)}", f"export {st['env']}={q(v, chr(39))}"])
    if syntax == "yaml":
        return ch([f"{st['snake']}: {v}", f"{st['snake']}: {q(v)}", f"{st['camel']}: {q(v, chr(39))}"])
    if syntax == "json":
        return ch([json.dumps({st["camel"]: v}, ensure_ascii=False), json.dumps({st["snake"]: v}, ensure_ascii=False)])
    if syntax == "ini":
        return ch([f"{st['snake']} = {v}", f"{st['snake']}={v}"])
    if syntax == "toml":
        return f"{st['snake']} = {q(v)}"
    if syntax == "python":
        return ch([f"{st['env']} = {q(v, chr(39))}", f"os.environ[{q(st['env'], chr(39))}] = {q(v, chr(39))}",
                   f"{{{q(st['snake'], chr(39))}: {q(v, chr(39))}}}", f"{st['snake']}={q(v)}"])
    if syntax == "ruby":
        return ch([f":{st['snake']} => {q(v, chr(39))}", f"{q(st['snake'], chr(39))} => {q(v, chr(39))}"])
    if syntax == "js":
        return ch([f"const {st['camel']} = {q(v, chr(39))};", f"{st['camel']}: {q(v)},",
                   f"process.env.{st['env']} ?? {q(v, chr(39))}"])
    if syntax == "log":
        return ch([f"{st['snake']}={v}", f"{st['snake']}: {v}", f'"{st["snake"]}":"{v}"'])
    if syntax == "cli":
        return ch([f"--{st['kebab']} {v}", f"--{st['kebab']}={v}", f"-e {st['env']}={v}"])
    if syntax == "xml":
        return ch([f'<add key="{st["pascal"]}" value="{v}" />', f"<{st['camel']}>{v}</{st['camel']}>"])
    if syntax == "header":
        return f"X-{st['header']}: {v}"
    if syntax == "properties":
        return f"{st['snake'].replace('_', '.')}={v}"
    return f"{st['snake']}: {v}"


def gspec(kind, value, native, attrs=None, standalone=False):
    return Spec(kind, value, native=native if isinstance(native, list) else [native], attrs=attrs or [],
                standalone=standalone, native_only=True)


def _pw_env():
    v = password()
    n = ch(["DB_PASSWORD", "POSTGRES_PASSWORD", "MYSQL_ROOT_PASSWORD", "SMTP_PASSWORD", "REDIS_PASSWORD",
            "ADMIN_PASSWORD", "LDAP_BIND_PASSWORD", "RABBITMQ_DEFAULT_PASS", "EMAIL_HOST_PASSWORD", "PGPASSWORD"])
    return gspec("generic/password_env", v, [f"{n}={v}", f"export {n}='{v}'", f"{n}=\"{v}\""])


def _pw_yaml():
    v = password()
    host = ch(HOSTS_INTERNAL)
    return gspec("generic/password_yaml", v, [
        f"database:\n  host: {host}\n  port: 5432\n  user: app\n  password: {v}",
        f"smtp:\n  host: smtp.{ch(DOMAINS_CORP)}\n  username: notifications\n  password: \"{v}\"",
        f"spring:\n  datasource:\n    url: jdbc:postgresql://{host}:5432/app\n    username: app\n    password: '{v}'"])


def _pw_json():
    v = password()
    return gspec("generic/password_json", v, [
        json.dumps({"host": ch(HOSTS_INTERNAL), "user": "svc_etl", "password": v, "database": "analytics"}),
        json.dumps({"username": "integration", "password": v}), f'"password": "{v}"'])


def _pw_ini():
    v = password()
    return gspec("generic/password_ini", v, [
        f"[database]\nhost = {ch(HOSTS_INTERNAL)}\nuser = app\npassword = {v}",
        f"[client]\nuser=root\npassword={v}", f"[ldap]\nbind_dn = cn=svc,ou=apps,dc=corp\nbind_password = {v}"])


def _pw_pyrepr():
    v = password()
    return gspec("generic/password_python_repr", v, [
        f"{{'user': 'svc_reports', 'password': '{v}', 'host': '{ch(HOSTS_INTERNAL)}', 'port': 5432}}",
        f"kwargs = {{'username': 'api', 'password': '{v}', 'timeout': 30}}",
        f"DATABASES['default'] = {{'ENGINE': 'django.db.backends.postgresql', 'NAME': 'app', 'USER': 'app', 'PASSWORD': '{v}'}}"])


def _pw_ruby():
    v = password()
    return gspec("generic/password_arrow", v, [
        f"{{ :username => 'deploy', :password => '{v}' }}", f"'password' => '{v}',",
        f"$config = ['db_user' => 'app', 'db_pass' => '{v}'];"])


def _pw_cli():
    v = password()
    h = ch(HOSTS_INTERNAL)
    return gspec("generic/password_cli_flag", v, [
        f"mysql -h {h} -u root -p{v} shop", f"mongosh --username admin --password {v} --host {h}",
        f"redis-cli -h {h} -a {v} INFO", f"./manage.py createsuperuser --username ops --password={v}",
        f"sshpass -p '{v}' ssh ops@{h}", f"pg_dump --dbname=app --username=app --password={v} > dump.sql",
        f"az login --service-principal -u {uuid4()} -p {v} --tenant {uuid4()}"])


def _pw_docker():
    v = password()
    reg_ = ch(["registry.gitlab.com", "ghcr.io", "docker.io", f"registry.{ch(DOMAINS_CORP)}",
               f"{ri(10**11, 10**12 - 1)}.dkr.ecr.{ch(REGIONS)}.amazonaws.com"])
    return gspec("generic/password_docker_login", v, [f"docker login -u ci-bot -p {v} {reg_}",
                                                       f"docker login {reg_} --username deploy --password {v}",
                                                       f"echo '{v}' | docker login {reg_} -u deploy --password-stdin"])


def _pw_tfvars():
    v = password()
    n = ch(["db_password", "admin_password", "master_password", "rds_password", "grafana_admin_password"])
    return gspec("generic/password_tfvars", v, [f'{n} = "{v}"',
                                                 f'region = "{ch(REGIONS)}"\ninstance_class = "db.t3.medium"\n{n} = "{v}"'])


def _pw_compose():
    v = password()
    return gspec("generic/password_compose", v, [
        f"services:\n  db:\n    image: postgres:16\n    environment:\n      POSTGRES_USER: app\n      POSTGRES_PASSWORD: {v}",
        f"    environment:\n      - MYSQL_ROOT_PASSWORD={v}\n      - MYSQL_DATABASE=shop",
        f"  grafana:\n    image: grafana/grafana:11.1.0\n    environment:\n      GF_SECURITY_ADMIN_PASSWORD: \"{v}\""])


def _pw_xml():
    v = password()
    return gspec("generic/password_xml", v, [f'<add key="SmtpPassword" value="{v}" />',
                                              f"<datasource>\n  <user>app</user>\n  <password>{v}</password>\n</datasource>",
                                              f'<server><id>nexus</id><username>deploy</username><password>{v}</password></server>'])


def _pw_prose():
    v = password()
    return gspec("generic/password_prose", v, [
        f"the admin login is ops / {v} until we set up SSO", f"I reset it, the new password is {v}",
        f"Credentials for the staging box: user deploy, pass {v}", f"pwd is {v} (please change after first login)",
        f"You can log in with the temporary password {v} and you'll be asked to change it."])


FOREIGN_PW = ["passwort", "Passwort", "kennwort", "mot_de_passe", "motDePasse", "contraseña", "contrasena",
              "senha", "wachtwoord", "lösenord", "hasło", "salasana", "parola_d_ordine", "heslo", "jelszó",
              "пароль", "密码", "パスワード", "adgangskode", "şifre"]


def _pw_foreign():
    v = password()
    w = ch(FOREIGN_PW)
    return gspec("generic/password_foreign_word", v, [f"{w}: {v}", f"{w}={v}", f'"{w}": "{v}"', f"{w} = '{v}'"],
                 attrs=[w])


def _pw_url():
    v = password(url_special=True)
    enc = v.replace("#", "%23") if chance(0.5) else v
    h = ch(HOSTS_INTERNAL)
    tpl = ch([f"postgres://app_rw:{enc}@{h}:5432/app", f"postgresql://reporting:{enc}@{h}/warehouse?sslmode=require",
              f"mysql://root:{enc}@{h}:3306/shop", f"redis://:{enc}@{h}:6379/0",
              f"mongodb+srv://svc:{enc}@cluster0.{rs(ANL, 5)}.mongodb.net/prod?retryWrites=true&w=majority",
              f"amqps://orders:{enc}@{h}:5671/%2F", f"https://deploy:{enc}@git.{ch(DOMAINS_CORP)}/platform/infra.git",
              f"smtp://notifications:{enc}@smtp.{ch(DOMAINS_CORP)}:587"])
    return gspec("generic/password_url_userinfo", enc, [tpl, f"DATABASE_URL={tpl}", f"url: {tpl}"])


def _pw_jdbc():
    v = password()
    h = ch(HOSTS_INTERNAL)
    return gspec("generic/password_jdbc", v, [
        f"jdbc:postgresql://{h}:5432/app?user=app&password={v}&ssl=true",
        f"jdbc:sqlserver://{h}:1433;databaseName=orders;user=sa;password={v};encrypt=true",
        f"jdbc:oracle:thin:scott/{v}@//{h}:1521/ORCLPDB1", f"jdbc:mysql://{h}:3306/shop?user=shop&password={v}"])


def _pw_odbc():
    v = password()
    srv = ch(SLUGS) + "-sql"
    return gspec("generic/password_odbc", v, [
        f"Driver={{ODBC Driver 18 for SQL Server}};Server=tcp:{srv}.database.windows.net,1433;Database=orders;Uid=app;Pwd={v};Encrypt=yes;",
        f"Server={srv}.database.windows.net;Database=crm;User Id=crm_app;Password={v};TrustServerCertificate=False;"])


def _pw_netrc():
    v = password() if chance(0.6) else gh_token("ghp_")
    return gspec("generic/password_netrc", v, [f"machine git.{ch(DOMAINS_CORP)}\n  login deploy\n  password {v}",
                                                f"machine api.{ch(DOMAINS_CORP)} login ci password {v}"])


def _pw_pgpass():
    v = password()
    return gspec("generic/password_pgpass", v, [f"{ch(HOSTS_INTERNAL)}:5432:app:app_rw:{v}",
                                                 f"*:*:*:replicator:{v}"])


def _k8s_secret():
    pw = password()
    v = b64(pw.encode())
    name = ch(["db-credentials", "app-secrets", "smtp-auth", "api-tokens"])
    return gspec("generic/password_k8s_secret_b64", v, [
        f"apiVersion: v1\nkind: Secret\nmetadata:\n  name: {name}\n  namespace: {ch(ENVS)}\ntype: Opaque\ndata:\n"
        f"  username: {b64(b'app')}\n  password: {v}"])


def _k8s_stringdata():
    v = password()
    return gspec("generic/password_k8s_stringdata", v, [
        f"apiVersion: v1\nkind: Secret\nmetadata:\n  name: {ch(SERVICES)}-env\ntype: Opaque\nstringData:\n"
        f"  DB_USER: app\n  DB_PASSWORD: \"{v}\""])


def _basic_auth():
    user = ch(["api", "admin", "svc_sync", "integration", "deploy"])
    v = b64(f"{user}:{password()}".encode())
    return gspec("generic/http_basic_auth", v, [f"Authorization: Basic {v}", f"-H 'Authorization: Basic {v}'",
                                                 f'"authorization": "Basic {v}"'])


def _curl_u():
    v = password()
    return gspec("generic/password_curl_user", v, [f"curl -u admin:{v} https://jenkins.{ch(DOMAINS_CORP)}/api/json",
                                                    f"curl --user svc:{v} -X POST https://api.{ch(DOMAINS_CORP)}/v1/sync"])


def _query_token():
    v = opaque()
    n = ch(["api_key", "access_token", "token", "apikey", "key", "auth", "secret", "private_token"])
    path = ch(["/api/v1/export", "/v2/reports/daily", "/webhooks/ingest", "/feeds/orders.csv", "/graphql"])
    if "+" in v or "/" in v or "=" in v:
        v = rs(AN, 40)
    return gspec("generic/token_query_string", v, [f"GET {path}?format=csv&{n}={v}&page=2 HTTP/1.1",
                                                    f"https://api.{ch(DOMAINS_CORP)}{path}?{n}={v}",
                                                    f"{path}?{n}={v}"])


def _api_header():
    v = opaque()
    h = ch(["X-API-Key", "X-Api-Key", "Api-Key", "X-Auth-Token", "X-Access-Token", "X-Secret-Key", "apikey"])
    return gspec("generic/api_key_header", v, [f"{h}: {v}", f"-H '{h}: {v}'", f'"{h}": "{v}"'])


def _bearer():
    v = rs(B64U, ri(32, 64))
    return gspec("generic/bearer_token_opaque", v, [f"Authorization: Bearer {v}", f"-H \"Authorization: Bearer {v}\"",
                                                     f"'Authorization': 'Bearer {v}'"])


def _drf():
    v = hexd(40)
    return gspec("generic/drf_token_header", v, [f"Authorization: Token {v}", f"curl -H 'Authorization: Token {v}' https://api.{ch(DOMAINS_CORP)}/api/orders/"])


def _key_prose():
    v = opaque()
    return gspec("generic/key_in_prose", v, [
        f"Our integration fails with key {v} since this morning.", f"we were given the api key {v} by your sales engineer",
        f"Is {v} still the right secret for the sandbox?", f"token {v} keeps returning 403",
        f"The vendor rotated our credentials, new access key: {v}"])


KV_FAMILIES = {
    "generic/kv_key": ["api_key", "apiKey", "api-key", "API_KEY", "x_api_key", "access_key", "secret_key",
                       "encryption_key", "master_key", "signing_key", "app_key", "client_key", "license_key_secret"],
    "generic/kv_secret": ["secret", "client_secret", "clientSecret", "app-secret", "APP_SECRET", "shared_secret",
                          "signing_secret", "jwt_secret", "webhookSecret", "consumer_secret", "hmac_secret"],
    "generic/kv_token": ["token", "access_token", "accessToken", "auth_token", "authToken", "refresh_token",
                         "api_token", "bot_token", "private_token", "PRIVATE_TOKEN", "personal_access_token"],
    "generic/kv_credential": ["credential", "credentials", "creds", "cred", "service_credential", "CREDENTIALS"],
    "generic/kv_auth": ["auth", "auth_hdr", "authorization", "auth_key", "authKey", "AUTH", "auth-secret"],
    "generic/kv_access": ["access", "access_code", "access_secret", "accessSecret", "ACCESS_KEY_SECRET"],
    "generic/kv_private": ["private", "private_key", "privateKey", "private_secret", "PRIVATE_API_KEY"],
    "generic/kv_password": ["password", "passwd", "pwd", "pass", "db_pass", "userPassword", "user-password",
                            "PASSWORD", "Password", "admin_pass"],
    "generic/kv_foreign_secret": ["geheimnis", "schluessel", "clé_secrète", "clave_secreta", "chave_secreta",
                                  "segreto", "token_acceso", "cle_api", "clave_api", "chave_api", "geheimer_schlüssel"],
}


def _kv_factory(kind, names):
    def f():
        name = ch(names)
        v = password() if kind == "generic/kv_password" else opaque()
        syn = ch(["env", "yaml", "json", "ini", "python", "ruby", "js", "log", "header", "cli", "toml", "xml"])
        safe = name if re.fullmatch(r"[A-Za-z0-9_]+", name) else None
        if safe:
            line = kv_line(safe, v, syn)
        else:
            line = ch([f"{name}: {v}", f"{name}={v}", f'"{name}": "{v}"', f"{name} => '{v}'"])
        return Spec(kind, v, native=[line], attrs=[name if safe else name.replace("-", "_")], native_only=True,
                    standalone=False)
    return f


for _k, _n in KV_FAMILIES.items():
    KINDS[_k] = (_kv_factory(_k, _n), 1.5)


@reg("generic/password_attribute", 1.5)
def _pw_attr():
    v = password()
    return Spec("generic/password_attribute", v, attrs=["password", "passwd", "pwd", "passwort", "mot_de_passe",
                                                         "contraseña", "senha", "db_password", "admin_password",
                                                         "temp_password", "initial_password"])


@reg("generic/secret_attribute")
def _sec_attr():
    v = opaque()
    return Spec("generic/secret_attribute", v, attrs=["api_key", "secret", "client_secret", "access_token",
                                                       "auth_hdr", "private_token", "apiSecret", "signing_key",
                                                       "webhook_secret", "credential"])


@reg("generic/session_id_attribute")
def _sess_attr():
    return Spec("generic/session_id_attribute", rs(ANL, 32),
                attrs=["sess_id", "session_key", "sessionid", "session_token", "sid", "django_session"])


@reg("generic/django_secret_key", 1.3)
def _dj():
    alpha = "abcdefghijklmnopqrstuvwxyz0123456789!@#%^&*(-_=+)"
    v = ch(["django-insecure-", ""]) + rs(alpha, 50)
    return gspec("generic/django_secret_key", v, [f"SECRET_KEY = '{v}'", f"DJANGO_SECRET_KEY={v}",
                                                   f"SECRET_KEY: \"{v}\""], attrs=["secret_key", "django_secret_key"])


@reg("generic/rails_secret_key_base")
def _rails():
    v = hexd(128)
    return gspec("generic/rails_secret_key_base", v, [f"SECRET_KEY_BASE={v}", f"production:\n  secret_key_base: {v}"],
                 attrs=["secret_key_base"])


@reg("generic/flask_secret_key")
def _flask():
    v = hexd(48)
    return gspec("generic/flask_secret_key", v, [f"app.secret_key = '{v}'", f"FLASK_SECRET_KEY={v}",
                                                  f"app.config['SECRET_KEY'] = \"{v}\""])


@reg("generic/laravel_app_key")
def _laravel():
    v = "base64:" + b64(rb(32))
    return gspec("generic/laravel_app_key", v, [f"APP_KEY={v}", f"APP_ENV=production\nAPP_KEY={v}\nAPP_DEBUG=false"])


@reg("generic/fernet_key")
def _fernet():
    v = base64.urlsafe_b64encode(rb(32)).decode()
    return gspec("generic/fernet_key", v, [f"AIRFLOW__CORE__FERNET_KEY={v}", f"fernet_key = {v}",
                                            f"FIELD_ENCRYPTION_KEY = '{v}'"])


@reg("generic/encryption_key_hex")
def _enckey():
    v = hexd(64)
    return gspec("generic/encryption_key_hex", v, [f"ENCRYPTION_KEY={v}", f"aes_key: {v}", f"DATA_KEY_HEX={v}"],
                 attrs=["encryption_key", "aes_key"])


@reg("generic/totp_secret")
def _totp():
    v = rs(B32, 32)
    return gspec("generic/totp_secret", v, [
        f"otpauth://totp/{ch(COMPANIES).split()[0]}:ops?secret={v}&issuer={ch(COMPANIES).split()[0]}&digits=6",
        f"MFA_SEED={v}", f"2FA recovery seed: {v}"], attrs=["otp_secret", "totp_secret", "mfa_secret"])


@reg("generic/session_cookie_django", 1.3)
def _dj_cookie():
    v = rs(ANL, 32)
    return gspec("generic/session_cookie_django", v, [
        f"Cookie: django_language=en; sessionid={v}",
        f"Set-Cookie: sessionid={v}; expires=Thu, 01 May 2025 10:00:00 GMT; HttpOnly; Max-Age=1209600; Path=/; SameSite=Lax; Secure",
        f"sessionid={v}"], attrs=["session_key", "sessionid", "sess_id"])


@reg("generic/session_cookie_java")
def _jsess():
    v = hexd(32).upper()
    return gspec("generic/session_cookie_java", v, [f"Cookie: JSESSIONID={v}; Path=/",
                                                     f"Set-Cookie: JSESSIONID={v}; Path=/app; Secure; HttpOnly"])


@reg("generic/session_cookie_php")
def _php():
    v = rs(ANL, 26)
    return gspec("generic/session_cookie_php", v, [f"Cookie: PHPSESSID={v}", f"Set-Cookie: PHPSESSID={v}; path=/; HttpOnly"])


@reg("generic/session_cookie_express")
def _express():
    v = "s%3A" + rs(B64U, 32) + "." + rs(B64, 43).replace("+", "%2B").replace("/", "%2F")
    return gspec("generic/session_cookie_express", v, [f"Cookie: connect.sid={v}", f"Set-Cookie: connect.sid={v}; Path=/; HttpOnly"])


@reg("generic/session_cookie_rails")
def _rails_cookie():
    v = b64(rb(ri(90, 160))).replace("=", "%3D").replace("+", "%2B").replace("/", "%2F") + "--" + hexd(40)
    return gspec("generic/session_cookie_rails", v, [f"Cookie: _shop_session={v}", f"Set-Cookie: _shop_session={v}; path=/; secure; HttpOnly; SameSite=Lax"])


@reg("generic/password_reset_token_url")
def _reset():
    ts = base62(ri(10**9, 10**10), 6).lower()
    v = ts + "-" + hexd(32)
    uid = b64u(str(ri(100, 99999)).encode())
    return gspec("generic/password_reset_token_url", v, [f"https://app.{ch(DOMAINS_CORP)}/accounts/reset/{uid}/{v}/",
                                                          f"Reset your password: https://{ch(DOMAINS_CORP)}/reset/{uid}/{v}/"])


for _k, _f in [("generic/password_env", _pw_env), ("generic/password_yaml", _pw_yaml), ("generic/password_json", _pw_json),
               ("generic/password_ini", _pw_ini), ("generic/password_python_repr", _pw_pyrepr),
               ("generic/password_arrow", _pw_ruby), ("generic/password_cli_flag", _pw_cli),
               ("generic/password_docker_login", _pw_docker), ("generic/password_tfvars", _pw_tfvars),
               ("generic/password_compose", _pw_compose), ("generic/password_xml", _pw_xml),
               ("generic/password_prose", _pw_prose), ("generic/password_foreign_word", _pw_foreign),
               ("generic/password_url_userinfo", _pw_url), ("generic/password_jdbc", _pw_jdbc),
               ("generic/password_odbc", _pw_odbc), ("generic/password_netrc", _pw_netrc),
               ("generic/password_pgpass", _pw_pgpass), ("generic/password_k8s_secret_b64", _k8s_secret),
               ("generic/password_k8s_stringdata", _k8s_stringdata), ("generic/http_basic_auth", _basic_auth),
               ("generic/password_curl_user", _curl_u), ("generic/token_query_string", _query_token),
               ("generic/api_key_header", _api_header), ("generic/bearer_token_opaque", _bearer),
               ("generic/drf_token_header", _drf), ("generic/key_in_prose", _key_prose)]:
    KINDS[_k] = (_f, 1.5)


# ---- personal data -------------------------------------------------------------
def pii(kind, gen, labels, attrs, standalone=True, numeric=False, weight=1.0, prose=None):
    def f():
        v = gen()
        lab = ch(labels)
        pr = prose or [f"{lab}: {{v}}", f"my {lab} is {{v}}", f"{lab} {{v}}", f"({lab} {{v}})",
                       f"{lab[0].upper() + lab[1:]} on file: {{v}}"]
        digits = re.sub(r"\D", "", v)
        num = numeric and len(digits) >= 8 and digits[0] != "0"
        sp = Spec(kind, v, label=lab, attrs=list(attrs), standalone=standalone, numeric=num,
                  prose=[p.replace("{v}", v) for p in pr])
        sp.digits = digits if num else ""
        return sp
    KINDS[kind] = (f, weight)


def gen_until(fn, ok, tries=500):
    for _ in range(tries):
        v = fn()
        if ok(v):
            return v
    raise RuntimeError("generator failed")


def ssn_digits():
    return gen_until(lambda: "%03d%02d%04d" % (ri(1, 899), ri(1, 99), ri(1, 9999)), sn_ssn.is_valid)


pii("national_id/us_ssn", lambda: (lambda d: f"{d[:3]}-{d[3:5]}-{d[5:]}")(ssn_digits()),
    ["SSN", "social security number", "SS#", "social"], ["ssn", "social_security_number", "ssn_full", "tax_id"],
    weight=1.5)
pii("national_id/us_ssn_nosep", ssn_digits, ["SSN", "social security no", "ssn"], ["ssn", "SSN", "ss_number"],
    numeric=True, standalone=False)
pii("national_id/us_itin",
    lambda: gen_until(lambda: "9%02d-%02d-%04d" % (ri(0, 99), ch(list(range(70, 89)) + list(range(90, 93))), ri(1, 9999)),
                      sn_itin.is_valid),
    ["ITIN", "taxpayer id"], ["itin", "tax_id"])

NINO_BAD = {"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"}


def nino():
    a = "ABCEGHJKLMNPRSTWXYZ"
    b = "ABCEGHJKLMNPRSTWXYZ".replace("O", "")
    while True:
        p = ch(a) + ch(b)
        if p not in NINO_BAD:
            break
    d = rs(DG, 6)
    s = ch("ABCD")
    return ch([f"{p}{d}{s}", f"{p} {d[:2]} {d[2:4]} {d[4:]} {s}"])


pii("national_id/uk_nino", nino, ["NI number", "National Insurance number", "NINO"],
    ["ni_number", "nino", "national_insurance_number"])


def nhs():
    def cand():
        body = rs(DG, 9)
        c = 11 - sum(int(x) * (10 - i) for i, x in enumerate(body)) % 11
        c = 0 if c == 11 else c
        return body + str(c) if c != 10 else "0"
    d = gen_until(cand, sn_nhs.is_valid)
    return ch([f"{d[:3]} {d[3:6]} {d[6:]}", d, f"{d[:3]}-{d[3:6]}-{d[6:]}"])


pii("national_id/uk_nhs_number", nhs, ["NHS number", "NHS no."], ["nhs_number", "nhs_no"], numeric=True)


def ca_sin():
    d = gen_until(lambda: luhn_complete(ch("1234567"), 9), sn_sin.is_valid)
    return ch([f"{d[:3]} {d[3:6]} {d[6:]}", f"{d[:3]}-{d[3:6]}-{d[6:]}", d])


pii("national_id/ca_sin", ca_sin, ["SIN", "social insurance number"], ["sin", "social_insurance_number"], numeric=True)


def aadhaar():
    def cand():
        body = ch("23456789") + rs(DG, 10)
        return body + sn_verhoeff.calc_check_digit(body)
    d = gen_until(cand, sn_aadhaar.is_valid)
    return ch([f"{d[:4]} {d[4:8]} {d[8:]}", d, f"{d[:4]}-{d[4:8]}-{d[8:]}"])


pii("national_id/in_aadhaar", aadhaar, ["Aadhaar", "Aadhaar number", "UID"], ["aadhaar", "aadhaar_number", "uidai"], numeric=True)
pii("national_id/in_pan", lambda: gen_until(lambda: rs(UP, 3) + ch("PCHFATBLJG") + rs(UP, 1) + rs(DG, 4) + rs(UP, 1),
                                            sn_pan.is_valid),
    ["PAN", "PAN card", "permanent account number"], ["pan", "pan_number", "pan_card"])


def steuer_id():
    def cand():
        first = ch("123456789")
        digs = list(first + rs(DG, 9))
        body = "".join(digs)
        return body + mod_11_10.calc_check_digit(body)
    d = gen_until(cand, sn_idnr.is_valid, 5000)
    return ch([d, f"{d[:2]} {d[2:5]} {d[5:8]} {d[8:]}"])


pii("national_id/de_steuer_id", steuer_id, ["Steuer-ID", "Steueridentifikationsnummer", "IdNr", "tax ID"],
    ["steuer_id", "steuerid", "tax_id", "steueridentifikationsnummer"], numeric=True)


def fr_nir():
    def cand():
        body = f"{ch('12')}{ri(40, 99):02d}{ri(1, 12):02d}{ri(1, 95):02d}{ri(1, 990):03d}{ri(1, 999):03d}"
        return body + sn_nir.calc_check_digits(body)
    d = gen_until(cand, sn_nir.is_valid)
    return ch([d, f"{d[0]} {d[1:3]} {d[3:5]} {d[5:7]} {d[7:10]} {d[10:13]} {d[13:]}"])


pii("national_id/fr_nir", fr_nir, ["numéro de sécurité sociale", "NIR", "n° sécu"], ["nir", "numero_secu", "insee"], numeric=True)
pii("national_id/es_dni", lambda: gen_until(lambda: (lambda n: f"{n:08d}" + "TRWAGMYFPDXBNJZSQVHLCKE"[n % 23])(
    ri(1000000, 99999999)), sn_dni.is_valid),
    ["DNI", "documento nacional de identidad"], ["dni", "documento", "document_number"])


def nie():
    p = ri(0, 2)
    n = ri(0, 9999999)
    return "XYZ"[p] + f"{n:07d}" + "TRWAGMYFPDXBNJZSQVHLCKE"[(p * 10**7 + n) % 23]


pii("national_id/es_nie", lambda: gen_until(nie, sn_nie.is_valid), ["NIE"], ["nie", "document_number"])


def codice_fiscale():
    def cand():
        cons = "BCDFGHLMNPRSTVZ"
        body = (rs(cons, 3) + rs(cons, 3) + f"{ri(40, 99):02d}" + ch("ABCDEHLMPRST")
                + f"{ri(1, 28) + ch([0, 40]):02d}" + ch("ABCDEFGHILM") + f"{ri(1, 999):03d}")
        return body + sn_cf.calc_check_digit(body)
    return gen_until(cand, sn_cf.is_valid)


pii("national_id/it_codice_fiscale", codice_fiscale, ["codice fiscale", "CF"], ["codice_fiscale", "cf", "tax_code"])


def cpf():
    body = rs(DG, 9)
    d1 = (sum(int(c) * w for c, w in zip(body, range(10, 1, -1))) * 10) % 11 % 10
    d2 = (sum(int(c) * w for c, w in zip(body + str(d1), range(11, 1, -1))) * 10) % 11 % 10
    d = body + str(d1) + str(d2)
    if not sn_cpf.is_valid(d):
        return cpf()
    return ch([f"{d[:3]}.{d[3:6]}.{d[6:9]}-{d[9:]}", d])


pii("national_id/br_cpf", cpf, ["CPF"], ["cpf", "cpf_number"], numeric=True)


def cnpj():
    body = rs(DG, 8) + "0001"
    d = body + sn_cnpj.calc_check_digits(body)
    return ch([f"{d[:2]}.{d[2:5]}.{d[5:8]}/{d[8:12]}-{d[12:]}", d])


pii("national_id/br_cnpj", lambda: gen_until(cnpj, lambda v: sn_cnpj.is_valid(v)), ["CNPJ"], ["cnpj"], numeric=True)


def tfn():
    d = gen_until(lambda: ch("123456789") + rs(DG, 8), lambda v: sn_tfn.checksum(v) == 0, 5000)
    return ch([f"{d[:3]} {d[3:6]} {d[6:]}", d])


pii("national_id/au_tfn", tfn, ["TFN", "tax file number"], ["tfn", "tax_file_number"], numeric=True)


def au_medicare():
    body = ch("23456") + rs(DG, 7)
    c = sum(int(x) * w for x, w in zip(body, [1, 3, 7, 9, 1, 3, 7, 9])) % 10
    d = body + str(c) + str(ri(1, 9))
    return ch([f"{d[:4]} {d[4:9]} {d[9]}", d])


pii("national_id/au_medicare", au_medicare, ["Medicare number", "Medicare card"], ["medicare_number", "medicare_no"], numeric=True)
pii("national_id/nl_bsn", lambda: gen_until(lambda: rs(DG, 9), lambda v: v[0] != "0" and sn_bsn.is_valid(v), 5000),
    ["BSN", "burgerservicenummer"], ["bsn", "burgerservicenummer"], numeric=True)


def pesel():
    b = rand_birth()
    mm = b.month + (20 if b.year >= 2000 else 0)
    body = f"{b.year % 100:02d}{mm:02d}{b.day:02d}{rs(DG, 4)}"
    return body + str(sn_pesel.calc_check_digit(body))


pii("national_id/pl_pesel", lambda: gen_until(pesel, sn_pesel.is_valid), ["PESEL"], ["pesel"], numeric=True)


def pnr():
    b = rand_birth()
    body = f"{b.year % 100:02d}{b.month:02d}{b.day:02d}{rs(DG, 3)}"
    d = body + sn_luhn.calc_check_digit(body)
    return f"{b.year // 100}{d[:6]}-{d[6:]}" if chance(0.5) else f"{d[:6]}-{d[6:]}"


pii("national_id/se_personnummer", lambda: gen_until(pnr, sn_pnr.is_valid), ["personnummer"], ["personnummer"])
pii("national_id/passport_us", lambda: ch([rs(DG, 9), ch("ACDEFGHJKLMNPRSTUVWXYZ") + rs(DG, 8)]),
    ["passport no.", "passport number", "US passport #"], ["passport_number", "passport_no", "document_number"],
    standalone=False)
pii("national_id/passport_uk", lambda: ch("1234567") + rs(DG, 8), ["passport number", "UK passport no."],
    ["passport_number", "passport_no"], standalone=False)
pii("national_id/passport_de", lambda: ch("CFGHJK") + rs("CFGHJKLMNPRTVWXYZ0123456789", 8),
    ["Reisepassnummer", "Passnummer", "passport no."], ["reisepassnummer", "passport_number", "document_number"],
    standalone=False)
pii("national_id/passport_in", lambda: ch("JKLMNPRSTVWZ") + ch("123456789") + rs(DG, 6),
    ["passport no.", "passport number"], ["passport_number", "passport_no"], standalone=False)
pii("national_id/dl_us_california", lambda: ch(UP) + rs(DG, 7), ["driver's license", "DL#", "CA DL"],
    ["drivers_license", "dl_number", "license_number"], standalone=False)
pii("national_id/dl_us_newyork", lambda: rs("123456789", 1) + rs(DG, 8), ["driver license no.", "NY DL"],
    ["drivers_license", "dl_number"], standalone=False)


def uk_dl():
    sur = (rs(UP, ri(3, 5)) + "99999")[:5]
    b = rand_birth()
    m = b.month + (50 if chance(0.5) else 0)
    return f"{sur}{str(b.year)[2]}{m:02d}{b.day:02d}{str(b.year)[3]}{rs(UP, 2)}{ri(0, 9)}{rs(UP + DG, 2)}"


pii("national_id/dl_uk", uk_dl, ["driving licence number", "licence no."], ["driving_licence_number", "licence_number"],
    standalone=False)


@reg("national_id/passport_mrz")
def _mrz():
    fk = FK[ch(["en_GB", "de_DE", "fr_FR", "nl_NL", "sv_SE"])]
    sur = re.sub(r"[^A-Z]", "<", fk.last_name().upper().translate(str.maketrans("ÄÖÜÉÈÀÇËÏÅ", "AOUEEACEIA")))
    giv = re.sub(r"[^A-Z]", "<", fk.first_name().upper().translate(str.maketrans("ÄÖÜÉÈÀÇËÏÅ", "AOUEEACEIA")))
    country = ch(["GBR", "DEU", "FRA", "NLD", "SWE", "UTO"])
    namef = f"{sur}<<{giv}"
    line1 = ("P<" + country + namef + "<" * 44)[:44]
    num = rs(UP + DG, 9)
    b = rand_birth()
    dob = f"{b.year % 100:02d}{b.month:02d}{b.day:02d}"
    exp = f"{ri(26, 34):02d}{ri(1, 12):02d}{ri(1, 28):02d}"
    pers = rs(DG, ri(6, 10))
    pers = (pers + "<" * 14)[:14]
    l2 = num + mrz_check(num) + country + dob + mrz_check(dob) + ch("MF") + exp + mrz_check(exp) + pers + mrz_check(pers)
    comp = l2[0:10] + l2[13:20] + l2[21:43]
    l2 = l2 + mrz_check(comp)
    extra = [(namef, "person/name_mrz")] if len(namef) >= 8 else []
    return Spec("national_id/passport_mrz", l2, native=[f"{line1}\n{l2}"], extra=extra, native_only=True)


# financial
def card(prefixes, length):
    p = ch(prefixes)
    return luhn_complete(p, length)


def fmt_card(d):
    if len(d) == 15:
        return ch([f"{d[:4]} {d[4:10]} {d[10:]}", d, f"{d[:4]}-{d[4:10]}-{d[10:]}"])
    return ch([" ".join(wrap(d, 4)), d, "-".join(wrap(d, 4))])


CARD_LABELS = ["card number", "card", "CC#", "credit card", "Kartennummer", "numéro de carte", "PAN"]
CARD_ATTRS = ["card_number", "cc_number", "pan", "card_no", "kartennummer", "credit_card"]
pii("financial/card_visa", lambda: fmt_card(card(["4"], 16)), CARD_LABELS, CARD_ATTRS, numeric=True, weight=1.5)
pii("financial/card_mastercard", lambda: fmt_card(card(["51", "52", "53", "54", "55", str(ri(2221, 2720))], 16)),
    CARD_LABELS, CARD_ATTRS, numeric=True, weight=1.3)
pii("financial/card_amex", lambda: fmt_card(card(["34", "37"], 15)), CARD_LABELS, CARD_ATTRS, numeric=True)
pii("financial/card_discover", lambda: fmt_card(card(["6011", "65", "644", "649"], 16)), CARD_LABELS, CARD_ATTRS,
    numeric=True)
pii("financial/card_jcb", lambda: fmt_card(card([str(ri(3528, 3589))], 16)), CARD_LABELS, CARD_ATTRS, numeric=True)
pii("financial/card_unionpay", lambda: fmt_card(card(["62"], 16)), CARD_LABELS, CARD_ATTRS, numeric=True)

IBAN_BBAN = {
    "DE": lambda: rs(DG, 18), "GB": lambda: ch(["NWBK", "BARC", "LOYD", "HBUK", "MIDL"]) + rs(DG, 14),
    "FR": lambda: rs(DG, 10) + rs(UP + DG, 11) + rs(DG, 2), "ES": lambda: rs(DG, 20),
    "NL": lambda: ch(["ABNA", "INGB", "RABO", "TRIO", "SNSB"]) + rs(DG, 10),
    "IT": lambda: rs(UP, 1) + rs(DG, 10) + rs(DG, 12), "BE": lambda: rs(DG, 12),
}


def iban_valid(cc):
    def cand():
        bban = IBAN_BBAN[cc]()
        num = cc + "00" + bban
        return cc + sn_iban.calc_check_digits(num) + bban
    return gen_until(cand, sn_iban.is_valid, 5000)


def fmt_iban(v):
    return ch([" ".join(wrap(v, 4)), v])


for _cc in IBAN_BBAN:
    pii(f"financial/iban_{_cc.lower()}", (lambda c: (lambda: fmt_iban(iban_valid(c))))(_cc),
        ["IBAN", "bank account (IBAN)", "Kontonummer/IBAN", "RIB/IBAN"], ["iban", "bank_iban", "payout_iban", "iban_number"])


def aba():
    body = "%02d" % ch(list(range(1, 13)) + list(range(21, 33))) + rs(DG, 6)
    return body + sn_rtn.calc_check_digit(body)


pii("financial/aba_routing_number", aba, ["routing number", "ABA", "RTN", "routing #"],
    ["routing_number", "aba_routing", "aba"], standalone=False, numeric=True)
pii("financial/us_bank_account", lambda: ch("123456789") + rs(DG, ri(8, 11)), ["account number", "acct #", "checking account"],
    ["account_number", "bank_account_number", "acct_no"], standalone=False, numeric=True)


@reg("financial/direct_deposit")
def _dd():
    r_ = aba()
    acct = ch("123456789") + rs(DG, ri(8, 11))
    native = [f"Routing: {r_}  Account: {acct}", f"direct deposit -> ABA {r_}, acct {acct} (checking)",
              f"routing_number={r_}\naccount_number={acct}"]
    return Spec("financial/direct_deposit", acct, native=native, extra=[(r_, "financial/aba_routing_number")],
                native_only=True)


@reg("financial/uk_account_number")
def _ukacct():
    acct = ch("123456789") + rs(DG, 7)
    sc = f"{ri(10, 99)}-{ri(10, 99)}-{ri(10, 99)}"
    return Spec("financial/uk_account_number", acct, native=[f"sort code {sc}, account no. {acct}",
                                                             f"Sort code: {sc}\nAccount number: {acct}"],
                native_only=True)


# medical
pii("medical/mrn", lambda: ch(["", "MR", "00"]) + rs(DG, ri(8, 10)), ["MRN", "medical record number", "chart #"],
    ["mrn", "medical_record_number", "patient_mrn", "chart_number"], standalone=False)


def mbi():
    c = "123456789"
    a = "ACDEFGHJKMNPQRTUVWXY"
    an = a + DG
    v = ch(c) + ch(a) + ch(an) + ch(DG) + ch(a) + ch(an) + ch(DG) + ch(a) + ch(a) + ch(DG) + ch(DG)
    return ch([v, f"{v[:4]}-{v[4:7]}-{v[7:]}"])


pii("medical/us_medicare_mbi", mbi, ["Medicare ID", "MBI", "Medicare Beneficiary Identifier"],
    ["mbi", "medicare_id", "medicare_beneficiary_id"])
pii("medical/insurance_member_id", lambda: ch([rs(UP, 3) + rs(DG, 9), "W" + rs(DG, 9), rs(UP, 2) + rs(DG, 8) + "01"]),
    ["member ID", "subscriber ID", "policy number", "insurance ID"],
    ["member_id", "insurance_id", "policy_number", "subscriber_id"], standalone=False)


def kvnr():
    letter = ch(UP)
    digs = rs(DG, 8)
    s = f"{ord(letter) - 64:02d}" + digs
    tot = 0
    for i, c in enumerate(s):
        p = int(c) * (1 if i % 2 == 0 else 2)
        tot += p // 10 + p % 10
    return letter + digs + str(tot % 10)


pii("medical/de_kvnr", kvnr, ["Versichertennummer", "KVNR", "Krankenversichertennummer"],
    ["kvnr", "versichertennummer"], standalone=False)

# vehicle
WMI = ["1HG", "WBA", "WVW", "JTD", "5YJ", "1FT", "VF1", "ZFA", "SAL", "KMH", "3VW", "YV1", "WDD", "JN1"]


def vin():
    body = ch(WMI) + rs(VIN_ALPHA, 5) + "0" + ch("LMNPRSTVWXY123456789") + rs(VIN_ALPHA, 1) + rs(DG, 6)
    return body[:8] + vin_check(body) + body[9:]


pii("vehicle/vin", vin, ["VIN", "vehicle identification number", "chassis no."], ["vin", "vehicle_vin", "chassis_number"])


# network
def ipv4_public():
    while True:
        a = ri(11, 223)
        b, c, d = ri(0, 255), ri(0, 255), ri(1, 254)
        if a in (100, 127, 169, 172, 192, 198, 203) and (
                (a == 100 and 64 <= b < 128) or a == 127 or (a == 169 and b == 254) or (a == 172 and 16 <= b < 32)
                or (a == 192 and b in (0, 88, 168)) or (a == 198 and b in (18, 19, 51)) or (a == 203 and b == 0)):
            continue
        s = f"{a}.{b}.{c}.{d}"
        if len(s) >= 9:
            return s


def ipv6_global():
    first = ch(["2a02", "2a01", "2001", "2003", "2600", "2601", "2604", "2607", "2800", "240e", "2c0f", "2405"])
    if first == "2001":
        first += ":" + ch(["4860", "67c", "1c00", "8a0"])
        groups = [rs(HEX, ri(1, 4)).lstrip("0") or "0" for _ in range(6)]
    else:
        groups = [rs(HEX, ri(1, 4)).lstrip("0") or "0" for _ in range(7)]
    if chance(0.4):
        groups[2:4] = [""]
    s = first + ":" + ":".join(groups)
    return s.replace(":::", "::")


def mac():
    b = bytearray(rb(6))
    b[0] &= 0xFC
    h = b.hex()
    return ch([":".join(wrap(h, 2)), ":".join(wrap(h.upper(), 2)), "-".join(wrap(h.upper(), 2)), ".".join(wrap(h, 4))])


pii("network/ipv4_public", ipv4_public, ["IP", "client IP", "source IP"],
    ["ip", "ip_address", "client_ip", "remote_addr", "last_login_ip", "source_ip"],
    prose=["login from {v}", "client {v} hit the rate limit", "my IP is {v}", "request came from {v}",
           "IP address: {v}"], weight=1.3)
pii("network/ipv6_global", ipv6_global, ["IPv6", "client IP"], ["ip", "ip_address", "client_ip", "remote_addr"],
    prose=["login from {v}", "my IPv6 address is {v}", "src={v}", "connection from [{v}]"])
pii("network/mac_address", mac, ["MAC", "MAC address", "device MAC"], ["mac", "mac_address", "device_mac", "wifi_mac"])

# contact
PHONE_REGIONS = ["US", "GB", "DE", "FR", "IN", "BR", "AU", "ES", "IT", "NL", "JP", "MX"]
PT = phonenumbers.PhoneNumberType


def phone(region, mobile=True):
    t = PT.MOBILE if mobile or region == "US" else PT.FIXED_LINE
    ex = phonenumbers.example_number_for_type(region, t)
    nsn = phonenumbers.national_significant_number(ex)
    for _ in range(400):
        keep = ri(1, 3)
        cand = nsn[:keep] + rs(DG, len(nsn) - keep)
        if region == "US" and (cand[3:6] == "555" or cand[:3] in ("555", "800", "888", "877", "866", "900")):
            continue
        n = phonenumbers.parse("+" + str(ex.country_code) + cand)
        if phonenumbers.is_valid_number(n) and cand != nsn:
            return n
    raise RuntimeError(region)


def phone_fmt(region, style):
    n = phone(region, mobile=chance(0.7))
    if style == "intl":
        return phonenumbers.format_number(n, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    if style == "national":
        return phonenumbers.format_number(n, phonenumbers.PhoneNumberFormat.NATIONAL)
    if chance(0.5):
        return phonenumbers.format_number(n, phonenumbers.PhoneNumberFormat.E164)
    return re.sub(r"\D", "", phonenumbers.format_number(n, phonenumbers.PhoneNumberFormat.NATIONAL))


PHONE_PROSE = ["call me at {v}", "Tel: {v}", "mobile {v}", "WhatsApp: {v}", "you can reach me on {v}",
               "Phone: {v}", "Telefon: {v}", "tél. {v}", "contact number {v}", "please text {v} when the driver arrives"]
for _r in PHONE_REGIONS:
    for _st in ("intl", "national", "nosep"):
        pii(f"contact/phone_{_r.lower()}_{_st}", (lambda r, s: (lambda: phone_fmt(r, s)))(_r, _st), ["phone"],
            ["phone", "phone_number", "mobile", "tel", "telefon", "contact_number", "msisdn", "emergency_phone"],
            prose=PHONE_PROSE, numeric=(_st == "nosep"), standalone=(_st != "nosep"), weight=0.7)

NAME_LOCALES = ["en_US", "en_US", "en_GB", "de_DE", "fr_FR", "es_ES", "it_IT", "pt_BR", "nl_NL", "pl_PL", "en_IN",
                "en_AU", "sv_SE"]


def person_name(loc=None, minlen=8):
    f = FK[loc or ch(NAME_LOCALES)]
    for _ in range(50):
        n = f.first_name() + " " + f.last_name()
        if chance(0.08):
            n = f.first_name() + " " + f.first_name()[0] + ". " + f.last_name()
        if len(n) >= minlen:
            return n
    return n + " " + f.last_name()


def translit(s):
    return s.lower().translate(str.maketrans("äöüéèêàáçëïåíóúñãõłśżź", "aoueeeaaceiaiounaolszz")).replace("ß", "ss")


def email_for(name=None, style="plain"):
    name = name or person_name()
    parts = [re.sub(r"[^a-z]", "", translit(p)) for p in name.split() if p.strip(".")]
    parts = [p for p in parts if p] or ["user"]
    first, last = parts[0], parts[-1]
    local = ch([f"{first}.{last}", f"{first[0]}{last}", f"{first}_{last}{ri(1, 99)}", f"{first}{last[0]}",
                f"{last}.{first}"])
    dom = ch(DOMAINS_FREE + DOMAINS_CORP)
    if style == "plus":
        local += "+" + ch(["billing", "shop", "news", "amazon", "work", "test", "2024"])
        dom = ch(["gmail.com", "proton.me", "fastmail.com", "outlook.com"])
    elif style == "unicode":
        uni = name.split()
        local = ch([".".join(x.lower() for x in uni), uni[0].lower(), "иван.петров", "用户", "josé.núñez"])
        dom = ch(["correo.es", "bücher-müller.de", "почта.рф", "例子.中国", "müller-bäckerei.de", "gmail.com"])
    elif style == "corp":
        dom = ch(["eu.", "us.", "mail.", "corp."]) + ch(DOMAINS_CORP)
    v = f"{local}@{dom}"
    return v if len(v) >= 8 else "x" + v


EMAIL_ATTRS = ["email", "email_address", "contact_email", "billing_email", "e_mail", "correo", "user_email"]
EMAIL_PROSE = ["reach me at {v}", "my email is {v}", "please CC {v}", "send the invoice to {v}", "Email: {v}",
               "reply to {v} instead", "E-Mail: {v}", "courriel : {v}"]
for _st in ("plain", "plus", "unicode", "corp"):
    pii(f"contact/email_{_st}", (lambda s: (lambda: email_for(style=s)))(_st), ["email"], EMAIL_ATTRS,
        prose=EMAIL_PROSE, weight=1.3 if _st == "plain" else 1.0)


# dates of birth
def _dob(kind, fmt, prose, attrs=("dob", "date_of_birth", "birthdate", "birth_date")):
    def f():
        b = rand_birth()
        v = fmt(b)
        return Spec(kind, v, attrs=list(attrs), prose=[p.replace("{v}", v) for p in prose])
    KINDS[kind] = (f, 1.0)


_dob("dob/prose_en", lambda b: f"{b.day} {MONTHS_EN[b.month - 1]} {b.year}",
     ["born {v}", "I was born on {v}", "patient born {v}", "(born {v})", "date of birth {v}"])
_dob("dob/prose_us", lambda b: f"{MONTHS_EN[b.month - 1]} {b.day}, {b.year}",
     ["born {v}", "birthday is {v}", "DOB {v}", "she was born {v}"])
_dob("dob/label_iso", lambda b: b.isoformat(), ["DOB: {v}", "dob={v}", "Date of birth: {v}", "birth_date: {v}"])
_dob("dob/label_us", lambda b: f"{b.month:02d}/{b.day:02d}/{b.year}", ["DOB: {v}", "D.O.B. {v}", "Date of Birth: {v}"])
_dob("dob/prose_de", lambda b: f"{b.day:02d}.{b.month:02d}.{b.year}",
     ["geboren am {v}", "Geburtsdatum: {v}", "geb. {v}"], ("geburtsdatum", "dob", "geb_datum"))
_dob("dob/prose_fr", lambda b: f"{b.day} {MONTHS_FR[b.month - 1]} {b.year}",
     ["né le {v}", "née le {v}", "date de naissance : {v}"], ("date_naissance", "dob"))
_dob("dob/prose_es", lambda b: f"{b.day} de {MONTHS_ES[b.month - 1]} de {b.year}",
     ["nacido el {v}", "fecha de nacimiento: {v}"], ("fecha_nacimiento", "dob"))

# person names
NAME_LABELS = ["Name", "Patient", "Customer", "Employee", "Account holder", "Cardholder", "Recipient", "Passenger",
               "Guest", "Beneficiary", "Contact", "Emergency contact", "Insured", "Applicant", "Kunde", "Patientin",
               "Nom", "Nombre", "Ship to", "Bill to", "Driver", "Tenant"]
JOBS = ["Head of Finance", "Operations Manager", "Senior Buyer", "IT Administrator", "Office Manager",
        "Customer Success Lead", "Practice Manager", "Procurement", "CTO", "HR Business Partner"]


@reg("person/name_label", 1.5)
def _name_label():
    n = person_name()
    lab = ch(NAME_LABELS)
    return Spec("person/name_label", n, native=[f"{lab}: {n}", f"{lab.upper()}: {n}", f"{lab} - {n}"],
                native_only=True)


@reg("person/name_salutation", 1.3)
def _name_sal():
    n = person_name()
    t = ch(["Mr.", "Ms.", "Mrs.", "Dr.", "Mx.", ""])
    return Spec("person/name_salutation", n, native=[f"Dear {t} {n},".replace("  ", " "), f"Hello {n},", f"Hi {n},",
                                                     f"Sehr geehrte/r {n},", f"Bonjour {n},", f"Estimado/a {n}:"],
                native_only=True)


@reg("person/name_signoff", 1.3)
def _name_sign():
    n = person_name()
    j = ch(JOBS)
    c = ch(COMPANIES)
    return Spec("person/name_signoff", n, native=[f"Best regards,\n{n}", f"Thanks,\n{n}\n{j}", f"Cheers,\n{n}",
                                                  f"Mit freundlichen Grüßen\n{n}", f"Cordialement,\n{n}",
                                                  f"-- \n{n} | {j} | {c}", f"Kind regards,\n{n}\n{j}, {c}"],
                native_only=True)


@reg("person/name_attr", 1.5)
def _name_attr():
    return Spec("person/name_attr", person_name(),
                attrs=["full_name", "customer_name", "account_holder", "cardholder_name", "patient_name",
                       "employee_name", "recipient_name", "legal_name", "contact_name", "nombre_completo",
                       "name_on_card", "holder_name", "beneficiary_name"], standalone=False)


@reg("person/first_last_attrs")
def _fl_attr():
    f = FK[ch(NAME_LOCALES)]
    first = gen_until(f.first_name, lambda x: len(x) >= 8)
    last = gen_until(f.last_name, lambda x: len(x) >= 8)
    return Spec("person/first_last_attrs", first, attrs=["first_name"], extra=[(last, "person/last_name_attr")])


@reg("person/name_prose", 1.2)
def _name_prose():
    n = person_name()
    return Spec("person/name_prose", n, native=[f"I spoke with {n} from accounting yesterday.",
                                                f"{n} called about the refund again.",
                                                f"Escalated by {n} (their office manager).",
                                                f"Please ask for {n} at the front desk.",
                                                f"Our account is under {n}'s name."], native_only=True)


@reg("person/name_email_header")
def _name_hdr():
    n = person_name()
    e = email_for(n)
    return Spec("person/name_email_header", n, native=[f"From: {n} <{e}>", f"To: \"{n}\" <{e}>",
                                                       f"On {rand_time():%a, %d %b %Y at %H:%M}, {n} <{e}> wrote:"],
                extra=[(e, "contact/email_plain")], native_only=True)


# postal addresses (composed from common street and place names)
US_STREETS = ["Maple Avenue", "Oak Street", "Washington Blvd", "Elm Drive", "Lakeview Terrace", "Cedar Lane",
              "Sunset Boulevard", "Park Place", "Willow Court", "3rd Street", "Highland Ave", "Pine Ridge Road"]
US_PLACES = [("Portland", "OR", "972"), ("Austin", "TX", "787"), ("Columbus", "OH", "432"), ("Denver", "CO", "802"),
             ("Raleigh", "NC", "276"), ("Madison", "WI", "537"), ("Tucson", "AZ", "857"), ("Albany", "NY", "122"),
             ("Sacramento", "CA", "958"), ("Boise", "ID", "837"), ("Savannah", "GA", "314"), ("Burlington", "VT", "054")]
UK_STREETS = ["High Street", "Station Road", "Church Lane", "Victoria Road", "Mill Lane", "Queens Road", "Park Avenue",
              "Kingsway", "Green Lane", "Manor Road", "Albert Street", "The Crescent"]
UK_PLACES = [("Leeds", "LS6"), ("Bristol", "BS7"), ("Manchester", "M20"), ("Brighton", "BN1"), ("York", "YO31"),
             ("Cardiff", "CF10"), ("Norwich", "NR2"), ("Edinburgh", "EH6"), ("London", "SE15"), ("Bath", "BA1")]
DE_STREETS = ["Hauptstraße", "Bahnhofstraße", "Gartenweg", "Schillerstraße", "Lindenallee", "Goethestraße",
              "Kirchplatz", "Am Markt", "Bergstraße", "Friedrichstraße"]
DE_PLACES = [("10115", "Berlin"), ("80331", "München"), ("50667", "Köln"), ("20095", "Hamburg"),
             ("60311", "Frankfurt am Main"), ("04109", "Leipzig"), ("70173", "Stuttgart"), ("28195", "Bremen")]
FR_STREETS = ["rue de la République", "avenue Jean Jaurès", "boulevard Voltaire", "rue Victor Hugo",
              "impasse des Lilas", "rue du Moulin", "place de la Mairie", "allée des Tilleuls"]
FR_PLACES = [("75011", "Paris"), ("69002", "Lyon"), ("13001", "Marseille"), ("31000", "Toulouse"),
             ("33000", "Bordeaux"), ("44000", "Nantes"), ("59000", "Lille"), ("67000", "Strasbourg")]
NL_STREETS = ["Kerkstraat", "Dorpsstraat", "Prinsengracht", "Stationsweg", "Molenweg", "Julianalaan"]
NL_PLACES = [("1015 CJ", "Amsterdam"), ("3511 LX", "Utrecht"), ("2511 BT", "Den Haag"), ("9711 LM", "Groningen")]
ES_STREETS = ["Calle Mayor", "Avenida de la Constitución", "Calle del Sol", "Paseo de Gracia", "Calle Real"]
ES_PLACES = [("28013", "Madrid"), ("08007", "Barcelona"), ("41001", "Sevilla"), ("46002", "Valencia")]


def addr_us():
    c, s, z = ch(US_PLACES)
    unit = ch(["", "", f", Apt {ri(1, 40)}{ch(['', 'B', 'C'])}", f" #{ri(100, 999)}", f", Unit {ri(1, 12)}"])
    return f"{ri(12, 9899)} {ch(US_STREETS)}{unit}, {c}, {s} {z}{ri(10, 99)}"


def addr_uk():
    c, o = ch(UK_PLACES)
    flat = ch(["", "", f"Flat {ri(1, 20)}, "])
    return f"{flat}{ri(1, 240)} {ch(UK_STREETS)}, {c} {o} {ri(1, 9)}{rs('ABDEFGHJLNPQRSTUWXYZ', 2)}"


def addr_de():
    z, c = ch(DE_PLACES)
    return f"{ch(DE_STREETS)} {ri(1, 140)}{ch(['', '', 'a', 'b'])}, {z} {c}"


def addr_fr():
    z, c = ch(FR_PLACES)
    return f"{ri(1, 180)}{ch(['', '', ' bis'])} {ch(FR_STREETS)}, {z} {c}"


def addr_nl():
    z, c = ch(NL_PLACES)
    return f"{ch(NL_STREETS)} {ri(1, 300)}, {z} {c}"


def addr_es():
    z, c = ch(ES_PLACES)
    return f"{ch(ES_STREETS)} {ri(1, 150)}, {ri(1, 8)}º {ch('ABCD')}, {z} {c}"


ADDR_ATTRS = ["address", "shipping_address", "billing_address", "home_address", "street_address", "anschrift",
              "adresse", "direccion", "mailing_address"]
ADDR_PROSE = ["Ship to: {v}", "Address: {v}", "I live at {v}", "please send it to {v} instead",
              "Lieferadresse: {v}", "Adresse : {v}", "new address is {v}", "Billing address: {v}"]
for _k, _f in [("us_street", addr_us), ("uk_street", addr_uk), ("de_street", addr_de), ("fr_street", addr_fr),
               ("nl_street", addr_nl), ("es_street", addr_es)]:
    pii(f"address/{_k}", _f, ["address"], ADDR_ATTRS, prose=ADDR_PROSE, standalone=False,
        weight=1.3 if _k in ("us_street", "uk_street", "de_street", "fr_street") else 0.8)


# ---------------------------------------------------------------------------
# decoys: harmless values that must survive verbatim
# ---------------------------------------------------------------------------
DECOY: dict = {}


def dec(kind):
    def deco(fn):
        DECOY[kind] = fn
        return fn
    return deco


for _k, _f in [("uuid_v1", uuid1), ("uuid_v4", uuid4), ("uuid_v7", uuid7), ("ulid", ulid), ("ksuid", ksuid),
               ("objectid", objectid), ("snowflake", snowflake), ("md5", md5), ("sha1", sha1), ("sha256", sha256)]:
    DECOY[_k] = _f

dec("git_sha")(sha1)
dec("git_sha_short")(lambda: sha1()[:ch([7, 8, 12])])
dec("docker_digest")(lambda: "sha256:" + sha256())
dec("sri_hash")(lambda: ch(["sha384-" + b64(rb(48)), "sha256-" + b64(rb(32)), "sha512-" + b64(rb(64))]))
dec("etag")(lambda: '"' + md5() + '"')
dec("ssh_fingerprint")(lambda: "SHA256:" + b64(rb(32)).rstrip("="))


def tiny_png() -> bytes:
    w = h = ri(1, 4)
    raw = b"".join(b"\x00" + bytes(rb(3)) * w for _ in range(h))

    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


dec("base64_image")(lambda: "data:image/png;base64," + b64(tiny_png()))


def protobuf_bytes() -> bytes:
    s = ch(SERVICES).encode()
    v = ri(1, 2**31)
    var = bytearray()
    while True:
        b_ = v & 0x7F
        v >>= 7
        var.append(b_ | (0x80 if v else 0))
        if not v:
            break
    return b"\x0a" + bytes([len(s)]) + s + b"\x10" + bytes(var) + b"\x1a\x10" + rb(16)


dec("base64_protobuf")(lambda: b64(protobuf_bytes()))
dec("ssh_public_key")(lambda: "ssh-ed25519 " + b64(ed25519_pub_blob(rb(32))) + " " +
                      ch(["deploy@ci", "ops@bastion-01", "build-agent", "github-actions"]))


def rsa_spki() -> bytes:
    return (bytes.fromhex("30820122300d06092a864886f70d01010105000382010f003082010a0282010100") + bytes([0xC0 | R.getrandbits(6)])
            + rb(255) + bytes.fromhex("0203010001"))


dec("pem_public_key")(lambda: pem("PUBLIC KEY", rsa_spki())[0])


def x509_der() -> bytes:
    serial = b"\x02\x14" + bytes([R.getrandbits(7)]) + rb(19)
    tbs_body = (b"\xa0\x03\x02\x01\x02" + serial + bytes.fromhex("300d06092a864886f70d01010b0500")
                + rb(600))
    tbs = b"\x30\x82" + len(tbs_body).to_bytes(2, "big") + tbs_body
    body = tbs + bytes.fromhex("300d06092a864886f70d01010b0500") + b"\x03\x82\x01\x01\x00" + rb(256)
    return b"\x30\x82" + len(body).to_bytes(2, "big") + body


dec("x509_certificate")(lambda: pem("CERTIFICATE", x509_der())[0])
dec("jwk_public")(lambda: json.dumps({"kty": "EC", "crv": "P-256", "kid": hexd(16), "use": "sig",
                                      "x": b64u(rb(32)), "y": b64u(rb(32))}))
dec("stripe_publishable_key")(lambda: "pk_live_51" + rs(AN, 97))
dec("supabase_publishable_key")(lambda: "sb_publishable_" + rs(B64U, 31))
dec("mapbox_public_token")(lambda: "pk." + b64u(json.dumps({"u": ch(SLUGS), "a": rs(ANL, 25)},
                                                           separators=(",", ":")).encode()) + "." + rs(B64U, 22))
dec("recaptcha_site_key")(lambda: "6L" + ch("cdef") + rs(B64U, 37))
dec("ga_measurement_id")(lambda: "G-" + rs(UP + DG, 10))


@dec("arn")
def _arn():
    acct = str(ri(10**11, 10**12 - 1))
    r_ = ch(REGIONS)
    return ch([f"arn:aws:iam::{acct}:role/{ch(SERVICES)}-{ch(ENVS)}",
               f"arn:aws:s3:::{ch(SLUGS)}-{ch(ENVS)}-assets/uploads/{rand_time():%Y/%m}/",
               f"arn:aws:lambda:{r_}:{acct}:function:{ch(SERVICES)}",
               f"arn:aws:dynamodb:{r_}:{acct}:table/{ch(['orders', 'tickets', 'users', 'events'])}/stream/{iso(rand_time())[:-1]}",
               f"arn:aws:sqs:{r_}:{acct}:{ch(SERVICES)}-dlq",
               f"arn:aws:secretsmanager:{r_}:{acct}:secret:{ch(ENVS)}/{ch(SERVICES)}/db-{rs(AN, 6)}",
               f"arn:aws:kms:{r_}:{acct}:key/{uuid4()}"])


dec("epoch_s")(lambda: str(epoch(rand_time())))
dec("epoch_ms")(lambda: str(epoch_ms(rand_time())))


@dec("tracking_ups")
def _ups():
    body = rs(UP + DG, 6) + ch(["01", "02", "03", "12", "13"]) + rs(DG, 7)
    s = 0
    for i, c in enumerate(body):
        v = int(c) if c.isdigit() else (ord(c) - 63) % 10
        s += v * (2 if i % 2 else 1)
    return "1Z" + body + str((10 - s % 10) % 10)


@dec("tracking_usps")
def _usps():
    body = ch(["9400", "9205", "9361", "9374"]) + rs(DG, 17)
    s = sum(int(c) * (3 if i % 2 == 0 else 1) for i, c in enumerate(reversed(body)))
    return body + str((10 - s % 10) % 10)


@dec("tracking_fedex")
def _fedex():
    body = rs(DG, 11)
    w = [3, 1, 7]
    s = sum(int(c) * w[i % 3] for i, c in enumerate(reversed(body)))
    return body + str(s % 11 % 10)


dec("tracking_dhl")(lambda: (lambda b: b + str(int(b) % 7))(rs(DG, 9)))
dec("isbn13")(lambda: gen_until(lambda: (lambda b: b + gs1_check(b))(ch(["978", "979"]) + rs(DG, 9)), sn_isbn.is_valid))
dec("ean13")(lambda: (lambda b: b + gs1_check(b))(ch(["400", "401", "500", "590", "760", "840", "871"]) + rs(DG, 9)))
dec("upc_a")(lambda: (lambda b: b + gs1_check(b))(ch("0136789") + rs(DG, 10)))
dec("ean13_luhn_pass")(lambda: gen_until(lambda: (lambda b: b + gs1_check(b))(ch(["400", "500", "871"]) + rs(DG, 9)), luhn_ok))


@dec("card_luhn_fail")
def _card_fail():
    d = luhn_complete("4", 16)
    bad = d[:-1] + str((int(d[-1]) + ri(1, 9)) % 10)
    return ch([" ".join(wrap(bad, 4)), bad])


@dec("iban_mod97_fail")
def _iban_fail():
    v = iban_valid(ch(["DE", "GB", "FR", "NL"]))
    cd = int(v[2:4])
    bad = v[:2] + "%02d" % ((cd + ri(1, 50)) % 97 + 2 if (cd + ri(1, 50)) % 97 + 2 != cd else (cd + 1) % 97) + v[4:]
    if sn_iban.is_valid(bad):
        bad = v[:2] + "%02d" % ((cd + 3) % 97) + v[4:]
    return " ".join(wrap(bad, 4))


dec("doc_test_card")(lambda: ch(["4242 4242 4242 4242", "4000 0566 5566 5556", "5555 5555 5555 4444",
                                 "3782 822463 10005", "4111 1111 1111 1111"]))
dec("doc_example_iban")(lambda: "DE89 3704 0044 0532 0130 00")
dec("doc_example_ssn")(lambda: ch(["078-05-1120", "123-45-6789", "000-00-0000"]))
dec("version_string")(lambda: ch([f"v{ri(0, 5)}.{ri(0, 30)}.{ri(0, 20)}", f"{ri(1, 9)}.{ri(0, 20)}.{ri(0, 9)}-rc.{ri(1, 4)}",
                                  f"{ri(1, 4)}.{ri(0, 12)}.{ri(0, 40)}+build.{ri(100, 9999)}",
                                  f"{ri(2023, 2025)}.{ri(1, 12)}.{ri(1, 28)}"]))
dec("ip_shaped_version")(lambda: f"{ri(1, 12)}.{ri(0, 30)}.{ri(0, 255)}.{ri(1, 254)}")
dec("windows_build")(lambda: f"10.0.{ch([19045, 22631, 26100, 20348])}.{ri(1000, 5000)}")


@dec("user_agent")
def _ua():
    cv = f"{ri(118, 131)}.0.{ri(6000, 6800)}.{ri(10, 200)}"
    return ch([
        f"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{cv} Safari/537.36",
        f"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.{ri(0, 6)} Safari/605.1.15",
        f"Mozilla/5.0 (iPhone; CPU iPhone OS 17_{ri(0, 6)} like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
        f"Mozilla/5.0 (X11; Linux x86_64; rv:{ri(115, 130)}.0) Gecko/20100101 Firefox/{ri(115, 130)}.0",
        f"okhttp/4.{ri(9, 12)}.{ri(0, 3)}", f"python-requests/2.{ri(28, 32)}.{ri(0, 3)}",
        "Stripe/1.0 (+https://stripe.com/docs/webhooks)", "ELB-HealthChecker/2.0",
        f"Mozilla/5.0 (Linux; Android 14; Pixel {ri(6, 9)}) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{cv} Mobile Safari/537.36"])


dec("css_color")(lambda: ch([f"#{hexd(6)}", f"#{hexd(3)}", f"rgb({ri(0, 255)}, {ri(0, 255)}, {ri(0, 255)})",
                             f"hsl({ri(0, 359)} {ri(10, 90)}% {ri(10, 90)}%)", f"#{hexd(8).upper()}"]))
dec("s3_key")(lambda: ch([f"uploads/{rand_time():%Y/%m/%d}/{uuid4()}-{ch(['invoice.pdf', 'avatar.webp', 'export.csv', 'scan.png'])}",
                          f"s3://{ch(SLUGS)}-{ch(ENVS)}-assets/products/{ri(10000, 99999)}/main.webp",
                          f"media/cms/{rand_time():%Y}/{hexd(8)}/{ch(['hero', 'banner', 'thumb'])}@2x.jpg",
                          f"exports/{ch(SLUGS)}/{rand_time():%Y-%m-%d}/part-{ri(0, 31):05d}.parquet"]))
dec("public_url")(lambda: ch(["https://docs.djangoproject.com/en/5.0/topics/auth/passwords/",
                              "https://docs.python.org/3/library/secrets.html",
                              "https://github.com/psf/requests/issues/" + str(ri(3000, 6800)),
                              "https://developer.mozilla.org/en-US/docs/Web/HTTP/Headers/Authorization",
                              "https://stripe.com/docs/api/authentication", "https://12factor.net/config",
                              "https://www.rfc-editor.org/rfc/rfc" + str(ch([6749, 7519, 7617, 8446, 9110])),
                              f"https://cdn.{ch(DOMAINS_CORP)}/assets/{hexd(10)}.js",
                              f"https://{ch(DOMAINS_CORP)}/blog/{ch(['release-notes', 'spring-sale', 'new-warehouse'])}",
                              "https://kubernetes.io/docs/concepts/configuration/secret/"]))
dec("placeholder_aws_key")(lambda: ch(["AKIAXXXXXXXXXXXXXXXX", "AKIAIOSFODNN7EXAMPLE", "AKIA****************"]))
dec("placeholder_aws_secret")(lambda: ch(["wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "<aws-secret-access-key>"]))
dec("placeholder_stripe")(lambda: ch(["sk_test_" + "x" * 24, "sk_live_" + "X" * 24, "sk_test_..."]))
dec("placeholder_token")(lambda: ch(["ghp_" + "x" * 36, "xoxb-your-bot-token", "glpat-xxxxxxxxxxxxxxxxxxxx",
                                     "sk-...your-key-here...", "hf_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "npm_XXXXXXXX"]))
dec("placeholder_dsn")(lambda: ch(["postgres://user:password@localhost/mydb", "mysql://root:root@127.0.0.1:3306/test",
                                   "redis://localhost:6379/0", "mongodb://localhost:27017/dev",
                                   "postgresql://postgres:postgres@localhost:5432/postgres"]))
dec("placeholder_angle")(lambda: ch(["<your-api-key>", "YOUR_API_KEY", "<token>", "REPLACE_ME", "changeme-in-prod",
                                     "<password>", "your-secret-here", "{{API_KEY}}", "xxxxxxxx"]))
dec("env_reference")(lambda: ch(["${DB_PASSWORD}", "${{ secrets.NPM_TOKEN }}", "$(cat /run/secrets/db_password)",
                                 "{{ .Values.postgresql.auth.password }}", "${env:STRIPE_SECRET_KEY}",
                                 "!vault |", "{{ vault_db_password }}", "%(DB_PASS)s", "${SECRET_KEY:?missing}",
                                 "valueFrom.secretKeyRef"]))
dec("code_password_var")(lambda: ch([
    'let password = std::env::var("DB_PASSWORD")?;', 'password = os.environ["DB_PASSWORD"]',
    "password=password_hash", 'user.set_password(form.cleaned_data["password1"])',
    "const token = process.env.GITHUB_TOKEN;", 'String password = System.getenv("DB_PASSWORD");',
    "if not check_password(raw_password, user.password):", "api_key = settings.STRIPE_API_KEY",
    "AUTH_PASSWORD_VALIDATORS = [", 'secret_key = config("SECRET_KEY")', "password: Optional[str] = None",
    "token_type: \"bearer\"", "def rotate_api_key(self, key_id: str) -> None:",
    'headers = {"Authorization": f"Bearer {token}"}', "PASSWORD_RESET_TIMEOUT = 259200"]))
dec("masked_value")(lambda: ch(["[FILTERED]", "Bearer ***", "(sensitive value)", "********", "[REDACTED]",
                                "sk_live_****************" + hexd(4), "**** **** **** " + rs(DG, 4), "***",
                                "<redacted>", "•••• " + rs(DG, 4), "xxx-xx-" + rs(DG, 4)]))
dec("private_cidr")(lambda: ch([f"10.{ri(0, 255)}.0.0/16", f"172.{ri(16, 31)}.{ri(0, 15) * 16}.0/20",
                                f"192.168.{ri(0, 255)}.0/24", f"10.{ri(0, 255)}.{ri(0, 255)}.0/24", "fd00:10::/64"]))
dec("private_ip")(lambda: ch([f"10.{ri(0, 255)}.{ri(0, 255)}.{ri(1, 254)}", f"172.{ri(16, 31)}.{ri(0, 255)}.{ri(1, 254)}",
                              f"192.168.{ri(0, 255)}.{ri(1, 254)}"]))
dec("doc_ip")(lambda: ch([f"192.0.2.{ri(1, 254)}", f"198.51.100.{ri(1, 254)}", f"203.0.113.{ri(1, 254)}",
                          f"2001:db8::{hexd(ri(1, 4)).lstrip('0') or '1'}"]))
dec("doc_email")(lambda: ch(["user@example.com", "admin@example.org", "noreply@example.com", "you@example.net",
                             "support@example.com", "test@example.org"]))
dec("fictional_phone")(lambda: ch([f"(555) 01{ri(0, 99):02d}", f"+1 {ch(['212', '415', '312', '617'])}-555-01{ri(0, 99):02d}",
                                   f"555-01{ri(0, 99):02d}"]))
dec("order_number")(lambda: ch([f"ORD-{ri(2023, 2025)}-{ri(1, 999999):06d}", f"#{ri(100000, 999999)}",
                                f"SO{ri(10**7, 10**8 - 1)}", f"{ri(100, 999)}-{ri(1000000, 9999999)}-{ri(1000000, 9999999)}"]))
dec("invoice_number")(lambda: ch([f"INV-{ri(10**6, 10**7 - 1)}", f"RE-{ri(2023, 2025)}-{ri(1, 9999):04d}",
                                  f"F{ri(2023, 2025)}{ri(1, 99999):05d}", f"INV/{ri(2023, 2025)}/{ri(1, 999):03d}"]))
dec("price")(lambda: ch([f"{ri(1, 499)}.{ri(1, 99):02d}".rstrip("0"), f"EUR {ri(1, 4999):,}.{ri(10, 99)}",
                         f"${ri(1, 999)}.{ri(10, 99)}", f"£{ri(1, 300)}.{ri(10, 99)}", f"{ri(1, 99)},{ri(10, 99)} €"]))
dec("coordinates")(lambda: f"{R.uniform(-60, 70):.6f},{R.uniform(-170, 170):.6f}")
dec("sku")(lambda: ch([f"SKU-{rs(UP, 3)}-{ch(COLORS)[:3].upper()}-{ch(SIZES).replace(' ', '')[:2].upper()}",
                       f"{rs(UP, 2)}{ri(1000, 99999)}", f"{ch(['TSH', 'MUG', 'BAG', 'HUB', 'LMP'])}-{ri(100, 999)}-{rs(UP + DG, 3)}"]))
dec("asin")(lambda: "B0" + rs(UP + DG, 8))
dec("username")(lambda: ch([f"{ch(USER_WORDS)}_{ch(USER_WORDS)}{ri(1, 99)}", f"{ch(USER_WORDS)}.{ch(USER_WORDS)}",
                            f"{ch(USER_WORDS)}{ri(1970, 2010)}", f"@{ch(USER_WORDS)}{ch(USER_WORDS)}"]))
dec("display_name")(lambda: ch(NICKS))
dec("stripe_object_id")(lambda: ch(["cus_", "pi_", "ch_", "evt_", "in_", "sub_", "price_", "prod_", "txn_"]) + rs(AN, ch([14, 24])))
dec("webhook_signature")(lambda: f"t={epoch(rand_time())},v1={sha256()}")
dec("aws_trace_id")(lambda: f"Root=1-{epoch(rand_time()):08x}-{hexd(24)}")
dec("request_id")(lambda: ch([uuid4(), "req_" + rs(AN, 14), hexd(32), f"{ulid()}"]))
dec("pagination_cursor")(lambda: b64(json.dumps({"page": ri(2, 90), "after": objectid()}).encode()))
dec("referral_code")(lambda: f"{rs(UP, 3)}-{rs(UP + DG, 4)}-{rs(UP + DG, 4)}")
dec("semver_range")(lambda: ch([f"^{ri(1, 18)}.{ri(0, 9)}.{ri(0, 9)}", f">={ri(1, 5)}.{ri(0, 30)},<{ri(6, 9)}", f"~{ri(1, 4)}.{ri(0, 9)}"]))
dec("icd10_code")(lambda: ch(["E11.9", "I10", "J06.9", "M54.5", "K21.9", "F41.1", "Z00.00", "R51.9"]))
dec("cpt_code")(lambda: ch(["99213", "99214", "93000", "80053", "36415", "71046"]))
dec("loinc_code")(lambda: ch(["4548-4", "2345-7", "718-7", "2093-3", "8480-6"]))
dec("embedding_json")(lambda: json.dumps([round(R.uniform(-0.2, 0.2), 4) or 0.0011 for _ in range(ri(8, 16))]))


@dec("tool_call_json")
def _tool():
    name, args = ch([("lookup_order", {"order_id": DECOY["order_number"]()}),
                     ("get_weather", {"lat": round(R.uniform(40, 55), 4), "lon": round(R.uniform(-5, 20), 4)}),
                     ("search_products", {"query": ch(PRODUCTS)[0], "limit": ri(3, 10)}),
                     ("create_ticket", {"priority": ch(["low", "normal", "high"]), "queue": "billing"}),
                     ("get_invoice_pdf", {"invoice_number": DECOY["invoice_number"]()}),
                     ("track_shipment", {"tracking_number": DECOY["tracking_ups"]()})])
    return json.dumps({"id": "call_" + rs(AN, 24), "type": "function",
                       "function": {"name": name, "arguments": json.dumps(args)}})


# ---------------------------------------------------------------------------
# DynamoDB JSON construction
# ---------------------------------------------------------------------------
class TV(dict):
    """an already typed DynamoDB attribute value"""


def S(x):
    return TV(S=x)


def num_str(x) -> str:
    if isinstance(x, bool):
        raise TypeError
    if isinstance(x, int):
        return str(x)
    s = ("%.6f" % x).rstrip("0").rstrip(".")
    return s if s not in ("-0", "") else "0"


def N(x):
    return TV(N=x if isinstance(x, str) else num_str(x))


def B(x):
    return TV(B=b64(x.encode() if isinstance(x, str) else x))


def BOOL(x):
    return TV(BOOL=bool(x))


NULL = TV(NULL=True)


def uniq(xs):
    out = []
    for x in xs:
        if x not in out:
            out.append(x)
    return out


def SS(xs):
    return TV(SS=uniq(xs))


def NS(xs):
    return TV(NS=uniq([x if isinstance(x, str) else num_str(x) for x in xs]))


def BS(xs):
    return TV(BS=uniq([b64(x.encode() if isinstance(x, str) else x) for x in xs]))


def M(d):
    return TV(M={k: auto(v) for k, v in d.items()})


def L(xs):
    return TV(L=[auto(x) for x in xs])


def auto(v):
    if isinstance(v, TV):
        return v
    if isinstance(v, bool):
        return BOOL(v)
    if v is None:
        return NULL
    if isinstance(v, (int, float)):
        return N(v)
    if isinstance(v, str):
        return S(v)
    if isinstance(v, bytes):
        return B(v)
    if isinstance(v, dict):
        return M(v)
    if isinstance(v, (list, tuple)):
        return L(list(v))
    raise TypeError(type(v))


# ---------------------------------------------------------------------------
# item builder
# ---------------------------------------------------------------------------
GENERIC_SECRET_PROSE = [
    "Our integration fails with key {v} since this morning.",
    "We get 401s even though the {label} is set to {v}.",
    "Here's the {label} we use in staging: {v}",
    "I rotated the {label}, the new value is {v}",
    "Is {v} a valid {label}? It stopped working after the upgrade.",
    "for reference the {label} on the failing job was {v}",
    "pasting the {label} so you can reproduce: {v}",
    "tried again with {v} — same error",
]


class Item:
    def __init__(self, idx: int, shape: str, prefix: str):
        self.idx = idx
        self.shape = shape
        self.prefix = prefix
        self.a: dict = {}
        self.planted: list = []
        self.decoys: list = []
        self.struct_p = 0.5

    # -- bookkeeping
    def d(self, kind, value=None):
        v = value if value is not None else DECOY[kind]()
        self.decoys.append((v, kind))
        return v

    def plant(self, spec: Spec):
        self.planted.append((spec.value, spec.kind, spec.cls))
        for v, k in spec.extra:
            self.planted.append((v, k, CLASS_OF[k.split("/")[0]]))

    def put(self, name, value):
        base = name
        n = 2
        while name in self.a:
            name = f"{base}_{n}"
            n += 1
        self.a[name] = auto(value)
        return name


def fill(it: Item, tpl: str) -> str:
    def rep(m):
        kind = m.group(1)
        if kind in DECOY:
            return it.d(kind)
        return FILLERS[kind]()
    return re.sub(r"(?<!\{)\{([a-z0-9_]+)\}(?!\})", rep, tpl)


FILLERS = {
    "company": lambda: ch(COMPANIES), "service": lambda: ch(SERVICES), "env": lambda: ch(ENVS),
    "region": lambda: ch(REGIONS), "product": lambda: ch(PRODUCTS)[0], "n": lambda: str(ri(2, 40)),
    "weekday": lambda: ch(["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]),
    "date": lambda: rand_time().strftime("%Y-%m-%d"), "time": lambda: rand_time().strftime("%H:%M"),
    "pct": lambda: f"{ri(1, 99)}%", "ms": lambda: str(ri(20, 9000)), "count": lambda: str(ri(2, 5000)),
    "plan": lambda: ch(["Starter", "Team", "Business", "Enterprise"]), "slug": lambda: ch(SLUGS),
    "color": lambda: ch(COLORS), "size": lambda: ch(SIZES),
}


# ---- rendering a spec into text ------------------------------------------------
def provider_of(spec):
    return spec.label.split(" ")[0] if spec.label else "the"


def render(spec: Spec, syntax: str) -> str:
    """a text snippet holding spec.value, in the given syntax family"""
    v = spec.value
    if spec.native_only or (spec.native and chance(0.5)):
        return ch(spec.native)
    if syntax == "prose":
        opts = []
        if spec.prose:
            opts += [ch(spec.prose)] * 2
        if spec.cls == "secret" and (spec.standalone or spec.label):
            lab = spec.label or "key"
            opts.append(ch(GENERIC_SECRET_PROSE).replace("{label}", lab).replace("{v}", v))
        if spec.env:
            opts.append("`" + kv_line(spec.env, v, ch(["env", "yaml", "json"])) + "`")
        if spec.headers:
            opts.append("`" + ch(spec.headers) + "`")
        if spec.attrs and not spec.env:
            opts.append(f"{ch(spec.attrs)}: {v}")
        return ch(opts) if opts else v
    if syntax == "header" and spec.headers:
        return ch(spec.headers)
    if spec.cls != "secret":
        name = ch(spec.attrs) if spec.attrs else "value"
        if syntax == "python":
            return ch([f"{name} = {q(v, chr(39))}", f"{{{q(name, chr(39))}: {q(v, chr(39))}, 'id': {ri(100, 99999)}}}"])
        if syntax in ("log", "env", "properties", "ini"):
            return ch([f"{name}={v}", f"{name}: {v}", f'"{name}": "{v}"'])
        if spec.prose and chance(0.5):
            return ch(spec.prose)
    name = spec.env or (ch(spec.attrs) if spec.attrs else "value")
    if not re.fullmatch(r"[A-Za-z0-9_]+", name):
        return f"{name}: {v}"
    if syntax == "env" and spec.headers and chance(0.25):
        return f"curl -sS -H '{ch(spec.headers)}' https://api.{ch(DOMAINS_CORP)}/v1/ping"
    return kv_line(name, v, syntax)


def in_prose(snippet: str) -> str:
    if "\n" in snippet:
        return "```\n" + snippet + "\n```"
    return snippet


# ---- structured placements ------------------------------------------------------
NESTED_CONTAINERS = ["integrations", "connections", "settings", "extra", "metadata", "context", "payload",
                     "details", "profile_data", "legacy", "import_batch", "custom_fields"]


def choose_placement(spec: Spec, struct_p=0.5) -> str:
    if spec.kind == "person/first_last_attrs":
        return ch(["attr", "attr", "nested"])
    if spec.kind in ("generic/password_attribute", "generic/secret_attribute", "generic/session_id_attribute"):
        return wch([("attr", 4), ("nested", 3), ("json_str", 1), ("map_val", 1)])
    if R.random() >= struct_p:
        return "text"
    if spec.native_only:
        return wch([("b", 1.2), ("json_str", 1), ("bs", 0.5), ("list", 0.8), ("ss", 0.3), ("nested_text", 0.8)])
    return wch([("attr", 3 if spec.attrs else 0), ("nested", 2 if spec.attrs else 0),
                ("json_str", 1.2), ("b", 0.8), ("bs", 0.3), ("ss", 1.0 if spec.standalone else 0.3),
                ("ns", 4 if spec.numeric else 0), ("map_key", 0.9 if spec.standalone and len(spec.value) <= 80 else 0),
                ("list", 0.7), ("n", 2.5 if spec.numeric else 0)])


def filler_line(it: Item) -> str:
    return fill(it, ch(["build {git_sha_short} deployed to {env}", "last sync {date} {time}",
                        "request {request_id} took {ms} ms", "see {public_url}", "cursor={pagination_cursor}",
                        "updated by {username}", "object {s3_key}", "batch {ulid}", "version {version_string}",
                        "trace {aws_trace_id}", "digest {docker_digest}"]))


def place_struct(it: Item, spec: Spec, how: str):
    if how in ("ns", "n") and getattr(spec, "digits", ""):
        spec.value = spec.digits    # numbers are stored without separators
    v = spec.value
    it.plant(spec)
    attr = ch(spec.attrs) if spec.attrs else ch(["value", "data", "secret", "note"])
    if how == "attr":
        if spec.kind == "person/first_last_attrs":
            it.put(ch(["first_name", "given_name", "firstName", "vorname", "prenom"]), v)
            it.put(ch(["last_name", "family_name", "surname", "lastName", "nachname"]), spec.extra[0][0])
            return
        if spec.numeric and spec.value.isdigit() and chance(0.35):
            it.put(attr, N(v))
        else:
            it.put(attr, v)
    elif how == "n":
        it.put(attr, N(v))
    elif how == "nested":
        cont = ch(NESTED_CONTAINERS)
        if spec.kind == "person/first_last_attrs":
            inner = {"first_name": v, "last_name": spec.extra[0][0], "role": ch(["owner", "billing", "admin"])}
        else:
            inner = {"type": ch(["primary", "backup", "legacy", "imported"]), attr: v,
                     "updated_at": iso(rand_time()), "id": it.d("uuid_v4")}
        shape = ri(0, 2)
        if shape == 0:
            it.put(cont, {ch(["items", "entries", "records"]): [{"id": it.d("objectid"), "enabled": True}, inner]})
        elif shape == 1:
            it.put(cont, {ch(["primary", "default", "eu", "sandbox"]): inner, "count": ri(1, 9)})
        else:
            it.put(cont, {"v": 2, "groups": [{"name": ch(SERVICES), "children": [inner]}]})
    elif how == "map_val":
        it.put(ch(NESTED_CONTAINERS), {attr: v, "source": ch(["import", "admin", "api"]), "ts": epoch(rand_time())})
    elif how == "json_str":
        if spec.native_only:
            obj = {"id": it.d("uuid_v4"), ch(["note", "config", "snippet", "raw", "body"]): ch(spec.native),
                   "created": iso(rand_time())}
            text = json.dumps(obj, ensure_ascii=False)
            it.put(ch(["extra_json", "payload_json", "raw_json", "context_json", "meta"]), text)
            return
        key = spec.env.lower() if spec.env and chance(0.5) else attr
        obj = {"id": it.d("request_id"), key: v, "ts": epoch(rand_time())}
        if chance(0.4):
            obj = {"data": obj, "version": 3}
        it.put(ch(["extra_json", "payload_json", "raw_json", "context_json", "meta", "properties_json"]),
               json.dumps(obj, ensure_ascii=False))
    elif how in ("b", "bs"):
        snippet = render(spec, ch(["env", "yaml", "prose", "log"]))
        text = "\n".join([filler_line(it), snippet, filler_line(it)]) if chance(0.6) else snippet
        if how == "b":
            it.put(ch(["attachment", "raw_body", "blob", "env_file", "note_bin", "payload_bin"]), B(text))
        else:
            other = fill(it, "export {date}: {count} rows, checksum {sha256}")
            it.put(ch(["attachments", "blobs", "parts"]), BS([other, text]))
    elif how == "ss":
        el = v if spec.standalone and not spec.native_only else render(spec, "log")
        others = [it.d("uuid_v4"), it.d(ch(["sku", "referral_code", "order_number", "git_sha_short"]))]
        lst = others + [el]
        R.shuffle(lst)
        it.put(ch(["aliases", "tags", "recent_values", "identifiers", "lookup_keys", "history_set"]), SS(lst))
    elif how == "ns":
        others = [it.d("epoch_s"), str(ri(100, 99999))]
        lst = others + [v]
        R.shuffle(lst)
        name = ch(["linked_accounts", "legacy_ids", "numbers", "ref_numbers"]) if spec.standalone else attr + "s"
        it.put(name, NS(lst))
    elif how == "map_key":
        it.put(ch(["index", "seen", "by_contact", "cache", "lookup", "dedupe"]),
               {v: {"count": ri(1, 40), "first_seen": iso(rand_time())},
                it.d("uuid_v4"): {"count": ri(1, 40), "first_seen": iso(rand_time())}})
    elif how == "list":
        snippet = v if (spec.standalone and not spec.native_only and chance(0.5)) else render(spec, "prose")
        it.put(ch(["notes", "history", "comments", "lines", "log_lines"]),
               [filler_line(it), snippet, fill(it, "closed by {username}")])
    elif how == "nested_text":
        it.put(ch(NESTED_CONTAINERS), {"entries": [{"kind": "note", "text": render(spec, "prose"),
                                                    "at": iso(rand_time())}]})
    else:
        raise ValueError(how)


def split_specs(it: Item, specs):
    """choose a placement for each spec; place the structured ones now, return the text ones"""
    texts = []
    for sp in specs:
        how = choose_placement(sp, it.struct_p)
        if how == "text":
            texts.append(sp)
        else:
            place_struct(it, sp, how)
    return texts


def text_snips(it: Item, specs, syntax="prose"):
    out = []
    order = {"person/name_salutation": 0, "person/name_signoff": 2}
    for sp in sorted(specs, key=lambda x: order.get(x.kind, 1)):
        it.plant(sp)
        s = render(sp, syntax)
        out.append(in_prose(s) if syntax == "prose" else s)
    return out


# ---------------------------------------------------------------------------
# shapes
# ---------------------------------------------------------------------------
def setu(d: dict, key: str, val):
    """set d[key], choosing a fresh key name when it is taken"""
    base, n = key, 2
    while key in d:
        key = f"{base}_{n}"
        n += 1
    d[key] = val


def keys(it: Item, pk: str, sk: str):
    it.a["pk"] = S(pk)
    it.a["sk"] = S(sk)


def maybe(p, fn):
    return fn() if chance(p) else None


def put_opt(it, name, p, fn):
    if chance(p):
        it.put(name, fn())


# ---- user profile ----
BIOS = ["Coffee, cats and CSS. Shipping {product}s one pull request at a time.",
        "Weekend baker, weekday data wrangler. Favourite colour: {css_color}.",
        "Ops at a small shop; ask me about {service} and on-call horror stories.",
        "Collector of mechanical keyboards. Currently on firmware {version_string}.",
        "I only review PRs that include tests. Avatar: {s3_key}",
        "", "", "Trail runner. Member since {date}."]


def sh_user_profile(it, specs):
    uid = it.d("uuid_v4")
    keys(it, f"USER#{uid}", ch(["PROFILE", "PROFILE#v2", "META"]))
    it.put("user_id", uid)
    it.put("username", it.d("username"))
    it.put("display_name", it.d("display_name"))
    it.put("avatar_url", it.d("s3_key"))
    it.put("locale", ch(["en-US", "en-GB", "de-DE", "fr-FR", "es-ES", "pt-BR", "nl-NL"]))
    it.put("timezone", ch(["Europe/Berlin", "America/New_York", "Europe/London", "Asia/Kolkata", "Australia/Sydney"]))
    it.put("plan", ch(["free", "pro", "team", "enterprise"]))
    t = rand_time()
    it.put("created_at", iso(t))
    it.put("last_login_at", N(it.d("epoch_ms", str(epoch_ms(t + dt.timedelta(days=ri(1, 300)))))))
    it.put("login_count", ri(1, 2400))
    it.put("mfa_enabled", chance(0.6))
    it.put("roles", SS(uniq(R.sample(["member", "billing", "admin", "support", "viewer", "owner"], ri(1, 3)))))
    it.put("preferences", {"theme": ch(["dark", "light", "system"]), "accent": it.d("css_color"),
                           "notifications": {"email": chance(0.7), "sms": False, "push": chance(0.5)},
                           "digest": ch(["daily", "weekly", "never"])})
    put_opt(it, "stripe_customer_id", 0.6, lambda: it.d("stripe_object_id", "cus_" + rs(AN, 14)))
    put_opt(it, "referral_code", 0.4, lambda: it.d("referral_code"))
    put_opt(it, "bio", 0.7, lambda: fill(it, ch(BIOS)))
    put_opt(it, "device_ids", 0.3, lambda: SS([it.d("uuid_v4"), it.d("uuid_v4")]))
    texts = split_specs(it, specs)
    if texts:
        snips = text_snips(it, texts)
        it.put(ch(["support_notes", "admin_note", "kyc_notes", "about"]),
               ch(["Verified by phone. ", "Imported from legacy CRM. ", "", "Note from onboarding call: "]) + " ".join(snips))


# ---- support ticket ----
TICKET_SUBJECTS = ["Export failing since {weekday}", "Charged twice for {order_number}", "Invoice download blank",
                   "CLI says missing credentials", "Webhook retries", "SSO login loop", "Rate limit increase request",
                   "Tracking not updating", "Wrong barcode on packing slip", "Mobile app crash after update",
                   "Duplicate contacts after import", "Question about API keys", "Integration stopped working",
                   "Cannot connect to database", "Need help with billing address"]
TICKET_HARMLESS = [
    "Hi,\n\nOur nightly export to S3 has been failing since {weekday}. The job id is {uuid_v4} and the last successful run wrote {s3_key}. We haven't changed anything on our side (still on {version_string}).\n\nCould you take a look?\nThanks!",
    "Order {order_number} was charged twice, once at {price} and again a minute later. The dashboard shows {stripe_object_id}. Can you refund the duplicate?",
    "When I click 'Download invoice' for {invoice_number} I get a blank page.\nBrowser: {user_agent}",
    "We followed the docs at {public_url} and set the key to {placeholder_angle} in the config, but the CLI still says 'missing credentials'. What exactly goes there?",
    "The webhook endpoint keeps receiving retries for {stripe_object_id}. Our logs show the signature header {webhook_signature}, which we verify fine. Is there a delay on your side?",
    "Our SSO login loops back to the sign-in page. SAML request id {request_id}, happens in Chrome and Safari. The cert fingerprint we uploaded is {sha1}.",
    "Can you increase our API rate limit? We're hitting 429s at about {count} requests/min from {private_ip} (NAT gateway).",
    "Tracking number {tracking_ups} hasn't updated in 6 days. Order {order_number}.",
    "Product {sku} shows the wrong barcode ({ean13}) on the packing slip, it should be {upc_a}.",
    "FYI the password field on the signup page accepts 4 characters even though your docs ({public_url}) say 12 minimum.",
    "Our staging key is shown as `{masked_value}` in the dashboard, is that expected? We can't see the full key anymore.",
    "Upgraded to {version_string} and now the mobile app crashes on launch. Crash id {uuid_v7}, build {git_sha_short}.",
    "Is it possible to allow-list our office range {private_cidr}? IT says our egress goes through the VPN.",
    "Attached the HAR file. Failing request id: {request_id}, trace {aws_trace_id}.",
    "The dashboard shows {count} duplicate contacts after the CSV import batch {ulid}. Can we roll back the import?",
    "We use `{code_password_var}` in our code as the docs suggest but still get 'invalid credentials'. Is the env var name wrong?",
    "Invoice {invoice_number} lists {price} but our contract says {price}. Please correct.",
    "Our test card {doc_test_card} is declined in the sandbox since this morning. Is the test environment down?",
    "The sample connection string in your quickstart (`{placeholder_dsn}`) doesn't work with the managed offering, what's the right format?",
    "The public key you asked for:\n{ssh_public_key}\nPlease add it to the SFTP drop.",
    "Our CI shows `{placeholder_token}` in the template and fails, do we need to replace it with a real token from the settings page?",
    "We're seeing version {ip_shaped_version} reported by the agent but the changelog only goes up to {version_string}.",
]
TICKET_HARMLESS_SUBJ = ["Export failing since {weekday}", "Charged twice", "Invoice download blank",
                        "CLI says missing credentials", "Webhook retries", "SSO login loop", "Rate limit increase request",
                        "Tracking not updating", "Wrong barcode on packing slip", "Password rules on signup",
                        "Key shown masked in dashboard", "Mobile app crash after update", "Allow-list office IP range",
                        "HAR file attached", "Duplicate contacts after import", "Which env var name?",
                        "Invoice amount wrong", "Sandbox test card declined", "Connection string format",
                        "SFTP public key", "Template token placeholder", "Agent version mismatch"]
assert len(TICKET_HARMLESS_SUBJ) == len(TICKET_HARMLESS)
TICKET_LEADS = ["", "Details below:", "This is what we have configured:", "Full error:", "In case it helps:",
                "Here's the relevant part of our setup:", "Copying from our runbook:"]
TICKET_OPEN = ["Hi,", "Hello support,", "Hi team,", "Hey there,", "Good morning,", ""]
TICKET_CLOSE = ["Thanks in advance.", "Please advise.", "Urgent, production is down.", "Thanks!", "Cheers", ""]


def ticket_body(it, snips):
    if not snips:
        i = ri(0, len(TICKET_HARMLESS) - 1)
        return fill(it, TICKET_HARMLESS_SUBJ[i]), fill(it, TICKET_HARMLESS[i])
    subject = fill(it, ch(TICKET_SUBJECTS))
    parts = []
    if chance(0.4):
        parts.append(fill(it, ch(TICKET_HARMLESS)))
        parts.append("Also:")
    else:
        parts.append(ch(TICKET_OPEN))
        parts.append(fill(it, ch(["Our {service} integration broke after the {weekday} deploy.",
                                  "Something is off with our account.", "We have a question about order {order_number}.",
                                  "Following up on the call earlier.", "The sync job errors out every {n} minutes."])))
    for s in snips:
        lead = ch(TICKET_LEADS)
        parts.append((lead + "\n" + s) if lead else s)
    parts.append(ch(TICKET_CLOSE))
    return subject, "\n\n".join(p for p in parts if p)


def sh_support_ticket(it, specs):
    n = it.idx
    keys(it, f"TICKET#{n:06d}", "META")
    it.put("ticket_id", n)
    texts = split_specs(it, specs)
    snips = text_snips(it, texts)
    subject, body = ticket_body(it, snips)
    it.put("subject", subject)
    it.put("body", body)
    it.put("status", ch(["open", "pending", "solved", "on_hold"]))
    it.put("priority", ch(["low", "normal", "high", "urgent"]))
    it.put("channel", ch(["email", "web", "chat", "api"]))
    it.put("tags", SS(uniq(R.sample(["billing", "api", "export", "sso", "mobile", "webhooks", "refund", "bug", "vip"], ri(1, 3)))))
    it.put("requester_id", it.d("uuid_v4"))
    put_opt(it, "assignee", 0.7, lambda: it.d("username"))
    t = rand_time()
    it.put("created_at", iso(t))
    it.put("sla", {"first_response_due": iso(t + dt.timedelta(hours=ri(1, 24))), "breached": chance(0.1)})
    if chance(0.5):
        it.put("attachments", [{"filename": ch(["screenshot.png", "har.json", "export.log", "invoice.pdf"]),
                                "s3_key": it.d("s3_key"), "size": ri(2000, 900000), "sha256": it.d("sha256")}
                               for _ in range(ri(1, 2))])
    put_opt(it, "custom_fields", 0.6, lambda: {"plan": fill(it, "{plan}"), "region": fill(it, "{region}"),
                                               "app_version": it.d("version_string")})


# ---- ticket message ----
AGENT_REPLIES = [
    "Hi there,\n\nThanks for reaching out! I've refunded the duplicate charge on {order_number}; it can take 5-10 business days to show.\n\nBest,\nThe Support Team",
    "Hello,\n\nOur engineers found the issue with exports (incident {ulid}). A fix is rolling out in {version_string}.\n\nKind regards,\nSupport",
    "Hi,\n\nFor security reasons we never ask for your password or full API key. If you shared one by mistake, please rotate it in Settings > API keys. The docs are here: {public_url}\n\nThanks,\nSupport",
    "Hey! Could you send us the request id from the response headers (it looks like {request_id})? That helps us find the logs.",
    "The tracking number for your replacement is {tracking_usps}. Let us know if anything else comes up!",
    "We've allow-listed {private_cidr} for your workspace. Changes apply within 15 minutes.",
    "Thanks, we can reproduce it with {user_agent}. Bug filed as {uuid_v4}.",
    "Hi! We've escalated this to billing. If it's urgent you can call the demo hotline shown in our docs, {fictional_phone}.",
]
CUSTOMER_REPLIES = [
    "Thanks, that worked!", "Still broken on our side, request id {request_id}.",
    "We rotated the key, dashboard now shows {masked_value}. All good.",
    "Here is the build number you asked for: {git_sha_short}", "Any update? It's been {n} days.",
    "Attached the logs. The relevant batch is {ulid}.",
]


def sh_ticket_message(it, specs):
    n = ri(1, max(1, it.idx))
    keys(it, f"TICKET#{n:06d}", f"MSG#{ri(1, 30):04d}")
    texts = split_specs(it, specs)
    snips = text_snips(it, texts)
    author = "customer" if snips or chance(0.5) else "agent"
    if snips:
        body = "\n\n".join([ch(TICKET_OPEN), *snips, ch(TICKET_CLOSE)])
        if chance(0.3):
            body += "\n\n> " + fill(it, ch(AGENT_REPLIES)).replace("\n", "\n> ")
    else:
        body = fill(it, ch(AGENT_REPLIES if author == "agent" else CUSTOMER_REPLIES))
    it.put("author_type", author)
    it.put("author_id", it.d("uuid_v4"))
    it.put("body", body)
    it.put("public", author == "customer" or chance(0.8))
    it.put("created_at", iso(rand_time()))
    it.put("headers", {"message_id": it.d("message_id", f"<{uuid4()}@mail.{ch(DOMAINS_CORP)}>"),
                       "in_reply_to": it.d("message_id", f"<{ulid()}@support.{ch(DOMAINS_CORP)}>")})
    if chance(0.3):
        it.put("attachments", BS([fill(it, "2024 export log\nbatch {ulid} ok\nrows {count}\n"),
                                  fill(it, "sha256 {sha256}\n")]))


# ---- chat / LLM turn ----
CHAT_USER = [
    "How do I rotate the API key without downtime? Our config reads it from `{env_reference}`.",
    "Write a SQL query that returns orders over {price} from last week, grouped by {sku}-style product codes.",
    "What does this error mean: `Invalid API Key provided: {masked_value}`?",
    "Summarise ticket {order_number} for the weekly report.",
    "Why does `{code_password_var}` return None in my Django view?",
    "Convert this colour to RGB: {css_color}",
    "Is `{placeholder_dsn}` a valid DATABASE_URL for Django?",
    "Where is the shipment with tracking number {tracking_fedex}?",
    "Explain what the digest {docker_digest} refers to in my deployment.",
    "Generate a UUID v7 example like {uuid_v7} and explain the layout.",
]
CHAT_ASSISTANT = [
    "You can read the key from the environment instead of hard-coding it:\n\n```python\nimport os\nclient = Client(api_key=os.environ[\"API_KEY\"])\n```\n\nThen set it with `export API_KEY={placeholder_angle}` in your shell.",
    "Here's a query:\n\n```sql\nSELECT sku, SUM(total) FROM orders WHERE created_at > now() - interval '7 days' GROUP BY sku;\n```",
    "That message means the key was rejected. The dashboard only shows a masked form such as `{masked_value}`; generate a new key and store it in your secrets manager.",
    "The order {order_number} shipped on {date} via UPS ({tracking_ups}).",
    "In Django use `settings.SECRET_KEY` and load it with `{code_password_var}`. Never commit the real value.",
    "A ULID like {ulid} encodes a millisecond timestamp followed by 80 random bits.",
    "Your config references `{env_reference}`, so the value is injected at deploy time; nothing secret lives in the file.",
]


def sh_chat_turn(it, specs):
    conv = it.d("ulid")
    keys(it, f"CONV#{conv}", f"TURN#{ri(1, 60):04d}")
    texts = split_specs(it, specs)
    snips = text_snips(it, texts)
    role = "user" if snips or chance(0.5) else "assistant"
    if snips:
        codey = any("\n" in x or "`" in x or "=" in x for x in snips)
        lead = ch(["here's my config, why doesn't it load?", "can you check this?", "the request fails, this is what I send:",
                   "why do I get 401 with this?"] if codey else
                  ["please fill in the form with these details:", "summarise this customer email:",
                   "draft a reply to this:", "quick question:", "translate to German:"])
        content = lead + "\n\n" + "\n\n".join(snips)
    else:
        content = fill(it, ch(CHAT_USER if role == "user" else CHAT_ASSISTANT))
    it.put("role", role)
    it.put("content", content)
    it.put("model", ch(["gpt-4o-mini", "claude-3-5-sonnet-20241022", "mistral-large-latest", "llama-3.1-70b"]))
    it.put("created_at", N(it.d("epoch_ms")))
    if role == "assistant" or chance(0.3):
        calls = []
        for _ in range(ri(1, 2)):
            name, args = ch([("lookup_order", {"order_id": it.d("order_number")}),
                             ("search_kb", {"query": ch(["reset password", "rotate api key", "refund policy"]), "top_k": ri(3, 8)}),
                             ("get_shipment", {"tracking": it.d("tracking_ups")}),
                             ("get_product", {"sku": it.d("sku")})])
            calls.append({"id": "call_" + rs(AN, 24), "type": "function",
                          "function": {"name": name, "arguments": json.dumps(args)}})
        it.put("tool_calls", calls)
    it.put("usage", {"prompt_tokens": ri(50, 4000), "completion_tokens": ri(10, 900)})
    put_opt(it, "latency_ms", 0.6, lambda: ri(150, 9000))
    if chance(0.3):
        it.put("embedding", [round(R.uniform(-0.3, 0.3), 5) or 0.00017 for _ in range(16)])
    put_opt(it, "trace", 0.3, lambda: it.d("tool_call_json"))
    put_opt(it, "query_embedding", 0.15, lambda: it.d("embedding_json"))


# ---- traceback ----
PY_FRAMES = [("/app/orders/views.py", "create_order", "resp = client.charge(amount=amount, currency=currency)"),
             ("/app/billing/tasks.py", "sync_invoices", "for inv in api.list_invoices(since=cursor):"),
             ("/usr/local/lib/python3.11/site-packages/django/core/handlers/base.py", "_get_response",
              "response = wrapped_callback(request, *callback_args, **callback_kwargs)"),
             ("/usr/local/lib/python3.11/site-packages/requests/sessions.py", "request", "resp = self.send(prep, **send_kwargs)"),
             ("/app/integrations/client.py", "_post", "r.raise_for_status()"),
             ("/usr/local/lib/python3.11/site-packages/psycopg2/__init__.py", "connect",
              "conn = _connect(dsn, connection_factory=connection_factory, **kwasync)")]
PY_ERRORS = ["KeyError: 'order_id'", "requests.exceptions.HTTPError: 401 Client Error: Unauthorized for url: https://api.{slug}.io/v1/charges",
             "psycopg2.OperationalError: could not connect to server: Connection refused\n\tIs the server running on host \"{private_ip}\" and accepting TCP/IP connections on port 5432?",
             "django.db.utils.IntegrityError: duplicate key value violates unique constraint \"orders_order_number_key\"\nDETAIL:  Key (number)=({order_number}) already exists.",
             "stripe.error.AuthenticationError: Invalid API Key provided: {masked_value}",
             "TimeoutError: request {request_id} exceeded 30s", "ValueError: badly formed hexadecimal UUID string"]


def py_trace(it, extra_lines):
    frames = R.sample(PY_FRAMES, ri(2, 4))
    lines = ["Traceback (most recent call last):"]
    for f, fn, code in frames:
        lines.append(f'  File "{f}", line {ri(12, 900)}, in {fn}')
        lines.append(f"    {code}")
    lines += ["    " + x for x in extra_lines]
    lines.append(fill(it, ch(PY_ERRORS)))
    return "\n".join(lines)


def java_trace(it, extra_lines):
    lines = [fill(it, ch(["org.postgresql.util.PSQLException: FATAL: password authentication failed for user \"app\"",
                          "java.lang.NullPointerException: Cannot invoke \"com.acme.Order.getId()\" because \"order\" is null",
                          "org.springframework.web.client.HttpClientErrorException$Unauthorized: 401 Unauthorized",
                          "java.net.SocketTimeoutException: Read timed out (request {request_id})"]))]
    for c in ["com.acme.orders.OrderService.create(OrderService.java:{n}1)", "com.acme.orders.api.OrderController.post(OrderController.java:{n})",
              "org.springframework.web.servlet.FrameworkServlet.service(FrameworkServlet.java:897)",
              "java.base/java.lang.Thread.run(Thread.java:1583)"][: ri(2, 4)]:
        lines.append("\tat " + fill(it, c))
    for x in extra_lines:
        lines.append(ch(["Caused by: java.lang.IllegalStateException: upstream rejected request, context: ",
                         "Caused by: com.acme.client.ApiException: 401 for config ", "\tSuppressed: "]) + x)
    return "\n".join(lines)


def js_trace(it, extra_lines):
    lines = [fill(it, ch(["TypeError: Cannot read properties of undefined (reading 'id')",
                          "Error: Request failed with status code 403", "FetchError: request to https://api.{slug}.io/v2/sync failed, reason: ECONNRESET",
                          "UnhandledPromiseRejection: {request_id}"]))]
    for c in ["    at OrderService.create (/srv/app/dist/orders/service.js:{n}:31)", "    at async Promise.all (index 0)",
              "    at processTicksAndRejections (node:internal/process/task_queues:95:5)"][: ri(2, 3)]:
        lines.append(fill(it, c))
    for x in extra_lines:
        lines.append(ch(["  [cause]: ", "  config: ", "  request context: "]) + x)
    return "\n".join(lines)


def sh_traceback(it, specs):
    eid = it.d("uuid_v4")
    t = rand_time()
    keys(it, f"ERROR#{eid}", f"TS#{iso(t)}")
    texts = split_specs(it, specs)
    lang = ch(["python", "python", "java", "javascript"])
    extra = []
    for sp in texts:
        it.plant(sp)
        s = render(sp, "python" if lang == "python" else ch(["log", "env"]))
        extra.append(s.replace("\n", "\n    ") if lang == "python" else s)
    trace = {"python": py_trace, "java": java_trace, "javascript": js_trace}[lang](it, extra)
    it.put("language", lang)
    it.put("traceback", trace)
    it.put("release", it.d("git_sha"))
    it.put("environment", ch(ENVS))
    it.put("server_name", f"{ch(SERVICES)}-{rs(ANL, 10)}-{rs(ANL, 5)}")
    it.put("occurred_at", iso(t))
    hdrs = {"User-Agent": it.d("user_agent"), "X-Request-Id": it.d("request_id"),
            "Authorization": it.d("masked_value", ch(["[Filtered]", "Bearer ***", "[FILTERED]"]))}
    it.put("request", {"method": ch(["GET", "POST", "PUT"]), "url": f"https://api.{ch(DOMAINS_CORP)}/v1/{ch(['orders', 'invoices', 'sync'])}",
                       "headers": hdrs, "query_string": fill(it, "page={n}&cursor={pagination_cursor}")})
    it.put("breadcrumbs", [{"category": "http", "message": fill(it, "GET /health 200 in {ms}ms"), "level": "info"},
                           {"category": "query", "message": "SELECT id, number FROM orders WHERE id = %s", "level": "debug"}])
    it.put("fingerprint", SS([it.d("md5"), "{{ default }}"]))
    put_opt(it, "tags", 0.5, lambda: {"region": ch(REGIONS), "pod_ip": it.d("private_ip")})


# ---- CI log ----
def sh_ci_log(it, specs):
    pid = ri(10**6, 10**9)
    keys(it, f"PIPELINE#{pid}", f"JOB#{ri(1, 40):03d}")
    t = rand_time()
    texts = split_specs(it, specs)
    sha = it.d("git_sha")
    img = f"ghcr.io/{ch(SLUGS)}/{ch(SERVICES)}"
    lines = ["##[group]Run actions/checkout@v4", f"Syncing repository: {ch(SLUGS)}/{ch(SERVICES)}",
             f"HEAD is now at {sha[:7]} {ch(['fix: retry on 429', 'chore(deps): bump requests', 'feat: export to parquet'])}",
             "##[endgroup]", fill(it, "npm ci --no-audit  # added {count} packages in {n}s"),
             fill(it, "env:\n  NPM_TOKEN: ***\n  NODE_ENV: test"),
             fill(it, "========= {count} passed, 2 skipped in {n}.41s ========="),
             f"#12 writing image {it.d('docker_digest')} done",
             f"#13 naming to {img}:sha-{sha[:7]} done",
             fill(it, "Uploading artifact coverage.xml ({count} bytes), sha256 {sha256}")]
    for sp in texts:
        it.plant(sp)
        s = render(sp, ch(["env", "cli", "log", "env"]))
        lead = ch(["+ ", "$ ", "", "[debug] "])
        lines.insert(ri(3, len(lines)), lead + s)
    stamp = t
    out = []
    for ln in lines:
        stamp += dt.timedelta(seconds=ri(0, 20), microseconds=ri(1, 999999))
        out.append(stamp.strftime("%Y-%m-%dT%H:%M:%S.%f") + f"{ri(0, 9)}Z {ln}")
    it.put("provider", ch(["github_actions", "gitlab_ci", "circleci", "buildkite"]))
    it.put("commit_sha", sha)
    it.put("branch", ch(["main", "release/2024.11", "feature/export-parquet", "renovate/requests-2.x"]))
    it.put("status", ch(["success", "failed", "cancelled"]))
    it.put("duration_s", ri(20, 2400))
    it.put("log", "\n".join(out))
    it.put("artifacts", [{"name": "coverage.xml", "key": it.d("s3_key")}])
    put_opt(it, "runner", 0.5, lambda: {"os": "ubuntu-22.04", "ip": it.d("private_ip"), "labels": ["self-hosted", "x64"]})


# ---- config blob ----
def cfg_yaml(it, lines):
    base = [f"service: {ch(SERVICES)}", f"image: {ch(SLUGS)}/{ch(SERVICES)}@{it.d('docker_digest')}",
            f"replicas: {ri(1, 6)}", "database:", f"  url: {it.d('placeholder_dsn')}  # local default",
            f"  password: {it.d('env_reference', ch(['${DB_PASSWORD}', '{{ vault_db_password }}', '${SECRET_KEY:?missing}']))}",
            "network:", f"  allowed_cidrs: [{it.d('private_cidr')}, {it.d('private_cidr')}]",
            f"version: \"{it.d('version_string')}\"", f"role_arn: {it.d('arn')}"]
    return "\n".join(base[:ri(5, len(base))] + lines)


def cfg_env(it, lines):
    base = [f"APP_ENV={ch(ENVS)}", "DEBUG=false", f"ALLOWED_HOSTS=api.{ch(DOMAINS_CORP)}",
            f"DATABASE_URL={it.d('env_reference', '${DATABASE_URL}')}", f"SENTRY_RELEASE={it.d('git_sha_short')}",
            f"STRIPE_PUBLISHABLE_KEY={it.d('stripe_publishable_key')}", f"AWS_REGION={ch(REGIONS)}",
            f"# AWS_ACCESS_KEY_ID={it.d('placeholder_aws_key')}", f"CDN_URL={it.d('public_url')}"]
    R.shuffle(base)
    return "\n".join(base[:ri(4, len(base))] + lines)


def cfg_ini(it, lines):
    base = ["[app]", f"name = {ch(SERVICES)}", f"version = {it.d('version_string')}", "[database]",
            f"host = {it.d('private_ip')}", "port = 5432", f"password = {it.d('env_reference', '%(DB_PASS)s')}",
            "[cache]", f"url = {it.d('placeholder_dsn', 'redis://localhost:6379/0')}"]
    return "\n".join(base + lines)


def cfg_tfvars(it, lines):
    base = [f'region = "{ch(REGIONS)}"', f'vpc_cidr = "{it.d("private_cidr")}"', 'instance_type = "t3.medium"',
            f'kms_key_arn = "{it.d("arn")}"', f'db_password = {it.d("env_reference", "var.db_password")}',
            f'tags = {{ team = "{ch(SERVICES)}", env = "{ch(ENVS)}" }}']
    return "\n".join(base + lines)


def cfg_compose(it, lines):
    base = ["services:", "  app:", f"    image: {ch(SLUGS)}/{ch(SERVICES)}:{it.d('version_string')}",
            "    environment:", f"      DATABASE_URL: {it.d('placeholder_dsn')}",
            f"      SECRET_KEY: {it.d('env_reference', '${SECRET_KEY:?missing}')}", "  db:", "    image: postgres:16",
            "    environment:", "      POSTGRES_PASSWORD_FILE: /run/secrets/db_password"]
    return "\n".join(base + ["      " + x.replace("\n", "\n      ") for x in lines])


def cfg_k8s(it, lines):
    base = ["apiVersion: apps/v1", "kind: Deployment", "metadata:", f"  name: {ch(SERVICES)}", "spec:", "  template:",
            "    spec:", "      containers:", "        - name: app", f"          image: {ch(SLUGS)}/app@{it.d('docker_digest')}",
            "          env:", "            - name: DB_PASSWORD", "              valueFrom:",
            "                secretKeyRef: {name: db-credentials, key: password}",
            "            - name: POD_CIDR", f"              value: \"{it.d('private_cidr')}\""]
    out = "\n".join(base)
    for x in lines:
        if x.startswith("apiVersion"):
            out += "\n---\n" + x
        else:
            out += "\n            # " + x.replace("\n", "\n            # ")
    return out


def cfg_toml(it, lines):
    base = ["[tool.poetry]", f'name = "{ch(SERVICES)}"', f'version = "{it.d("version_string")}"', "",
            "[tool.app.database]", f'url = "{it.d("placeholder_dsn")}"', f'pool_size = {ri(2, 20)}']
    return "\n".join(base + lines)


def cfg_properties(it, lines):
    base = [f"spring.application.name={ch(SERVICES)}", f"spring.datasource.url=jdbc:postgresql://{it.d('private_ip')}:5432/app",
            "spring.datasource.username=app", f"spring.datasource.password={it.d('env_reference', '${DB_PASSWORD}')}",
            f"management.server.port={ri(8000, 9999)}"]
    return "\n".join(base + lines)


CFG = {"yaml": (cfg_yaml, "yaml"), "env": (cfg_env, "env"), "ini": (cfg_ini, "ini"), "tfvars": (cfg_tfvars, "toml"),
       "compose": (cfg_compose, "yaml"), "k8s": (cfg_k8s, "yaml"), "toml": (cfg_toml, "toml"),
       "properties": (cfg_properties, "properties")}


def sh_config_blob(it, specs):
    svc = ch(SERVICES)
    keys(it, f"CONFIG#{svc}", f"V#{ri(1, 400):05d}")
    fmt = ch(list(CFG) + ["json"])
    texts = split_specs(it, specs)
    if fmt == "json":
        obj = {"service": svc, "region": ch(REGIONS), "features": {"exports": True, "beta": chance(0.5)},
               "db": {"host": it.d("private_ip"), "password": it.d("env_reference", "${DB_PASSWORD}")},
               "release": it.d("git_sha_short"), "publishableKey": it.d("stripe_publishable_key")}
        for sp in texts:
            it.plant(sp)
            if sp.native_only:
                obj.setdefault("notes", []).append(ch(sp.native))
            else:
                setu(obj, (sp.env.lower() if sp.env else ch(sp.attrs) if sp.attrs else "value"), sp.value)
        content = json.dumps(obj, indent=2, ensure_ascii=False)
    else:
        fn, syn = CFG[fmt]
        lines = []
        for sp in texts:
            it.plant(sp)
            lines.append(render(sp, syn))
        content = fn(it, lines)
    it.put("format", fmt)
    it.put("content", content)
    it.put("checksum", it.d("sha256"))
    it.put("updated_by", it.d("username"))
    it.put("updated_at", iso(rand_time()))
    if chance(0.25):
        it.put("content_b64", B(content))


# ---- order ----
def line_items(it, n):
    out = []
    for _ in range(n):
        name, cat = ch(PRODUCTS)
        out.append({"sku": it.d("sku"), "name": name, "category": cat, "qty": ri(1, 4),
                    "unit_price": N(f"{ri(2, 300)}.{ri(1, 9)}{ri(1, 9)}"), "color": ch(COLORS)})
    return out


def sh_order(it, specs):
    on = it.d("order_number")
    keys(it, f"ORDER#{on}", "META")
    it.put("order_number", on)
    it.put("customer_id", it.d("uuid_v4"))
    it.put("status", ch(["paid", "shipped", "delivered", "refunded", "pending"]))
    it.put("currency", ch(["USD", "EUR", "GBP"]))
    it.put("items", line_items(it, ri(1, 4)))
    it.put("totals", {"subtotal": N(f"{ri(10, 900)}.{ri(1, 9)}{ri(1, 9)}"), "tax": N(f"{ri(1, 90)}.{ri(1, 9)}5"),
                      "shipping": N(f"{ri(0, 20)}.9{ri(1, 9)}")})
    l4 = rs(DG, 4)
    it.put("payment", {"method": "card", "brand": ch(["visa", "mastercard", "amex"]), "last4": l4,
                       "display": it.d("masked_value", "**** **** **** " + l4),
                       "intent": it.d("stripe_object_id", "pi_" + rs(AN, 24))})
    it.put("shipping", {"carrier": "UPS", "tracking": it.d("tracking_ups"), "service": ch(["ground", "2day", "express"]),
                        "country": ch(["US", "GB", "DE", "FR"])})
    it.put("placed_at", iso(rand_time()))
    put_opt(it, "promo_code", 0.3, lambda: it.d("referral_code"))
    texts = split_specs(it, specs)
    snips = text_snips(it, texts)
    if snips:
        it.put(ch(["notes", "gift_message", "delivery_instructions", "agent_notes"]), " ".join(snips))
    else:
        put_opt(it, "notes", 0.3, lambda: fill(it, ch(["Leave at the back door.", "Gift wrap please.",
                                                     "Customer asked to combine with {order_number}."])))


# ---- invoice ----
def sh_invoice(it, specs):
    inv = it.d("invoice_number")
    keys(it, f"INVOICE#{inv}", ch(["v1", "v2", "FINAL"]))
    it.put("invoice_number", inv)
    it.put("seller", {"company": ch(COMPANIES), "vat_note": "Reverse charge applies"})
    it.put("lines", [{"description": ch(PRODUCTS)[0], "qty": ri(1, 20), "amount": N(f"{ri(5, 900)}.{ri(1, 9)}{ri(1, 9)}")}
                     for _ in range(ri(1, 5))])
    it.put("tax_rate", N(ch(["0.19", "0.2", "0.07", "0.0825"])))
    it.put("total_display", it.d("price"))
    it.put("due_date", rand_time().strftime("%Y-%m-%d"))
    it.put("status", ch(["draft", "sent", "paid", "overdue"]))
    it.put("pdf_key", it.d("s3_key"))
    put_opt(it, "bank_check", 0.2, lambda: fill(it, "Note: {iban_mod97_fail} failed validation, please re-enter."))
    texts = split_specs(it, specs)
    snips = text_snips(it, texts)
    it.put("footer", fill(it, "Thank you for your business. Questions? {doc_email}") +
           ("\n" + "\n".join(snips) if snips else ""))


# ---- payment webhook ----
def sh_payment_webhook(it, specs):
    evt = "evt_" + rs(AN, 24)
    it.d("stripe_object_id", evt)
    keys(it, f"WEBHOOK#{evt}", f"ATTEMPT#{ri(1, 5)}")
    provider = ch(["stripe", "stripe", "adyen", "paypal", "square"])
    texts = split_specs(it, specs)
    payload = {"id": evt, "type": ch(["payment_intent.succeeded", "charge.refunded", "invoice.paid", "customer.updated"]),
               "created": epoch(rand_time()),
               "data": {"object": {"id": it.d("stripe_object_id", "pi_" + rs(AN, 24)), "amount": ri(100, 90000),
                                   "currency": "eur", "payment_method_details": {"card": {"brand": "visa", "last4": rs(DG, 4)}},
                                   "metadata": {"order_number": it.d("order_number")}}}}
    for sp in texts:
        it.plant(sp)
        obj = payload["data"]["object"]
        if sp.native_only:
            setu(obj.setdefault("metadata", {}), "note", ch(sp.native))
        else:
            setu(obj, ch(sp.attrs) if sp.attrs else "description",
                 sp.value if (sp.attrs and chance(0.75)) else render(sp, "prose"))
    raw = json.dumps(payload, ensure_ascii=False)
    it.put("provider", provider)
    it.put("headers", {"Stripe-Signature": it.d("webhook_signature"), "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
                       "Content-Type": "application/json"})
    if chance(0.5):
        it.put("payload", raw)
    else:
        it.put("payload_raw", B(raw))
    it.put("received_at", iso(rand_time()))
    it.put("processed", chance(0.9))
    it.put("delivery_attempts", ri(1, 5))


# ---- audit log ----
def sh_audit_log(it, specs):
    t = rand_time()
    keys(it, f"AUDIT#{t:%Y-%m-%d}", f"{iso(t)}#{it.d('uuid_v7')}")
    texts = split_specs(it, specs)
    net = [sp for sp in texts if sp.kind.startswith("network/ip")]
    texts = [sp for sp in texts if sp not in net]
    it.put("actor", it.d("username"))
    it.put("actor_id", it.d("uuid_v4"))
    it.put("action", ch(["user.login", "api_key.rotated", "role.granted", "export.created", "settings.updated",
                         "password.changed", "webhook.deleted"]))
    it.put("target", it.d("arn"))
    if net:
        it.plant(net[0])
        it.put("source_ip", net[0].value)
        texts += net[1:]
    else:
        it.put("source_ip", it.d(ch(["private_ip", "doc_ip"])))
    it.put("user_agent", it.d("user_agent"))
    it.put("request_id", it.d("request_id"))
    it.put("outcome", ch(["success", "denied"]))
    changes = {"field": ch(["api_key", "password", "webhook_secret", "role", "email_verified"]),
               "before": it.d("masked_value"), "after": it.d("masked_value")}
    it.put("changes", changes)
    if texts:
        snips = text_snips(it, texts, ch(["log", "prose"]))
        it.put("message", fill(it, "{service}: ") + " ".join(s.replace("\n", " | ") if "BEGIN" not in s else s for s in snips))
    else:
        it.put("message", fill(it, ch(["key rotated, old key {masked_value} revoked", "login ok via SSO from {doc_ip}",
                                       "export {ulid} created by {username}", "password changed (value not logged)"])))


# ---- CMS post ----
CMS_BODIES = [
    "## Configuring the client\n\nSet your key as an environment variable:\n\n```bash\nexport ACME_API_KEY={placeholder_angle}\n```\n\nNever commit keys. See {public_url}.",
    "# Release notes {version_string}\n\n- Faster exports (batch {ulid})\n- Fixed colour contrast ({css_color})\n- Docker image: `{docker_digest}`",
    "### Test cards\n\nUse {doc_test_card} with any future expiry in the sandbox. Test keys look like `{placeholder_stripe}`.",
    "## Connecting to Postgres\n\n```python\nDATABASES = {{'default': dj_database_url.parse(os.environ['DATABASE_URL'])}}\n```\n\nLocally you can use `{placeholder_dsn}`.",
    "We moved our CDN. Integrity hashes changed, update your script tags:\n\n```html\n<script src=\"https://cdn.example.com/widget.js\" integrity=\"{sri_hash}\" crossorigin=\"anonymous\"></script>\n```",
    "## Webhook signatures\n\nEach request carries `Stripe-Signature: {webhook_signature}`. Compute the HMAC with your endpoint secret (stored in `{env_reference}`).",
    "Our AWS examples use the documented placeholders `{placeholder_aws_key}` / `{placeholder_aws_secret}`; replace them with credentials from IAM Identity Center.",
    "### Formatting IBANs\n\nThe example IBAN {doc_example_iban} is used throughout the docs. Numbers such as {iban_mod97_fail} fail the mod-97 check and are rejected by the form.",
    "## Verifying commits\n\nAdd your public key:\n\n```\n{ssh_public_key}\n```\n\nThen sign with `git commit -S`. Current head: {git_sha}.",
    "Product spotlight: the {product}. Barcode {ean13}, ISBN for the companion guide {isbn13}.",
    "### Validating SSNs\n\nThe signup form rejects advertising and placeholder numbers such as {doc_example_ssn}, and never stores more than the last four digits (shown as `{masked_value}`).",
    "## Contact\n\nOur sample support line in the screenshots is {fictional_phone}; the address shown is {doc_email}. Replace both with your own in the widget config.",
]


def sh_cms_post(it, specs):
    i = ri(0, len(CMS_BODIES) - 1)
    slug = ["configuring-the-client", "release-notes", "test-cards", "postgres-setup", "cdn-migration",
            "webhook-signatures", "aws-examples", "iban-formatting", "signed-commits", "product-spotlight",
            "ssn-validation", "contact-widget"][i]
    keys(it, f"POST#{slug}", f"REV#{ri(1, 60):03d}")
    texts = split_specs(it, specs)
    body = fill(it, CMS_BODIES[i])
    if texts:
        snips = text_snips(it, texts)
        body += "\n\n" + ch(["Example from our own setup:", "Troubleshooting: the customer's config was", "Update:",
                             "Here is the working snippet:"]) + "\n\n" + "\n\n".join(snips)
    it.put("title", slug.replace("-", " ").title())
    it.put("body_markdown", body)
    it.put("author", it.d("username"))
    it.put("tags", SS(uniq(R.sample(["docs", "api", "security", "release", "payments", "devops"], ri(1, 3)))))
    it.put("hero_image", it.d("s3_key"))
    it.put("published_at", N(it.d("epoch_s")))
    put_opt(it, "seo", 0.5, lambda: {"canonical": it.d("public_url"), "og_color": it.d("css_color")})


# ---- catalog product ----
def sh_catalog_product(it, specs):
    sku = it.d("sku")
    keys(it, f"PRODUCT#{sku}", "META")
    name, cat = ch(PRODUCTS)
    it.put("title", name)
    it.put("category", cat)
    it.put("price", N(f"{ri(3, 400)}.{ri(1, 9)}{ri(1, 9)}"))
    it.put("currency", "EUR")
    it.put("gtin", it.d(ch(["ean13", "upc_a", "ean13_luhn_pass", "isbn13"])))
    put_opt(it, "asin", 0.4, lambda: it.d("asin"))
    it.put("variants", [{"sku": it.d("sku"), "color": ch(COLORS), "hex": it.d("css_color"), "size": ch(SIZES),
                         "stock": ri(0, 400)} for _ in range(ri(1, 3))])
    it.put("images", [it.d("s3_key") for _ in range(ri(1, 3))])
    it.put("rating", N(f"{ri(2, 4)}.{ri(1, 9)}"))
    it.put("dimensions_cm", NS([ri(5, 80), ri(81, 120), ri(121, 200)]))
    put_opt(it, "thumbnail", 0.3, lambda: it.d("base64_image"))
    put_opt(it, "warehouse", 0.4, lambda: {"code": ch(["DUB-2", "BER-1", "NJ-4"]), "geo": it.d("coordinates")})
    texts = split_specs(it, specs)
    snips = text_snips(it, texts)
    desc = fill(it, ch(["A dependable {product} in {color}. Ships in 2 days.", "Limited run. Sizes {size} to XL.",
                        "Comes with a 2-year warranty. Manual: {public_url}"]))
    if snips:
        it.put("supplier_feed", {"source": ch(["akeneo", "shopify", "csv"]), "raw": "\n".join(snips)})
    it.put("description", desc)


# ---- analytics event ----
def sh_analytics_event(it, specs):
    t = rand_time()
    keys(it, f"EVT#{t:%Y-%m-%d}", f"{epoch_ms(t)}#{it.d('ksuid')}")
    texts = split_specs(it, specs)
    it.put("event", ch(["page_view", "add_to_cart", "checkout_started", "signup_completed", "search"]))
    it.put("anonymous_id", it.d("uuid_v4"))
    it.put("ts", N(it.d("epoch_ms", str(epoch_ms(t)))))
    props = {"path": ch(["/pricing", "/checkout", "/products/" + ch(PRODUCTS)[0].lower().replace(" ", "-"), "/search"]),
             "referrer": it.d("public_url"), "value": N(f"{ri(1, 300)}.{ri(1, 9)}")}
    if texts:
        for sp in texts:
            it.plant(sp)
            if sp.native_only:
                setu(props, "raw", ch(sp.native))
            else:
                setu(props, ch(sp.attrs) if sp.attrs else "q", sp.value if chance(0.5) else render(sp, "log"))
    it.put("properties", props)
    it.put("context", {"user_agent": it.d("user_agent"), "locale": ch(["en-US", "de-DE", "fr-FR"]),
                       "screen": {"w": ch([390, 1440, 1920]), "h": ch([844, 900, 1080])},
                       "campaign": {"source": "newsletter", "ga": it.d("ga_measurement_id")}})
    put_opt(it, "experiment_buckets", 0.4, lambda: NS([ri(0, 99), ri(100, 199)]))


# ---- medical record ----
def sh_medical_record(it, specs):
    pid = it.d("uuid_v4")
    keys(it, f"PATIENT#{pid}", f"ENCOUNTER#{rand_time():%Y%m%d}#{ri(1, 9)}")
    texts = split_specs(it, specs)
    it.put("encounter_type", ch(["outpatient", "telehealth", "follow_up", "lab"]))
    it.put("diagnosis_codes", SS([it.d("icd10_code") for _ in range(ri(1, 3))]))
    it.put("procedure_codes", SS([it.d("cpt_code")]))
    it.put("labs", [{"loinc": it.d("loinc_code"), "value": N(f"{ri(1, 200)}.{ri(1, 9)}"), "unit": ch(["mg/dL", "mmol/L", "%"])}])
    it.put("vitals", {"bp_sys": ri(100, 150), "bp_dia": ri(60, 95), "hr": ri(50, 110), "temp_c": N(f"36.{ri(1, 9)}")})
    it.put("facility", ch(["CLINIC-BER-02", "MAIN-CAMPUS", "TELE-01"]))
    it.put("signed", chance(0.8))
    snips = text_snips(it, texts)
    note = fill(it, ch(["Follow-up in 6 weeks. Continue current medication.", "Labs within normal range except as noted.",
                        "Telehealth visit, no acute distress. Next review {date}."]))
    it.put("clinical_note", (("\n".join(snips) + "\n") if snips else "") + note)


# ---- HR record ----
def sh_hr_record(it, specs):
    eid = f"E{ri(10000, 99999)}"
    keys(it, f"EMPLOYEE#{eid}", ch(["PROFILE", f"COMP#{ri(2023, 2025)}", "REVIEW#2024H2", "PAYROLL"]))
    texts = split_specs(it, specs)
    it.put("employee_id", eid)
    it.put("department", ch(["Engineering", "Finance", "Support", "Warehouse", "Sales"]))
    it.put("level", ch(["L2", "L3", "L4", "M1"]))
    it.put("salary_band", ch(["B3", "B4", "B5"]))
    it.put("start_date", rand_time().strftime("%Y-%m-%d"))
    it.put("manager_id", f"E{ri(10000, 99999)}")
    it.put("badge_uid", it.d("uuid_v1"))
    it.put("pto_balance_h", N(f"{ri(0, 160)}.5"))
    snips = text_snips(it, texts)
    review = fill(it, ch(["Consistently delivers; led the {service} migration.", "Meets expectations. Goal: mentor two juniors.",
                          "Strong quarter, reduced ticket backlog by {pct}."]))
    it.put("notes", review + (("\n" + "\n".join(snips)) if snips else ""))


# ---- shipping record ----
def sh_shipping_record(it, specs):
    sid = it.d("ulid")
    keys(it, f"SHIPMENT#{sid}", "META")
    texts = split_specs(it, specs)
    carrier = ch(["UPS", "USPS", "FedEx", "DHL"])
    trk = it.d({"UPS": "tracking_ups", "USPS": "tracking_usps", "FedEx": "tracking_fedex", "DHL": "tracking_dhl"}[carrier])
    it.put("carrier", carrier)
    it.put("tracking_number", trk)
    it.put("order_number", it.d("order_number"))
    it.put("weight_kg", N(f"{ri(0, 30)}.{ri(1, 9)}"))
    it.put("dimensions_cm", NS([ri(10, 40), ri(41, 80), ri(81, 120)]))
    it.put("events", [{"ts": iso(rand_time()), "location": ch(["DE-BER-HUB", "US-NJ-EWR", "GB-LHR-GW", "FR-CDG-03"]),
                       "status": ch(["label_created", "in_transit", "out_for_delivery", "delivered"])} for _ in range(ri(1, 4))])
    it.put("destination_country", ch(["US", "DE", "GB", "FR", "NL"]))
    put_opt(it, "label_png", 0.2, lambda: it.d("base64_image"))
    snips = text_snips(it, texts)
    if snips:
        it.put(ch(["recipient_block", "label_text", "customs_notes"]), "\n".join(snips))


# ---- access log ----
def sh_access_log(it, specs):
    t = rand_time()
    host = f"{ch(SERVICES)}-{ri(1, 9)}"
    keys(it, f"LOG#{host}#{t:%Y-%m-%d}", f"{iso(t)}#{rs(HEX, 6)}")
    texts = split_specs(it, specs)
    ua = it.d("user_agent")
    path = fill(it, ch(["/api/v1/orders?page={n}", "/health", "/static/app.{git_sha_short}.js", "/checkout",
                        "/api/v1/products/{sku}"]))
    ip = it.d(ch(["private_ip", "private_ip", "doc_ip"]))
    extra, ip_set = "", False
    for sp in texts:
        it.plant(sp)
        if sp.kind.startswith("network/") and not ip_set:
            ip, ip_set = sp.value, True
        elif sp.kind.startswith("network/"):
            extra += f' xff="{sp.value}"' 
        elif sp.native_only:
            extra += " " + ch(sp.native).replace("\n", " ")
        elif " " in sp.value:
            extra += f' {ch(sp.attrs) if sp.attrs else "note"}="{sp.value}"'
        else:
            path = path + ("&" if "?" in path else "?") + (ch(sp.attrs) if sp.attrs else "q") + "=" + sp.value
    status, nbytes = ch([200, 200, 304, 401, 404, 500]), ri(200, 90000)
    line = f'{ip} - - [{t:%d/%b/%Y:%H:%M:%S} +0000] "GET {path} HTTP/1.1" {status} {nbytes} "-" "{ua}"{extra}'
    it.put("line", line)
    it.put("parsed", {"status": status, "bytes": nbytes, "upstream_ms": ri(1, 3000),
                      "lb": it.d("private_ip")})
    it.put("trace_id", it.d("aws_trace_id"))


# ---- integration settings ----
def sh_integration_settings(it, specs):
    org = it.d("uuid_v4")
    provider = ch(["slack", "github", "stripe", "hubspot", "zendesk", "datadog", "openai", "shopify"])
    keys(it, f"ORG#{org}", f"INTEGRATION#{provider}")
    texts = split_specs(it, specs)
    it.put("provider", provider)
    it.put("enabled", chance(0.8))
    it.put("scopes", SS(uniq(R.sample(["read", "write", "admin", "webhooks", "billing", "users:read"], ri(1, 3)))))
    it.put("webhook_url", f"https://hooks.{ch(DOMAINS_CORP)}/in/{it.d('uuid_v4')}")
    it.put("connected_by", it.d("username"))
    it.put("connected_at", iso(rand_time()))
    cfg = {"api_base": f"https://api.{provider}.com", "timeout_s": ri(5, 60),
           "key_hint": it.d("masked_value"), "secret_ref": it.d("arn")}
    put_opt(it, "public_key", 0.3, lambda: it.d(ch(["stripe_publishable_key", "supabase_publishable_key", "jwk_public",
                                                     "mapbox_public_token", "recaptcha_site_key"])))
    for sp in texts:
        it.plant(sp)
        if sp.native_only:
            setu(cfg, "setup_notes", ch(sp.native))
        else:
            setu(cfg, sp.env.lower() if sp.env else (ch(sp.attrs) if sp.attrs else "token"), sp.value)
    it.put("config", cfg)


# ---- session record (always sensitive) ----
def sh_session_record(it, specs):
    sid = it.d("uuid_v4")
    keys(it, f"SESSION#{sid}", "DATA")
    texts = split_specs(it, specs)
    data = {"_auth_user_id": str(ri(1, 90000)), "_auth_user_backend": "django.contrib.auth.backends.ModelBackend",
            "cart": [it.d("sku")], "last_seen": iso(rand_time())}
    for sp in texts:
        it.plant(sp)
        setu(data, ch(sp.attrs) if sp.attrs else "extra", sp.value if not sp.native_only else ch(sp.native))
    raw = json.dumps(data, ensure_ascii=False)
    it.put("session_data", B(raw) if chance(0.5) else raw)
    it.put("expire_date", iso(rand_time()))
    it.put("ip", it.d("private_ip"))


# ---- email outbox ----
def sh_email_outbox(it, specs):
    mid = it.d("ksuid")
    keys(it, f"OUTBOX#{mid}", ch(["QUEUED", "SENT", "BOUNCED"]))
    texts = split_specs(it, specs)
    it.put("template", ch(["order_confirmation", "password_reset", "weekly_digest", "invoice_ready", "welcome"]))
    it.put("provider_message_id", it.d("uuid_v4"))
    it.put("sent_at", N(it.d("epoch_s")))
    if texts:
        snips = text_snips(it, texts)
        body = "\n\n".join(snips) + "\n\n" + fill(it, "Order {order_number} total {price}.")
        it.put("rendered_body", body)
    else:
        it.put("rendered_body", fill(it, ch(["Hi {{first_name}},\n\nYour order {order_number} is on its way ({tracking_ups}).",
                                             "Your invoice {invoice_number} is ready in your account under Billing > Invoices.",
                                             "Reset your password using the link below. If you did not ask for this, ignore this email.\n{{reset_link}}",
                                             "This week: {count} new tickets, median first response {ms} ms."])))
    it.put("variables", SS(["first_name", "order_number", "reset_link"][: ri(1, 3)]))
    put_opt(it, "list_unsubscribe", 0.5, lambda: "<mailto:" + it.d("doc_email") + ">")


# harmless attributes, many with sensitive-sounding names, added to any item
TRICKY = [
    lambda it: it.put("password_updated_at", iso(rand_time())),
    lambda it: it.put("api_key_id", it.d("uuid_v4")),
    lambda it: it.put("token_type", "Bearer"),
    lambda it: it.put("secret_ref", it.d("arn")),
    lambda it: it.put("password_policy", {"min_length": 12, "require_symbol": True, "history": 5}),
    lambda it: it.put("auth_method", ch(["oauth2", "saml", "api_key", "password", "passkey"])),
    lambda it: it.put("session_ttl_s", 1209600),
    lambda it: it.put("has_password", True),
    lambda it: it.put("key_fingerprint", it.d("ssh_fingerprint")),
    lambda it: it.put("token_expires_at", N(it.d("epoch_s"))),
    lambda it: it.put("api_key_hint", it.d("masked_value")),
    lambda it: it.put("etag", it.d("etag")),
    lambda it: it.put("integrity", it.d("sri_hash")),
    lambda it: it.put("tls_cert", it.d("x509_certificate")),
    lambda it: it.put("public_key_pem", it.d("pem_public_key")),
    lambda it: it.put("legacy_ref", it.d(ch(["card_luhn_fail", "iban_mod97_fail", "ean13_luhn_pass"]))),
    lambda it: it.put("agent_version", it.d("ip_shaped_version")),
    lambda it: it.put("os_version", it.d("windows_build")),
    lambda it: it.put("credentials_source", ch(["env", "iam_role", "vault", "secrets_manager"])),
    lambda it: it.put("secret_name", f"{ch(ENVS)}/{ch(SERVICES)}/db"),
    lambda it: it.put("docs_snippet", it.d("code_password_var")),
    lambda it: it.put("example_config", fill(it, "password: {env_reference}")),
    lambda it: it.put("sample_dsn", it.d("placeholder_dsn")),
    lambda it: it.put("example_key", it.d(ch(["placeholder_aws_key", "placeholder_stripe", "placeholder_token",
                                              "placeholder_angle", "placeholder_aws_secret"]))),
    lambda it: it.put("snowflake_id", it.d("snowflake")),
    lambda it: it.put("mongo_id", it.d("objectid")),
    lambda it: it.put("trace_ids", SS([it.d("uuid_v1"), it.d("uuid_v7")])),
    lambda it: it.put("geo", it.d("coordinates")),
    lambda it: it.put("thumb_png", B(tiny_png())),
    lambda it: it.put("proto_blob", B(protobuf_bytes())),
    lambda it: it.put("checksums", BS([hashlib.sha256(rb(8)).digest(), hashlib.md5(rb(8)).digest()])),
    lambda it: it.put("shard_ids", NS([ri(1, 64), ri(65, 128), ri(129, 256)])),
    lambda it: it.put("webhook_secret_set", True),
    lambda it: it.put("jwks_uri", f"https://login.{ch(DOMAINS_CORP)}/.well-known/jwks.json"),
    lambda it: it.put("signing_jwk", it.d("jwk_public")),
    lambda it: it.put("image_data", it.d("base64_image")),
    lambda it: it.put("cursor", it.d("pagination_cursor")),
    lambda it: it.put("build", {"version": it.d("ip_shaped_version"), "commit": it.d("git_sha_short")}),
    lambda it: it.put("embedding", [round(R.uniform(-0.3, 0.3), 5) or 0.00013 for _ in range(ri(8, 24))]),
    lambda it: it.put("masked_card", it.d("masked_value", "**** **** **** " + rs(DG, 4))),
    lambda it: it.put("password_reset_required", False),
]

SECRETS = {"cloud", "devtools", "observability", "comms", "payments", "saas", "ai", "keys", "token", "generic"}
SHAPES = {
    # name: (fn, id prefix, harmless weight, sensitive weight, allowed kind groups (None: all), structured share)
    "user_profile": (sh_user_profile, "user", 8, 9, {"contact", "person", "address", "national_id", "dob", "financial",
                                                       "network", "medical", "vehicle", "generic:prose"}, 0.75),
    "support_ticket": (sh_support_ticket, "ticket", 10, 12, None, 0.3),
    "ticket_message": (sh_ticket_message, "msg", 10, 10, None, 0.25),
    "chat_turn": (sh_chat_turn, "chat", 10, 10, None, 0.3),
    "traceback": (sh_traceback, "error", 6, 7, SECRETS | {"contact", "network", "financial", "national_id"}, 0.4),
    "ci_log": (sh_ci_log, "ci", 5, 6, SECRETS - {"generic"} | {"generic:config", "generic:web"}, 0.25),
    "config_blob": (sh_config_blob, "config", 6, 9, SECRETS - {"generic"} | {"generic:config", "generic:prose"}, 0.3),
    "order": (sh_order, "order", 8, 4, {"person", "address", "contact", "financial", "network"}, 0.7),
    "invoice": (sh_invoice, "invoice", 4, 3, {"person", "address", "contact", "financial", "national_id"}, 0.6),
    "payment_webhook": (sh_payment_webhook, "webhook", 4, 3, {"payments", "financial", "contact", "person", "address",
                                                               "network"}, 0.4),
    "audit_log": (sh_audit_log, "audit", 6, 4, {"network", "contact", "generic:web", "generic:prose", "token", "person",
                                                 "cloud", "devtools"}, 0.5),
    "cms_post": (sh_cms_post, "post", 5, 3, SECRETS | {"contact", "person"}, 0.3),
    "catalog_product": (sh_catalog_product, "product", 7, 1, {"saas", "generic:config", "contact", "ai", "cloud"}, 0.4),
    "analytics_event": (sh_analytics_event, "event", 7, 3, {"network", "contact", "dob", "token", "generic:web"}, 0.5),
    "medical_record": (sh_medical_record, "medical", 3, 4, {"person", "address", "medical", "national_id", "dob",
                                                            "contact"}, 0.6),
    "hr_record": (sh_hr_record, "hr", 3, 4, {"person", "address", "national_id", "financial", "dob", "contact"}, 0.65),
    "shipping_record": (sh_shipping_record, "shipment", 5, 3, {"person", "address", "contact", "vehicle"}, 0.6),
    "access_log": (sh_access_log, "access", 5, 3, {"network", "generic:web", "token", "contact", "devtools", "cloud"}, 0.3),
    "integration_settings": (sh_integration_settings, "integration", 3, 5, SECRETS, 0.5),
    "session_record": (sh_session_record, "session", 0, 2, {"generic:web", "token", "network", "contact"}, 0.4),
    "email_outbox": (sh_email_outbox, "email", 4, 3, {"person", "address", "contact", "financial", "national_id",
                                                       "generic:prose", "generic:web", "token"}, 0.3),
}

GENERIC_PROSE = {"session_id_attribute", "password_prose", "key_in_prose", "password_foreign_word", "password_attribute", "secret_attribute",
                 "kv_password", "kv_secret", "kv_token", "kv_key", "kv_credential", "kv_foreign_secret", "totp_secret",
                 "password_reset_token_url"}
GENERIC_WEB = {"http_basic_auth", "token_query_string", "api_key_header", "bearer_token_opaque", "drf_token_header",
               "session_cookie_django", "session_cookie_java", "session_cookie_php", "session_cookie_express",
               "session_cookie_rails", "kv_auth", "kv_token", "secret_attribute", "password_reset_token_url",
               "session_id_attribute"}


def kind_groups(kind: str) -> set:
    fam, k = kind.split("/")
    out = {fam}
    if fam == "generic":
        if k in GENERIC_PROSE:
            out.add("generic:prose")
        if k in GENERIC_WEB:
            out.add("generic:web")
        if k not in GENERIC_PROSE and k not in GENERIC_WEB:
            out.add("generic:config")
    return out


# how often each family is drawn relative to its number of kinds
FAMILY_W = {"person": 3.0, "address": 3.0, "contact": 1.3, "national_id": 1.4, "financial": 1.4, "dob": 2.0,
            "network": 2.5, "vehicle": 3.0, "medical": 2.5}


# ---------------------------------------------------------------------------
# readable text of an item (what the measurement reads)
# ---------------------------------------------------------------------------
def readable(av, out):
    (t, v), = av.items()
    if t in ("S", "N"):
        out.append(v)
    elif t in ("SS", "NS"):
        out.extend(v)
    elif t == "B":
        out.append(base64.b64decode(v).decode("utf-8", "replace"))
    elif t == "BS":
        out.extend(base64.b64decode(x).decode("utf-8", "replace") for x in v)
    elif t == "M":
        for k, x in v.items():
            out.append(k)
            readable(x, out)
    elif t == "L":
        for x in v:
            readable(x, out)
    return out


def item_texts(item: dict) -> list[str]:
    out = []
    for k, v in item.items():
        out.append(k)
        readable(v, out)
    return out


def present(val, texts):
    return any(val in t for t in texts)


# hosts indent multi-line snippets (YAML blocks, quoted replies, traceback frames); the value as it
# appears in the item is then the indented form
INDENTS = ["      ", "    ", "  ", "            # ", "> ", "\t", "        ", "            "]


def locate(v: str, texts):
    """the form of v that appears in the item text, or None"""
    cands = [v]
    if "\n" in v:
        cands += [v.replace("\n", "\n" + ind) for ind in INDENTS]
    for c in cands:
        if present(c, texts):
            return c
        e = json_escape(c)
        if present(e, texts):
            return e
    return None


class Overlap(Exception):
    pass


def finalize(it: Item) -> dict:
    texts = item_texts(it.a)
    planted, seen = [], set()
    for v, k, c in it.planted:
        loc = locate(v, texts)
        if loc is None:
            raise AssertionError(f"planted value missing in item {it.idx} ({k}): {v[:60]!r}")
        if loc != v and loc != json_escape(v):
            # the host indented the block: plant its longest line, which appears unchanged
            loc = max(v.split("\n"), key=len).strip()
        v = loc
        if v in seen:
            continue
        seen.add(v)
        if len(v) < 8:
            raise AssertionError(f"short planted value {k}: {v!r}")
        planted.append({"value": v, "kind": k, "class": c})
    decoys, dseen = [], set()
    for v, k in it.decoys:
        v = locate(v, texts)
        if v is None:
            continue
        if v in dseen or not v.strip():
            continue
        if any(p["value"] in v or v in p["value"] for p in planted):
            continue
        dseen.add(v)
        decoys.append({"value": v, "kind": k})
    for p in planted:
        for key in ("pk", "sk"):
            if p["value"] in it.a[key]["S"]:
                raise AssertionError("planted value in key attribute")
    # once the planted values are cut out, no 12-character piece of one may remain elsewhere
    # (a DER OID shared with a decoy certificate, say): the leak measurement would flag it
    vals = sorted({p["value"] for p in planted}, key=len, reverse=True)
    rest = []
    for t in texts:
        for v in vals:
            t = t.replace(v, "\x00")
        rest.append(t)
    for v in vals:
        for i in range(len(v) - 11):
            if any(v[i:i + 12] in t for t in rest):
                raise Overlap(v[i:i + 12])
    return {"id": f"{it.prefix}-{it.idx:06d}", "shape": it.shape, "keys": ["pk", "sk"], "item": it.a,
            "harmless": not planted, "planted": planted, "decoys": decoys}


# ---------------------------------------------------------------------------
# main
# ---------------------------------------------------------------------------
FAKER_LOCALES = ["en_US", "en_GB", "de_DE", "fr_FR", "es_ES", "it_IT", "pt_BR", "nl_NL", "pl_PL", "en_IN", "en_AU",
                 "sv_SE"]


class Deck:
    """cycles through every kind (weighted copies) so each kind is drawn about equally often"""

    def __init__(self):
        self.cards: list[str] = []

    def refill(self):
        cards = []
        for k, (_, w) in KINDS.items():
            cards += [k] * max(1, round(w * 2 * FAMILY_W.get(k.split("/")[0], 1.0)))
        R.shuffle(cards)
        self.cards += cards

    def draw(self, allowed):
        if len(self.cards) < 40:
            self.refill()
        for i, k in enumerate(self.cards):
            if allowed is None or kind_groups(k) & allowed:
                return self.cards.pop(i)
        self.refill()
        return self.draw(allowed)


def generate(seed: int, n_items: int, sensitive_share: float = 0.235):
    global R
    R = random.Random(seed)
    FK.clear()
    for i, loc in enumerate(FAKER_LOCALES):
        f = Faker(loc)
        f.seed_instance(seed * 1000 + i)
        FK[loc] = f
    n_sens = round(n_items * sensitive_share)
    flags = [True] * n_sens + [False] * (n_items - n_sens)
    R.shuffle(flags)
    deck = Deck()
    names = list(SHAPES)
    for idx, sens in enumerate(flags, start=1):
        w = [(nm, SHAPES[nm][3 if sens else 2]) for nm in names]
        shape = wch([x for x in w if x[1] > 0])
        fn, prefix, _, _, allowed, struct_p = SHAPES[shape]
        kinds = [deck.draw(allowed) for _ in range(wch([(1, 55), (2, 27), (3, 12), (4, 6)]))] if sens else []
        for attempt in range(50):
            specs = [KINDS[kind][0]() for kind in kinds]
            it = Item(idx, shape, prefix)
            it.struct_p = struct_p
            fn(it, specs)
            if chance(0.45):
                for _ in range(ri(1, 2)):
                    ch(TRICKY)(it)
            try:
                rec = finalize(it)
                break
            except Overlap:
                continue   # rebuild the item with fresh random choices
        else:
            raise RuntimeError(f"item {idx}: could not avoid overlapping values")
        yield rec


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--items", type=int, default=3000)
    ap.add_argument("--out", default="corpus.jsonl")
    ap.add_argument("--sensitive-share", type=float, default=0.235)
    args = ap.parse_args(argv)
    with open(args.out, "w", encoding="utf-8", newline="\n") as fh:
        for rec in generate(args.seed, args.items, args.sensitive_share):
            fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
