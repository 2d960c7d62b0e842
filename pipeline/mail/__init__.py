"""The mailroom: batch scans of mailed envelopes, split into applications."""
