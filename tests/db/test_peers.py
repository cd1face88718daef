"""The peer directory (adapters/federation/peers.py, migration 0014): peers registered from
descriptors, keys rotated with an overlap whose end is exact, revocation of a key or a peer,
and each refusal with its code. The runtime role reads the peers and cannot change them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from adapters.federation.identity import NodeDescriptor, NodeIdentity
from adapters.federation.peers import (
    PeerDirectory,
    PeerKeyRefused,
    PeerUpdateRefused,
    Revoked,
    RotatedOut,
    UnknownKey,
    UnknownPeer,
)

pytestmark = pytest.mark.db

T0 = datetime(2027, 1, 4, 9, 0, tzinfo=UTC)
OVERLAP = timedelta(days=7)


def node(state: str) -> NodeIdentity:
    return NodeIdentity.create(state, f"https://{state.lower()}.readmit.example")


def descriptor(identity: NodeIdentity) -> NodeDescriptor:
    return identity.descriptor(T0)


@pytest.fixture
def peers(pool: asyncpg.Pool) -> PeerDirectory:
    return PeerDirectory(pool, own_state="PL")


async def refused(code: str, awaitable: object) -> PeerKeyRefused:
    """The refusal `awaitable` raises, checked to carry `code`."""
    with pytest.raises(PeerKeyRefused) as caught:
        await awaitable  # type: ignore[misc]
    assert caught.value.code == code, caught.value
    return caught.value


async def test_a_registered_peer_is_listed_and_its_keys_found(peers: PeerDirectory) -> None:
    ua = node("UA")
    added = await peers.add(descriptor(ua), T0)
    assert (added.state, added.url, added.added_at, added.revoked_at) == (
        "UA",
        "https://ua.readmit.example",
        T0,
        None,
    )
    assert {k.kid for k in added.keys} == {ua.signing_kid, ua.encryption_kid}
    assert [p.state for p in await peers.list()] == ["UA"]

    key = await peers.verification_key("UA", ua.signing_kid, T0)
    signature = ua.signing_key.sign(b"message")
    key.verify(signature, b"message")  # the very key that signs
    kid, public = await peers.encryption_key("UA", T0)
    assert kid == ua.encryption_kid
    assert public.public_bytes_raw() == ua.encryption_key.public_key().public_bytes_raw()
    assert await peers.url("UA", T0) == "https://ua.readmit.example"


async def test_a_registered_peer_is_not_registered_twice(peers: PeerDirectory) -> None:
    await peers.add(descriptor(node("UA")), T0)
    with pytest.raises(PeerUpdateRefused, match="rotate"):
        await peers.add(descriptor(node("UA")), T0)
    assert len((await peers.get("UA") or pytest.fail()).keys) == 2  # nothing of the second


async def test_the_nodes_own_state_is_not_a_peer(peers: PeerDirectory) -> None:
    with pytest.raises(PeerUpdateRefused, match="own state"):
        await peers.add(descriptor(node("PL")), T0)
    assert await peers.list() == []


async def test_a_key_held_by_another_peer_is_refused(peers: PeerDirectory) -> None:
    ua = node("UA")
    await peers.add(descriptor(ua), T0)
    impostor = NodeIdentity("MD", "https://md.example", ua.signing_key, ua.encryption_key, T0)
    with pytest.raises(PeerUpdateRefused, match="registered for peer UA"):
        await peers.add(descriptor(impostor), T0)
    assert [p.state for p in await peers.list()] == ["UA"]  # the transaction left nothing


async def test_unknown_peer_and_unknown_key(peers: PeerDirectory) -> None:
    ua, md = node("UA"), node("MD")
    await peers.add(descriptor(ua), T0)
    await peers.add(descriptor(md), T0)
    await refused("unknown_peer", peers.verification_key("RO", ua.signing_kid, T0))
    await refused("unknown_peer", peers.encryption_key("RO", T0))
    await refused("unknown_peer", peers.url("RO", T0))
    await refused("unknown_key", peers.verification_key("UA", node("UA").signing_kid, T0))
    # another peer's key does not verify for this one, nor an encryption key for signatures
    await refused("unknown_key", peers.verification_key("UA", md.signing_kid, T0))
    await refused("unknown_key", peers.verification_key("UA", ua.encryption_kid, T0))


async def test_rotation_accepts_the_old_keys_until_the_end_of_the_overlap(
    peers: PeerDirectory,
) -> None:
    old, new = node("UA"), node("UA")
    await peers.add(descriptor(old), T0)
    at = T0 + timedelta(days=30)
    rotation = await peers.rotate(new.descriptor(at), OVERLAP, at)
    assert set(rotation.added) == {new.signing_kid, new.encryption_kid}
    assert set(rotation.retiring) == {old.signing_kid, old.encryption_kid}
    assert rotation.until == at + OVERLAP

    # both signing keys verify during the overlap; encryption goes to the new key at once
    await peers.verification_key("UA", new.signing_kid, at)
    await peers.verification_key("UA", old.signing_kid, at)
    last = at + OVERLAP - timedelta(microseconds=1)
    await peers.verification_key("UA", old.signing_kid, last)
    assert (await peers.encryption_key("UA", at))[0] == new.encryption_kid
    # from the end of the overlap on, the old key is refused
    end = at + OVERLAP
    await refused("rotated_out", peers.verification_key("UA", old.signing_kid, end))
    await peers.verification_key("UA", new.signing_kid, end)
    listed = await peers.get("UA") or pytest.fail()
    statuses = {k.kid: k.status(last) for k in listed.keys}
    assert statuses[old.signing_kid] == "retiring" and statuses[new.signing_kid] == "active"
    assert {k.kid: k.status(end) for k in listed.keys}[old.signing_kid] == "rotated_out"


async def test_a_second_rotation_does_not_extend_an_overlap(peers: PeerDirectory) -> None:
    first, second, third = node("UA"), node("UA"), node("UA")
    await peers.add(descriptor(first), T0)
    await peers.rotate(descriptor(second), OVERLAP, T0)
    later = T0 + timedelta(days=1)
    await peers.rotate(descriptor(third), OVERLAP, later)
    await refused("rotated_out", peers.verification_key("UA", first.signing_kid, T0 + OVERLAP))
    await peers.verification_key("UA", second.signing_kid, T0 + OVERLAP)
    await refused("rotated_out", peers.verification_key("UA", second.signing_kid, later + OVERLAP))


async def test_a_rotated_out_or_revoked_key_does_not_come_back(peers: PeerDirectory) -> None:
    old, new = node("UA"), node("UA")
    await peers.add(descriptor(old), T0)
    await peers.rotate(descriptor(new), timedelta(0), T0)
    await refused("rotated_out", peers.verification_key("UA", old.signing_kid, T0))
    await refused("rotated_out", peers.rotate(descriptor(old), OVERLAP, T0 + timedelta(1)))
    await peers.revoke("UA", T0, kid=new.encryption_kid)
    await refused("revoked", peers.rotate(descriptor(new), OVERLAP, T0 + timedelta(1)))


async def test_rotating_an_unknown_or_revoked_peer_is_refused(peers: PeerDirectory) -> None:
    await refused("unknown_peer", peers.rotate(descriptor(node("UA")), OVERLAP, T0))
    await peers.add(descriptor(node("UA")), T0)
    await peers.revoke("UA", T0)
    await refused("revoked", peers.rotate(descriptor(node("UA")), OVERLAP, T0))


async def test_revoking_one_key(peers: PeerDirectory) -> None:
    ua = node("UA")
    await peers.add(descriptor(ua), T0)
    at = T0 + timedelta(hours=1)
    assert await peers.revoke("UA", at, kid=ua.signing_kid) == 1
    assert await peers.revoke("UA", at, kid=ua.signing_kid) == 0  # once is enough
    await peers.verification_key("UA", ua.signing_kid, at - timedelta(microseconds=1))
    await refused("revoked", peers.verification_key("UA", ua.signing_kid, at))
    assert (await peers.encryption_key("UA", at))[0] == ua.encryption_kid  # the rest stays
    await refused("unknown_key", peers.revoke("UA", at, kid=node("UA").signing_kid))
    await refused("unknown_peer", peers.revoke("RO", at))


async def test_revoking_a_peer_revokes_its_keys(peers: PeerDirectory) -> None:
    ua = node("UA")
    await peers.add(descriptor(ua), T0)
    at = T0 + timedelta(hours=1)
    assert await peers.revoke("UA", at) == 2
    for lookup in (
        peers.verification_key("UA", ua.signing_kid, at),
        peers.encryption_key("UA", at),
        peers.url("UA", at),
    ):
        await refused("revoked", lookup)
    peer = await peers.get("UA") or pytest.fail()
    assert peer.revoked(at) and all(k.status(at) == "revoked" for k in peer.keys)
    # registered again, it must bring new keys: the revoked ones stay revoked
    await refused("revoked", peers.add(descriptor(ua), at))
    again = node("UA")
    await peers.add(descriptor(again), at)
    await peers.verification_key("UA", again.signing_kid, at)
    await refused("revoked", peers.verification_key("UA", ua.signing_kid, at))


async def test_no_usable_encryption_key_is_refused(peers: PeerDirectory) -> None:
    ua = node("UA")
    await peers.add(descriptor(ua), T0)
    await peers.revoke("UA", T0, kid=ua.encryption_kid)
    await refused("revoked", peers.encryption_key("UA", T0))


async def test_refusals_name_no_person(peers: PeerDirectory) -> None:
    """What goes into a receipt names a state and a key id, and what refused it."""
    error = await refused("unknown_peer", peers.url("RO", T0))
    assert str(error) == "no peer RO is registered"


async def test_the_runtime_role_reads_peers_and_cannot_change_them(
    pool: asyncpg.Pool, runtime_pool: asyncpg.Pool
) -> None:
    ua = node("UA")
    await PeerDirectory(pool).add(descriptor(ua), T0)
    runtime = PeerDirectory(runtime_pool)
    await runtime.verification_key("UA", ua.signing_kid, T0)
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await runtime.revoke("UA", T0)
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        await runtime.add(descriptor(node("MD")), T0)


def test_the_refusal_codes_are_the_receipts() -> None:
    codes = {cls: cls.code for cls in (UnknownPeer, UnknownKey, RotatedOut, Revoked)}
    assert codes == {
        UnknownPeer: "unknown_peer",
        UnknownKey: "unknown_key",
        RotatedOut: "rotated_out",
        Revoked: "revoked",
    }
    assert all(issubclass(cls, PeerKeyRefused) for cls in codes)
