"""One definition of a covered household: notified, special need, moved out or exempt, or every
member sampled. Nobody home and refused no longer count alone, and home sampling counts once the
members are sampled. The counter is renamed from ``settled`` to ``covered`` and recounted."""

from django.db import migrations, models
from django.db.models import Count

COVERED = {"notified", "special_need", "moved_out", "exempt"}


def recount(apps, schema_editor):  # type: ignore[no-untyped-def]
    BuildingTask = apps.get_model("canvass", "BuildingTask")
    Coverage = apps.get_model("canvass", "Coverage")
    HouseholdState = apps.get_model("canvass", "HouseholdState")
    Resident = apps.get_model("territory", "Resident")
    RoundSample = apps.get_model("sampling", "RoundSample")
    for task in BuildingTask.objects.all().iterator():
        households = Resident.objects.filter(
            household__unit__building_id=task.building_id, moved_out=False
        )
        members = dict(
            households.values_list("household_id").annotate(n=Count("id")).values_list("household_id", "n")
        )
        sampled = dict(
            RoundSample.objects.filter(
                campaign_id=task.campaign_id, resident__household__unit__building_id=task.building_id
            )
            .values_list("resident__household_id")
            .annotate(n=Count("id"))
            .values_list("resident__household_id", "n")
        )
        complete = {h for h, n in members.items() if n and sampled.get(h, 0) >= n}
        states = {s.household_id: s for s in HouseholdState.objects.filter(task=task)}
        for household in complete:
            state = states.get(household)
            if state is None:
                states[household] = HouseholdState.objects.create(
                    campaign_id=task.campaign_id,
                    household_id=household,
                    task=task,
                    community_id=task.community_id,
                    all_sampled=True,
                )
            elif not state.all_sampled:
                state.all_sampled = True
                state.save(update_fields=["all_sampled"])
        task.covered = sum(1 for s in states.values() if s.all_sampled or s.outcome in COVERED)
        task.save(update_fields=["covered"])
    for coverage in Coverage.objects.all().iterator():
        coverage.covered = sum(
            BuildingTask.objects.filter(
                campaign_id=coverage.campaign_id, community_id=coverage.community_id
            ).values_list("covered", flat=True)
        )
        coverage.save(update_fields=["covered"])


class Migration(migrations.Migration):
    dependencies = [
        ("canvass", "0001_initial"),
        ("sampling", "0006_lane_rules_discarded_tubes_walk_in_documents"),
        ("territory", "0002_taiwan_permit_and_full_names"),
    ]

    operations = [
        migrations.RenameField("buildingtask", "settled", "covered"),
        migrations.RenameField("coverage", "settled", "covered"),
        migrations.AddField(
            model_name="householdstate",
            name="all_sampled",
            field=models.BooleanField(default=False, verbose_name="every member sampled"),
        ),
        migrations.AlterField(
            model_name="householdstate",
            name="outcome",
            field=models.CharField(
                blank=True,
                choices=[
                    ("notified", "Notified"),
                    ("nobody_home", "Nobody home"),
                    ("refused", "Refused"),
                    ("home_sampling", "Needs home sampling"),
                    ("special_need", "Special need"),
                    ("moved_out", "Moved out"),
                    ("exempt", "Exempt"),
                ],
                max_length=16,
                verbose_name="outcome",
            ),
        ),
        migrations.AlterField(
            model_name="householdstate",
            name="last_visit",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=models.deletion.PROTECT,
                related_name="+",
                to="canvass.visit",
            ),
        ),
        migrations.RunPython(recount, migrations.RunPython.noop),
    ]
