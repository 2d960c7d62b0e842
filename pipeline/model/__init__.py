"""The shared typed model every stage may import: the check report's documents and
findings (``report``, the public contract of ``shared/spec/check-report.md``) and how
names are folded and compared (``names``). It imports no stage."""
