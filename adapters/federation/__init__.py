"""Federation (docs/federation.md): each state runs its own Readmit node, and nodes exchange
signed, receipted messages. This package holds a node's own keys (`identity`), the keys of the
nodes it trusts (`peers`), the signed envelope of messages and receipts (`envelope`, `hpke`,
`schemas`), the record of what was exchanged (`store`) and the receiving end (`inbound`)."""
