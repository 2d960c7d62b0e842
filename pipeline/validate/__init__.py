"""Validation: from an application record and its extracted documents, the check report."""
