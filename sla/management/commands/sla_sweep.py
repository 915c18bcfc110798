import json

from django.core.management.base import BaseCommand

from sla import services


class Command(BaseCommand):
    help = "Run one sweep of the deadline clock now and print what it did."

    def handle(self, *args, **options):
        result = services.sweep()
        self.stdout.write(json.dumps(result.as_dict(), ensure_ascii=False))
