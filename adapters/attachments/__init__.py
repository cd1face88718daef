"""Attachments' bytes: sniffing their type, and the stores that keep them sealed."""
