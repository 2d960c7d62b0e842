"""Extraction: OCR, document kinds, fields and seals of each page (issue 4)."""
