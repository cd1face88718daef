-- Federation (issue 16): the nodes this node trusts, one per state, and their public keys.
-- Loaded by the node's administrator as the owner (`readmit peers add|rotate|revoke`); the
-- runtime role only reads them, to verify what a peer signed and encrypt what is sent to it.
-- Nothing is deleted: a revoked peer or key stays, with the instant it stopped being trusted.

CREATE TABLE federation_peers (
    state      text        PRIMARY KEY CHECK (state ~ '^[A-Z]{2}$'),
    url        text        NOT NULL CHECK (url ~ '^https?://'),
    added_at   timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    revoked_at timestamptz,
    CHECK (updated_at >= added_at)
);

-- A key is named by its RFC 7638 thumbprint, which names one public key only: the same kid
-- under two states would be one key claimed by both, so a kid is unique across peers.
-- retired_at: the end of the overlap after a rotation (accepted before it, not from it on);
-- revoked_at: no longer trusted at all, from that instant on.
CREATE TABLE federation_peer_keys (
    kid        text        PRIMARY KEY CHECK (kid ~ '^[A-Za-z0-9_-]{43}$'),
    state      text        NOT NULL REFERENCES federation_peers (state),
    use        text        NOT NULL CHECK (use IN ('sig', 'enc')),
    crv        text        NOT NULL,
    public_key bytea       NOT NULL CHECK (octet_length(public_key) = 32),
    added_at   timestamptz NOT NULL,
    retired_at timestamptz,
    revoked_at timestamptz,
    CHECK ((use = 'sig' AND crv = 'Ed25519') OR (use = 'enc' AND crv = 'X25519'))
);
CREATE INDEX federation_peer_keys_by_state ON federation_peer_keys (state, use, added_at DESC);
