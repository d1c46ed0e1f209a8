"""Judge stored photos again: after the rules or thresholds changed, or to catch up on background
work. ``manage.py photos_reevaluate [--agency N] [--task UUID] [--since YYYY-MM-DD] [--process]``."""

from __future__ import annotations

import datetime as dt
import sys
import time

from django.core.management.base import BaseCommand, CommandError

from media_rules import reevaluation


class Progress:
    """A one-line progress bar on stderr (a plain line per 10% when stderr is not a terminal)."""

    def __init__(self, total: int, stream=sys.stderr, width: int = 30) -> None:
        self.total, self.stream, self.width = total, stream, width
        self.done, self.started, self.last_tenth = 0, time.monotonic(), -1
        self.tty = hasattr(stream, "isatty") and stream.isatty()

    def step(self) -> None:
        self.done += 1
        fraction = self.done / self.total if self.total else 1.0
        elapsed = time.monotonic() - self.started
        rate = self.done / elapsed if elapsed > 0 else 0.0
        left = (self.total - self.done) / rate if rate else 0.0
        line = (
            f"[{'#' * int(fraction * self.width):<{self.width}}] {self.done}/{self.total} "
            f"{fraction:4.0%} {rate:.1f}/s, {left:.0f} s left"
        )
        if self.tty:
            self.stream.write("\r" + line + ("\n" if self.done == self.total else ""))
        elif int(fraction * 10) != self.last_tenth or self.done == self.total:
            self.last_tenth = int(fraction * 10)
            self.stream.write(line + "\n")
        self.stream.flush()


class Command(BaseCommand):
    help = "Judge stored photos again with the current rules and thresholds, with a progress bar."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--agency", type=int, help="Only this agency's photos.")
        parser.add_argument("--task", help="Only this monitoring task's photos.")
        parser.add_argument("--since", help="Only photos recorded on or after this date (YYYY-MM-DD).")
        parser.add_argument(
            "--process",
            action="store_true",
            help="Also do the background work (thumbnail, hashes, person check) still missing.",
        )

    def handle(self, *args, **options) -> None:
        since = None
        if options["since"]:
            try:
                since = dt.date.fromisoformat(options["since"])
            except ValueError as exc:
                raise CommandError(f"--since: {exc}") from None
        photos = reevaluation.photos(agency=options["agency"], task=options["task"], since=since)
        bar = Progress(photos.count(), stream=self.stderr._out)
        done = reevaluation.run(photos, process=options["process"], step=lambda p: p.finished or bar.step())
        self.stdout.write(
            f"{done.total} photos judged again: {done.changed} verdicts changed"
            + (f", {done.processed} files processed" if options["process"] else "")
        )
