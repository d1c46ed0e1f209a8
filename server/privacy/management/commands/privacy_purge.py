"""Delete expired personal data now, as the daily job does (server/privacy/retention.py)."""

from django.core.management.base import BaseCommand

from server.privacy.models import PurgeRun
from server.privacy.retention import purge_expired


class Command(BaseCommand):
    help = "删除超过保存期限的航迹点与人脸照片文件（TRACK_RETENTION_DAYS、FACE_PHOTO_RETENTION_DAYS）。"

    def add_arguments(self, parser):
        parser.add_argument(
            "--seal", action="store_true", help="先加密仍为明文的人脸照片文件（每日任务也会这样做）。"
        )

    def handle(self, *args, seal: bool = False, **options):
        if seal:
            from media_rules.private_files import seal_pending

            self.stdout.write(f"sealed {seal_pending()} face photo files")
        run = purge_expired(trigger=PurgeRun.Trigger.COMMAND)
        self.stdout.write(
            f"purged {run.track_points} track points recorded before {run.track_cutoff:%Y-%m-%d} and "
            f"{run.face_photos} face photo files received before {run.face_photo_cutoff:%Y-%m-%d}"
        )
