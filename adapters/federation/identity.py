"""A node's identity: its state, its base URL and its two keys, and the public descriptor
other nodes register it by.

A node signs what it sends with an Ed25519 key (JWS `EdDSA`) and is sent personal data
encrypted to its X25519 key (HPKE). Each key is named by its RFC 7638 JWK thumbprint (base64url
SHA-256 of the public JWK's required members), so a key id cannot name another key: a peer
recomputes it from the public key and refuses a descriptor whose ids do not match.

The private keys live in the node's key file (`<READMIT_HOME>/nodes/<STATE>/node-keys.json` by
default): JSON of the private JWKs with the state and URL, written atomically, mode 0600, never
over an existing file unless told to. A key file others may read is refused on load, as ssh
refuses a private key: these keys speak for a state.

The descriptor (`NodeDescriptor`) is public: what `readmit node init` prints and `readmit peers
add` reads. It is not signed; it is handed over out of band, between the two administrations,
like a certificate's fingerprint.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import stat
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, Literal

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from joserfc.errors import JoseError
from joserfc.jwk import OKPKey
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator, model_validator

from adapters.encoding import KeyEncodingError, decode
from adapters.urls import https_or_loopback

DESCRIPTOR_TYPE = "readmit.node/1"
KEY_FILE_TYPE = "readmit.node-keys/1"
KEY_FILE_NAME = "node-keys.json"
STATE = re.compile(r"^[A-Z]{2}$")
PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600
KEY_BYTES = 32  # Ed25519 and X25519 public and private keys alike

Use = Literal["sig", "enc"]
Curve = Literal["Ed25519", "X25519"]
CURVE_OF: dict[str, Curve] = {"sig": "Ed25519", "enc": "X25519"}
StateCode = Annotated[str, Field(pattern=STATE.pattern, description="ISO 3166-1 alpha-2 code")]


class IdentityError(ValueError):
    """A state, URL or key file that cannot make a node's identity; one line, no key material."""


class KeyFileExists(IdentityError):
    """The key file is there already and overwriting it was not asked for."""


def default_keys_file(home: Path, state: str) -> Path:
    """Where a node's key file lives unless READMIT_NODE_KEYS_FILE says otherwise."""
    return home / "nodes" / state / KEY_FILE_NAME


def check_state(state: str) -> str:
    """`state` if it is two capital letters (an ISO 3166-1 alpha-2 code), else IdentityError."""
    if not STATE.fullmatch(state):
        raise IdentityError(f"state {state!r} is not two capital letters, e.g. PL")
    return state


def check_url(url: str) -> str:
    """`url` if it is https, or http on this machine (adapters.urls), else IdentityError."""
    if not https_or_loopback(url):
        raise IdentityError(
            f"node URL {url!r} must be https://…, or http:// to a loopback host (this machine)"
        )
    return url.rstrip("/")


def thumbprint(key: Ed25519PublicKey | X25519PublicKey) -> str:
    """The RFC 7638 thumbprint of the public key's JWK: its key id."""
    return str(OKPKey.import_key(key).thumbprint())


class NodeKey(BaseModel):
    """One public key of a descriptor, as a JWK with its use and its key id."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kid: str
    use: Use
    kty: Literal["OKP"] = "OKP"
    crv: Curve
    x: str = Field(description="the public key, base64url without padding (RFC 8037)")

    @model_validator(mode="after")
    def _consistent(self) -> NodeKey:
        if CURVE_OF[self.use] != self.crv:
            raise ValueError(f"a {self.use!r} key must be {CURVE_OF[self.use]}, not {self.crv}")
        try:
            raw = decode(self.x, KEY_BYTES)
        except KeyEncodingError as error:
            raise ValueError(f"key x is not a {KEY_BYTES}-byte base64url key ({error})") from None
        if "=" in self.x or "+" in self.x or "/" in self.x:
            raise ValueError("key x must be base64url without padding")
        expected = thumbprint(self._public(raw))
        if self.kid != expected:
            raise ValueError(f"key id {self.kid!r} is not the RFC 7638 thumbprint of its key")
        return self

    def public_bytes(self) -> bytes:
        """The raw 32-byte public key."""
        return decode(self.x, KEY_BYTES)

    def public_key(self) -> Ed25519PublicKey | X25519PublicKey:
        return self._public(self.public_bytes())

    def _public(self, raw: bytes) -> Ed25519PublicKey | X25519PublicKey:
        if self.crv == "Ed25519":
            return Ed25519PublicKey.from_public_bytes(raw)
        return X25519PublicKey.from_public_bytes(raw)

    @classmethod
    def of(cls, key: Ed25519PublicKey | X25519PublicKey) -> NodeKey:
        use: Use = "sig" if isinstance(key, Ed25519PublicKey) else "enc"
        jwk = OKPKey.import_key(key).as_dict(private=False)
        return cls(kid=thumbprint(key), use=use, crv=CURVE_OF[use], x=str(jwk["x"]))


class NodeDescriptor(BaseModel):
    """A node's public identity: its state, where it is reached, its keys (at least one for
    signing and one for encryption, ids unique), and when it was issued."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    typ: Literal["readmit.node/1"] = "readmit.node/1"
    state: StateCode
    url: str = Field(description="base URL: https, or http on a loopback host")
    keys: tuple[NodeKey, ...] = Field(min_length=2)
    issued_at: AwareDatetime

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        try:
            return check_url(value)
        except IdentityError as error:
            raise ValueError(str(error)) from None

    @model_validator(mode="after")
    def _keys(self) -> NodeDescriptor:
        kids = [k.kid for k in self.keys]
        if len(set(kids)) != len(kids):
            raise ValueError("a key id appears twice")
        for use in ("sig", "enc"):
            if not any(k.use == use for k in self.keys):
                raise ValueError(f"no {use!r} key")
        return self

    def keys_for(self, use: Use) -> list[NodeKey]:
        return [k for k in self.keys if k.use == use]

    def to_json(self) -> str:
        return self.model_dump_json(indent=2)


@dataclass(frozen=True)
class NodeIdentity:
    """This node's state, URL and private keys. The envelope code reads `state`,
    `signing_key`, `signing_kid`, `encryption_key` and `encryption_kid`."""

    state: str
    url: str
    signing_key: Ed25519PrivateKey
    encryption_key: X25519PrivateKey
    created_at: datetime
    # encryption keys of before a rotation, each kept to decrypt until its instant: messages
    # the peer built (and keeps resending) to the old key still open during the overlap
    previous: tuple[tuple[X25519PrivateKey, datetime], ...] = ()

    @classmethod
    def create(cls, state: str, url: str, *, now: datetime | None = None) -> NodeIdentity:
        """New keys for the node of `state` reached at `url`."""
        return cls(
            state=check_state(state),
            url=check_url(url),
            signing_key=Ed25519PrivateKey.generate(),
            encryption_key=X25519PrivateKey.generate(),
            created_at=now or datetime.now(UTC),
        )

    def rotated(self, overlap: timedelta, now: datetime | None = None) -> NodeIdentity:
        """New keys for this node; the current encryption key still decrypts for `overlap`
        (earlier ones past their instant are dropped). Peers take the new descriptor with
        `readmit peers rotate`, which keeps the old signing key accepted for their overlap."""
        at = now or datetime.now(UTC)
        kept = tuple((key, until) for key, until in self.previous if until > at)
        return NodeIdentity(
            state=self.state,
            url=self.url,
            signing_key=Ed25519PrivateKey.generate(),
            encryption_key=X25519PrivateKey.generate(),
            created_at=at,
            previous=((self.encryption_key, at + overlap), *kept),
        )

    def decryption_key(self, kid: str, at: datetime) -> X25519PrivateKey | None:
        """The private key of encryption key `kid`: the current one, or one kept from before
        a rotation until its instant; None for any other."""
        if kid == self.encryption_kid:
            return self.encryption_key
        for key, until in self.previous:
            if thumbprint(key.public_key()) == kid and at < until:
                return key
        return None

    @cached_property
    def signing_kid(self) -> str:
        return thumbprint(self.signing_key.public_key())

    @cached_property
    def encryption_kid(self) -> str:
        return thumbprint(self.encryption_key.public_key())

    def descriptor(self, issued_at: datetime | None = None) -> NodeDescriptor:
        """The public descriptor peers register this node by."""
        return NodeDescriptor(
            state=self.state,
            url=self.url,
            keys=(
                NodeKey.of(self.signing_key.public_key()),
                NodeKey.of(self.encryption_key.public_key()),
            ),
            issued_at=issued_at or datetime.now(UTC),
        )

    # --- the key file --------------------------------------------------------------------------

    def to_json(self) -> str:
        """The key file's content: private JWKs (with their `kid` and `use`), state and URL."""
        keys = []
        for key, use in ((self.signing_key, "sig"), (self.encryption_key, "enc")):
            jwk = OKPKey.import_key(key).as_dict(private=True)
            keys.append({**jwk, "kid": thumbprint(key.public_key()), "use": use})
        previous = [
            {
                **OKPKey.import_key(key).as_dict(private=True),
                "kid": thumbprint(key.public_key()),
                "use": "enc",
                "until": until.isoformat(),
            }
            for key, until in self.previous
        ]
        document = {
            "typ": KEY_FILE_TYPE,
            "state": self.state,
            "url": self.url,
            "created_at": self.created_at.isoformat(),
            "keys": keys,
            "previous": previous,
        }
        return json.dumps(document, indent=2) + "\n"

    def save(self, path: Path, *, force: bool = False) -> Path:
        """Write the key file atomically, mode 0600 in a directory made 0700; an existing
        file is refused (`KeyFileExists`) unless `force`, and never left half-written."""
        folder = path.parent
        if not folder.is_dir():
            folder.mkdir(mode=PRIVATE_DIR, parents=True)
            os.chmod(folder, PRIVATE_DIR)
        if not force and path.exists():
            raise KeyFileExists(f"{path} exists: it holds a node's keys; pass --force to replace")
        partial = folder / f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}"
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
        try:
            fd = os.open(partial, flags, PRIVATE_FILE)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                os.fchmod(handle.fileno(), PRIVATE_FILE)  # whatever the umask
                handle.write(self.to_json())
                handle.flush()
                os.fsync(handle.fileno())
            if force:
                os.replace(partial, path)
            else:
                try:
                    os.link(partial, path)  # fails if another process wrote it meanwhile
                except FileExistsError:
                    raise KeyFileExists(
                        f"{path} exists: it holds a node's keys; pass --force to replace"
                    ) from None
        except OSError as error:
            raise IdentityError(f"cannot write {path}: {error.strerror or error}") from None
        finally:
            with contextlib.suppress(FileNotFoundError):
                partial.unlink()
        _sync_directory(folder)
        return path

    @classmethod
    def load(cls, path: Path) -> NodeIdentity:
        """Read a key file `save` wrote; IdentityError (one line, no key material) otherwise."""
        try:
            info = path.stat()
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise IdentityError(f"no node key file at {path} (readmit node init)") from None
        except OSError as error:
            raise IdentityError(f"cannot read {path}: {error.strerror or error}") from None
        if os.name == "posix" and stat.S_IMODE(info.st_mode) & 0o077:
            raise IdentityError(
                f"{path} may be read or changed by others (mode "
                f"{stat.S_IMODE(info.st_mode):04o}): chmod 600 it"
            )
        try:
            return cls.from_json(text)
        except IdentityError as error:
            raise IdentityError(f"{path}: {error}") from None

    @classmethod
    def from_json(cls, text: str) -> NodeIdentity:
        try:
            document = json.loads(text)
        except ValueError:
            raise IdentityError("not JSON") from None
        if not isinstance(document, dict) or document.get("typ") != KEY_FILE_TYPE:
            raise IdentityError(f"not a node key file (typ {KEY_FILE_TYPE!r})")
        try:
            state = check_state(str(document["state"]))
            url = check_url(str(document["url"]))
            created_at = datetime.fromisoformat(str(document["created_at"]))
            by_use = {str(k["use"]): k for k in document["keys"]}
            if len(by_use) != len(document["keys"]) or set(by_use) != {"sig", "enc"}:
                raise IdentityError("it must hold one 'sig' and one 'enc' key")
            signing = _private(by_use["sig"], "Ed25519")
            encryption = _private(by_use["enc"], "X25519")
        except (KeyError, TypeError, ValueError) as error:
            if isinstance(error, IdentityError):
                raise
            raise IdentityError(f"malformed ({type(error).__name__})") from None
        if created_at.utcoffset() is None:
            raise IdentityError("created_at has no UTC offset")
        assert isinstance(signing, Ed25519PrivateKey)
        assert isinstance(encryption, X25519PrivateKey)
        previous = []
        try:
            for jwk in document.get("previous", []):
                key = _private(jwk, "X25519")
                assert isinstance(key, X25519PrivateKey)
                until = datetime.fromisoformat(str(jwk["until"]))
                if until.utcoffset() is None or jwk.get("kid") != thumbprint(key.public_key()):
                    raise IdentityError("a previous key is malformed")
                previous.append((key, until))
        except (KeyError, TypeError, ValueError) as error:
            if isinstance(error, IdentityError):
                raise
            raise IdentityError(f"malformed previous keys ({type(error).__name__})") from None
        identity = cls(state, url, signing, encryption, created_at, tuple(previous))
        for key, kid in (
            (by_use["sig"], identity.signing_kid),
            (by_use["enc"], identity.encryption_kid),
        ):
            if key.get("kid") != kid:
                raise IdentityError(f"the {key['use']!r} key's kid is not its thumbprint")
        return identity


def _private(jwk: dict[str, Any], crv: Curve) -> Ed25519PrivateKey | X25519PrivateKey:
    """The private key of a key file's JWK, which must be of curve `crv`."""
    if jwk.get("kty") != "OKP" or jwk.get("crv") != crv or "d" not in jwk:
        raise IdentityError(f"its {jwk.get('use')!r} key is not a private {crv} JWK")
    try:
        key = OKPKey.import_key({k: jwk[k] for k in ("kty", "crv", "x", "d")})
    except (JoseError, ValueError):
        raise IdentityError(f"its {jwk.get('use')!r} key is not a valid {crv} JWK") from None
    private = key.private_key
    if not isinstance(private, Ed25519PrivateKey | X25519PrivateKey):
        raise IdentityError(f"its {jwk.get('use')!r} key is not a private {crv} JWK")
    # the public half given must be the private key's own
    if OKPKey.import_key(private).as_dict(private=False)["x"] != jwk["x"]:
        raise IdentityError(f"its {jwk.get('use')!r} key's x does not match its d")
    return private


def _sync_directory(folder: Path) -> None:
    """Make the new directory entry durable (POSIX); best effort elsewhere."""
    with contextlib.suppress(OSError, AttributeError):
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
