"""Counters without a hot row: counter moves are inserted (TallyMove) and folded into the
counters after the writer commits; sampled residents carry whether the fold has counted them.
Rows already in the database were counted when they were written, so they start folded."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('campaigns', '0004_special_need_targets'),
        ('sampling', '0007_home_sampling'),
        ('territory', '0002_taiwan_permit_and_full_names'),
    ]

    operations = [
        migrations.CreateModel(
            name='TallyMove',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('campaign_id', models.BigIntegerField()),
                ('scope', models.CharField(choices=[('lane', 'Lane'), ('site', 'Site'), ('community', 'Community'), ('campaign', 'Campaign')], max_length=10)),
                ('place_id', models.BigIntegerField()),
                ('hour', models.DateTimeField(null=True)),
                ('tubes_open', models.IntegerField(default=0)),
                ('tubes_sealed', models.IntegerField(default=0)),
                ('people', models.IntegerField(default=0)),
                ('boxes_in_transit', models.IntegerField(default=0)),
                ('results_pending', models.IntegerField(default=0)),
                ('positive_pools', models.IntegerField(default=0)),
                ('retests_open', models.IntegerField(default=0)),
            ],
        ),
        # Existing rows are counted already: add the column true for them, then default false.
        migrations.AddField(
            model_name='roundsample',
            name='folded',
            field=models.BooleanField(default=True),
        ),
        migrations.AlterField(
            model_name='roundsample',
            name='folded',
            field=models.BooleanField(default=False),
        ),
        migrations.AddIndex(
            model_name='roundsample',
            index=models.Index(condition=models.Q(('folded', False)), fields=['id'], name='sample_unfolded'),
        ),
    ]
