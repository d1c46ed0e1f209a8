"""After a key rotation (a new key first in PII_KEYS): re-encrypt every ID number and sealed face photo
under it, so that the old key can then be removed from PII_KEYS."""

from django.core.management.base import BaseCommand

from media_rules.models import Blob
from media_rules.private_files import reseal
from server.registry.models import Person


class Command(BaseCommand):
    help = "用 PII_KEYS 中的第一个密钥重新加密全部身份证号与人脸照片文件（轮换密钥后运行）。"

    def handle(self, *args, **options):
        people = 0
        for person in Person.objects.only("pk", "id_number", "id_index").iterator():
            person.save(update_fields=["id_number", "id_index"])  # a new ciphertext, the same index
            people += 1
        files = 0
        for blob in Blob.objects.filter(encrypted=True, purged_at__isnull=True).iterator():
            files += reseal(blob)
        self.stdout.write(f"re-encrypted {people} ID numbers and {files} face photo files")
