"""Personal information at rest: encrypted ID numbers and face photos, and how long personal data is kept
(``crypto``: keys and ciphers; ``fields``: the model fields; ``retention``: the purge)."""
