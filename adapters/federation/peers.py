"""The nodes this node trusts (`federation_peers`, `federation_peer_keys`, migration 0014).

A peer is registered from its descriptor (`adapters.federation.identity.NodeDescriptor`),
handed over out of band. Its keys then go through three states: active; retiring, after a
rotation brought new keys, until the end of the overlap (`retired_at`, accepted before that
instant and refused from it on), so that messages signed just before the rotation still verify;
and revoked (`revoked_at`), refused from that instant on. Revoking a peer revokes its keys with
it: a peer registered again later must bring new keys.

Lookups (`verification_key`, `encryption_key`, `url`) are what the exchange calls for each
message, as the runtime role, which only reads these tables. A lookup that finds no usable key
raises a `PeerKeyRefused` subclass whose `code` (unknown_peer, unknown_key, rotated_out,
revoked) goes into the signed error receipt; its message names a state or a key id, never a
person. Changes (`add`, `rotate`, `revoke`) are the node administrator's, as the owner
(`readmit peers`), and are refused with `PeerUpdateRefused` when they would make the directory
lie: a second registration of a registered peer, this node's own state, a key another peer
holds, a key already revoked.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ClassVar, Literal

import asyncpg
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PublicKey

from adapters.federation.identity import NodeDescriptor

RefusalCode = Literal["unknown_peer", "unknown_key", "rotated_out", "revoked"]
KeyStatus = Literal["active", "retiring", "rotated_out", "revoked"]


class PeerKeyRefused(Exception):
    """No usable key (or peer) for what was asked; `code` says why, for the receipt."""

    code: ClassVar[RefusalCode]


class UnknownPeer(PeerKeyRefused):
    code = "unknown_peer"


class UnknownKey(PeerKeyRefused):
    code = "unknown_key"


class RotatedOut(PeerKeyRefused):
    code = "rotated_out"


class Revoked(PeerKeyRefused):
    code = "revoked"


class PeerUpdateRefused(Exception):
    """An administrative change the directory refuses; one line, for the administrator."""


@dataclass(frozen=True, slots=True)
class PeerKey:
    kid: str
    use: Literal["sig", "enc"]
    crv: Literal["Ed25519", "X25519"]
    public_key: bytes
    added_at: datetime
    retired_at: datetime | None
    revoked_at: datetime | None

    def status(self, at: datetime) -> KeyStatus:
        if self.revoked_at is not None and self.revoked_at <= at:
            return "revoked"
        if self.retired_at is not None:
            return "rotated_out" if self.retired_at <= at else "retiring"
        return "active"

    def usable(self, at: datetime) -> bool:
        return self.status(at) in ("active", "retiring")


@dataclass(frozen=True, slots=True)
class Peer:
    state: str
    url: str
    added_at: datetime
    updated_at: datetime
    revoked_at: datetime | None
    keys: tuple[PeerKey, ...]

    def revoked(self, at: datetime) -> bool:
        return self.revoked_at is not None and self.revoked_at <= at

    def as_json(self, at: datetime) -> dict[str, Any]:
        """What `readmit peers list --json` prints (public keys as in a descriptor's `x`)."""
        return {
            "state": self.state,
            "url": self.url,
            "status": "revoked" if self.revoked(at) else "active",
            "added_at": self.added_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
            "revoked_at": self.revoked_at.isoformat() if self.revoked_at else None,
            "keys": [
                {
                    "kid": k.kid,
                    "use": k.use,
                    "crv": k.crv,
                    "status": k.status(at),
                    "added_at": k.added_at.isoformat(),
                    "retired_at": k.retired_at.isoformat() if k.retired_at else None,
                    "revoked_at": k.revoked_at.isoformat() if k.revoked_at else None,
                }
                for k in self.keys
            ],
        }


@dataclass(frozen=True, slots=True)
class Rotation:
    """What a rotation did: keys added, and keys accepted only until `until`."""

    state: str
    added: tuple[str, ...]
    retiring: tuple[str, ...]
    until: datetime


_PEER = "SELECT state, url, added_at, updated_at, revoked_at FROM federation_peers"
_KEYS = (
    "SELECT kid, state, use, crv, public_key, added_at, retired_at, revoked_at"
    " FROM federation_peer_keys"
)


class PeerDirectory:
    """The registered peers of this node over `pool`; `own_state` (READMIT_NODE_STATE), when
    known, is never registered as a peer."""

    def __init__(self, pool: asyncpg.Pool, *, own_state: str | None = None) -> None:
        self._pool = pool
        self._own_state = own_state

    # --- lookups (the runtime role) --------------------------------------------------------

    async def verification_key(self, state: str, kid: str, at: datetime) -> Ed25519PublicKey:
        """The public key `kid` of peer `state` verifies its signatures at `at`, or a refusal."""
        async with self._pool.acquire() as conn:
            peer = await conn.fetchrow(_PEER + " WHERE state = $1", state)
            key = await conn.fetchrow(_KEYS + " WHERE state = $1 AND kid = $2", state, kid)
        self._check_peer(peer, state, at)
        if key is None or key["use"] != "sig":
            raise UnknownKey(f"peer {state} has no signing key {kid}")
        found = _key(key)
        status = found.status(at)
        if status == "revoked":
            raise Revoked(f"signing key {kid} of peer {state} is revoked")
        if status == "rotated_out":
            raise RotatedOut(f"signing key {kid} of peer {state} was rotated out")
        return Ed25519PublicKey.from_public_bytes(found.public_key)

    async def encryption_key(self, state: str, at: datetime) -> tuple[str, X25519PublicKey]:
        """The kid and public key to encrypt to peer `state` at `at`: its newest usable
        encryption key (after a rotation, the new one, though the old is still accepted)."""
        async with self._pool.acquire() as conn:
            peer = await conn.fetchrow(_PEER + " WHERE state = $1", state)
            rows = await conn.fetch(
                _KEYS + " WHERE state = $1 AND use = 'enc' ORDER BY added_at DESC, kid", state
            )
        self._check_peer(peer, state, at)
        keys = [_key(r) for r in rows]
        for key in keys:
            if key.status(at) == "active":
                return key.kid, X25519PublicKey.from_public_bytes(key.public_key)
        for key in keys:
            if key.status(at) == "retiring":
                return key.kid, X25519PublicKey.from_public_bytes(key.public_key)
        statuses = {k.status(at) for k in keys}
        if "rotated_out" in statuses:
            raise RotatedOut(f"every encryption key of peer {state} was rotated out")
        if "revoked" in statuses:
            raise Revoked(f"every encryption key of peer {state} is revoked")
        raise UnknownKey(f"peer {state} has no encryption key")

    async def url(self, state: str, at: datetime) -> str:
        """The base URL of peer `state`, unless it is unknown or revoked at `at`."""
        async with self._pool.acquire() as conn:
            peer = await conn.fetchrow(_PEER + " WHERE state = $1", state)
        self._check_peer(peer, state, at)
        assert peer is not None
        return str(peer["url"])

    async def get(self, state: str) -> Peer | None:
        """Peer `state` with all its keys (revoked ones included), or None."""
        peers = await self._peers(state)
        return peers[0] if peers else None

    async def list(self) -> builtins.list[Peer]:
        """Every peer ever registered, by state, with all its keys (newest first)."""
        return await self._peers(None)

    # --- changes (the owner) -----------------------------------------------------------------

    async def add(self, descriptor: NodeDescriptor, at: datetime) -> Peer:
        """Register the node `descriptor` describes. A state registered and not revoked is
        refused (its new keys are a rotation); so is this node's own state, and a key that
        another peer holds or that was revoked."""
        state = descriptor.state
        if self._own_state is not None and state == self._own_state:
            raise PeerUpdateRefused(f"{state} is this node's own state, not a peer")
        async with self._pool.acquire() as conn, conn.transaction():
            await _lock(conn, state)
            peer = await conn.fetchrow(_PEER + " WHERE state = $1", state)
            if peer is not None and peer["revoked_at"] is None:
                raise PeerUpdateRefused(
                    f"peer {state} is registered already: new keys are a rotation "
                    "(readmit peers rotate)"
                )
            await _refuse_taken(conn, state, [k.kid for k in descriptor.keys])
            await conn.execute(
                "INSERT INTO federation_peers (state, url, added_at, updated_at)"
                " VALUES ($1, $2, $3, $3)"
                " ON CONFLICT (state) DO UPDATE SET url = excluded.url,"
                " added_at = excluded.added_at, updated_at = excluded.updated_at,"
                " revoked_at = NULL",
                state,
                descriptor.url,
                at,
            )
            await _insert_keys(conn, state, descriptor, [k.kid for k in descriptor.keys], at)
        added = await self.get(state)
        assert added is not None
        return added

    async def rotate(
        self, descriptor: NodeDescriptor, overlap: timedelta, at: datetime
    ) -> Rotation:
        """Take the keys of a new descriptor of a registered peer: its new keys are active at
        once; its keys the descriptor no longer lists are accepted until `at + overlap`."""
        if overlap < timedelta(0):
            raise PeerUpdateRefused("the overlap of a rotation cannot be negative")
        state = descriptor.state
        until = at + overlap
        async with self._pool.acquire() as conn, conn.transaction():
            await _lock(conn, state)
            peer = await conn.fetchrow(_PEER + " WHERE state = $1", state)
            self._check_peer(peer, state, at)
            current = {
                r["kid"]: _key(r) for r in await conn.fetch(_KEYS + " WHERE state = $1", state)
            }
            listed = [k.kid for k in descriptor.keys]
            for kid in listed:
                key = current.get(kid)
                if key is None:
                    continue
                status = key.status(at)
                if status == "revoked":
                    raise Revoked(f"key {kid} of peer {state} is revoked; it cannot come back")
                if status == "rotated_out":
                    raise RotatedOut(f"key {kid} of peer {state} was rotated out; bring new keys")
            new = [kid for kid in listed if kid not in current]
            await _refuse_taken(conn, state, new)
            await _insert_keys(conn, state, descriptor, new, at)
            # a listed key still retiring (a rotation taken back) is current again
            await conn.execute(
                "UPDATE federation_peer_keys SET retired_at = NULL"
                " WHERE state = $1 AND kid = ANY($2::text[]) AND retired_at IS NOT NULL",
                state,
                listed,
            )
            retiring = [
                kid
                for kid, key in current.items()
                if kid not in listed and key.status(at) in ("active", "retiring")
            ]
            await conn.execute(
                "UPDATE federation_peer_keys"
                " SET retired_at = LEAST(coalesce(retired_at, 'infinity'), $3)"
                " WHERE state = $1 AND kid = ANY($2::text[])",
                state,
                retiring,
                until,
            )
            await conn.execute(
                "UPDATE federation_peers SET url = $2, updated_at = $3 WHERE state = $1",
                state,
                descriptor.url,
                at,
            )
        return Rotation(state, tuple(new), tuple(sorted(retiring)), until)

    async def revoke(self, state: str, at: datetime, kid: str | None = None) -> int:
        """Stop trusting peer `state` (all its keys) or only its key `kid`, from `at` on.
        Returns how many keys this revoked (0: they were revoked already)."""
        async with self._pool.acquire() as conn, conn.transaction():
            await _lock(conn, state)
            peer = await conn.fetchrow(_PEER + " WHERE state = $1", state)
            if peer is None:
                raise UnknownPeer(f"no peer {state} is registered")
            if kid is not None:
                key = await conn.fetchrow(_KEYS + " WHERE state = $1 AND kid = $2", state, kid)
                if key is None:
                    raise UnknownKey(f"peer {state} has no key {kid}")
                kids = [kid]
            else:
                kids = [r["kid"] for r in await conn.fetch(_KEYS + " WHERE state = $1", state)]
            await conn.execute(
                "UPDATE federation_peers SET updated_at = GREATEST(updated_at, $2),"
                " revoked_at = CASE WHEN $3 THEN coalesce(revoked_at, $2) ELSE revoked_at END"
                " WHERE state = $1",
                state,
                at,
                kid is None,
            )
            status = await conn.execute(
                "UPDATE federation_peer_keys SET revoked_at = $3"
                " WHERE state = $1 AND kid = ANY($2::text[]) AND revoked_at IS NULL",
                state,
                kids,
                at,
            )
        return int(status.split()[-1])

    # --- helpers -------------------------------------------------------------------------------

    def _check_peer(self, peer: asyncpg.Record | None, state: str, at: datetime) -> None:
        if peer is None:
            raise UnknownPeer(f"no peer {state} is registered")
        if peer["revoked_at"] is not None and peer["revoked_at"] <= at:
            raise Revoked(f"peer {state} is revoked")

    async def _peers(self, state: str | None) -> builtins.list[Peer]:
        where = " WHERE state = $1" if state is not None else ""
        args: Sequence[Any] = (state,) if state is not None else ()
        async with self._pool.acquire() as conn:
            peers = await conn.fetch(_PEER + where + " ORDER BY state", *args)
            keys = await conn.fetch(
                _KEYS + where + " ORDER BY state, added_at DESC, use, kid", *args
            )
        by_state: dict[str, list[PeerKey]] = {}
        for row in keys:
            by_state.setdefault(row["state"], []).append(_key(row))
        return [
            Peer(
                state=p["state"],
                url=p["url"],
                added_at=p["added_at"],
                updated_at=p["updated_at"],
                revoked_at=p["revoked_at"],
                keys=tuple(by_state.get(p["state"], ())),
            )
            for p in peers
        ]


def _key(row: asyncpg.Record) -> PeerKey:
    return PeerKey(
        kid=row["kid"],
        use=row["use"],
        crv=row["crv"],
        public_key=bytes(row["public_key"]),
        added_at=row["added_at"],
        retired_at=row["retired_at"],
        revoked_at=row["revoked_at"],
    )


async def _lock(conn: Any, state: str) -> None:
    """One change to a peer at a time (two administrators, two terminals)."""
    await conn.execute(
        "SELECT pg_advisory_xact_lock(hashtext('readmit.federation_peers'), hashtext($1))", state
    )


async def _refuse_taken(conn: Any, state: str, kids: Iterable[str]) -> None:
    """A key id already in the table belongs to another peer, or was revoked (keys are never
    deleted); either way it cannot be registered again."""
    rows = await conn.fetch(
        "SELECT kid, state FROM federation_peer_keys WHERE kid = ANY($1::text[]) ORDER BY kid",
        list(kids),
    )
    for row in rows:
        if row["state"] != state:
            raise PeerUpdateRefused(f"key {row['kid']} is registered for peer {row['state']}")
        raise Revoked(f"key {row['kid']} of peer {state} was revoked; bring new keys")


async def _insert_keys(
    conn: Any, state: str, descriptor: NodeDescriptor, kids: Sequence[str], at: datetime
) -> None:
    rows = [
        (k.kid, state, k.use, k.crv, k.public_bytes(), at) for k in descriptor.keys if k.kid in kids
    ]
    await conn.executemany(
        "INSERT INTO federation_peer_keys (kid, state, use, crv, public_key, added_at)"
        " VALUES ($1, $2, $3, $4, $5, $6)",
        rows,
    )
