"""A device event keeps a digest of its content instead of the content: a replay is compared by
it, and the jsonb payload cost PostgreSQL a parse and most of the row on every accepted event."""

from django.db import migrations, models

from doorstep.sampling.ingest.play import digest


def digests(apps, schema_editor):
    DeviceEvent = apps.get_model("sampling", "DeviceEvent")
    batch = []
    for event in DeviceEvent.objects.only("pk", "payload").iterator(chunk_size=5000):
        event.digest = digest(event.payload)
        batch.append(event)
        if len(batch) == 5000:
            DeviceEvent.objects.bulk_update(batch, ["digest"])
            batch = []
    DeviceEvent.objects.bulk_update(batch, ["digest"])


class Migration(migrations.Migration):
    dependencies = [
        ("sampling", "0008_counter_moves_folded_samples"),
    ]

    operations = [
        migrations.AddField(
            model_name="deviceevent",
            name="digest",
            field=models.CharField(default="", max_length=32),
            preserve_default=False,
        ),
        # Backwards, the payloads are gone: replays of old events then read as conflicts.
        migrations.RunPython(digests, migrations.RunPython.noop),
        migrations.RemoveField(model_name="deviceevent", name="payload"),
    ]
