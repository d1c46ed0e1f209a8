from django.core.management.base import BaseCommand

from sync.engine import expire_holds


class Command(BaseCommand):
    help = "Process or flag for review the sync operations held past SYNC_HOLD_DEADLINE_HOURS."

    def handle(self, *args, **options) -> None:
        outcome = expire_holds()
        self.stdout.write(
            f"held operations past the deadline: {outcome['forced']} processed, {outcome['flagged']} flagged"
        )
