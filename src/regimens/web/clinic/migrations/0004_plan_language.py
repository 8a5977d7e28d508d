# Each plan's patient language (issue 18): existing plans stay English, as they were printed.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('clinic', '0003_revision_cycles'),
    ]

    operations = [
        migrations.AddField(
            model_name='treatmentplan',
            name='language',
            field=models.CharField(default='en', max_length=35),
        ),
        migrations.AddField(
            model_name='treatmentplan',
            name='language_changed_at',
            field=models.DateTimeField(blank=True, null=True),
        ),
    ]
