"""Benchmarks: ``make bench`` (bench/run.py) runs every module here against a throwaway database."""
