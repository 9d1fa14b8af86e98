"""Trigger audit: every committed row change matched against its notification (Qt-free).

`values`, `records`, `matching`, `reasons`, `results` and `auditor` are the pure
matching engine; `plan` reads what to audit from the catalog and `session` runs the
change stream and the listener into the engine.
"""
