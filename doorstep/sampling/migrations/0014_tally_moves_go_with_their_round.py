# A counter move's round becomes a ForeignKey to Django, without a database key or an index: the
# column (campaign_id, bigint, no constraint, no index) stays as it is, so the database is not
# touched and the moves waiting to be folded are kept. Django now deletes a round's unfolded
# moves with the round (the fold could add them to no counter).

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('campaigns', '0004_special_need_targets'),
        ('sampling', '0013_site_address'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveField(model_name='tallymove', name='campaign_id'),
                migrations.AddField(
                    model_name='tallymove',
                    name='campaign',
                    field=models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name='+',
                        to='campaigns.campaign',
                    ),
                    preserve_default=False,
                ),
            ],
            database_operations=[],
        ),
    ]
