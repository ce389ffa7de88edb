"""Explanations: why each subject moved (``explain``), what keeping one would cost (``whynot``), and what a
what-if changes against its base (``compare``)."""
