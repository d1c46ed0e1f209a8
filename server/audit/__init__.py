"""The audit trail (F7): who created, changed, confirmed, reviewed or returned what, and when, with
the phone and the sync operation it came from. Written by ``services.record`` only."""
