"""Federation (issue 16): each state runs its own Readmit node, and nodes exchange signed,
receipted messages. This package holds a node's own keys (`identity`) and the keys of the
nodes it trusts (`peers`)."""
