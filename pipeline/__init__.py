"""sealdesk: the back office of a certificate authority that issues enterprise e-seals.

Stages live in sub-packages as plain functions (``ingest``, ``extract``, ``validate``,
``review``, ``issue``); ``records`` owns the database; ``flows/`` at the repository root
orchestrates them with Prefect. Nothing under ``pipeline`` imports Prefect.
"""

__version__ = "0.1.0"
