"""`huying photos_reencode [--dry-run]`: strip the metadata (EXIF, GPS, device) of photos stored
before intake re-encoded every upload; each one is turned upright and written again as intake
writes it now, the old file deleted. Photos that carry no metadata are left as they are."""

from django.core.management.base import BaseCommand

from huying.core.errors import DomainError
from huying.dispatch.models import Attachment
from huying.dispatch.services.photos import attachment_reencode, photo_has_metadata


class Command(BaseCommand):
    help = "Re-encode stored order photos that still carry EXIF/GPS or other metadata."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="only count the photos that carry metadata")

    def handle(self, *args, dry_run=False, **options):
        counts = {"checked": 0, "reencoded": 0, "clean": 0, "missing": 0, "unreadable": 0}
        for att in Attachment.objects.order_by("pk").iterator(chunk_size=500):
            counts["checked"] += 1
            try:
                if dry_run:
                    with att.file.open("rb") as fh:
                        dirty = photo_has_metadata(fh.read())
                    counts["reencoded" if dirty else "clean"] += 1
                    continue
                done = attachment_reencode(att)
            except FileNotFoundError:
                counts["missing"] += 1
                continue
            except DomainError as exc:
                counts["unreadable"] += 1
                self.stderr.write(f"attachment {att.pk} ({att.file.name}): {exc.message}")
                continue
            counts["reencoded" if done.file.name != att.file.name else "clean"] += 1
        verb = "would re-encode" if dry_run else "re-encoded"
        self.stdout.write(f"checked {counts['checked']}: {verb} {counts['reencoded']}, already clean {counts['clean']}, "
                          f"file missing {counts['missing']}, unreadable {counts['unreadable']}")
