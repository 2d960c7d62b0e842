"""Issuance: keys on tokens, certificates from the HSM-held CA, e-seal, signed PDFs (issue 7)."""
