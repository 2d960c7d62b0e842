"""Review: the packet and the two-stage review (issue 6)."""
