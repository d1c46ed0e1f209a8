"""Offline sync: push/pull protocol, operation journal, idempotency, hold-and-release, conflicts.

Built in issue [F3]; phones' writes reach the domain services through here.
"""
