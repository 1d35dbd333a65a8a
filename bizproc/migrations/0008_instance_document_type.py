from django.db import migrations, models
from django.db.models import OuterRef, Subquery


def fill(apps, schema_editor):
    """Each process takes the document type of the template its version belongs to."""
    Instance = apps.get_model("bizproc", "Instance")
    TemplateVersion = apps.get_model("bizproc", "TemplateVersion")
    Instance.objects.filter(document_type="").update(
        document_type=Subquery(
            TemplateVersion.objects.filter(pk=OuterRef("version_id")).values(
                "template__document_type"
            )[:1]
        )
    )


class Migration(migrations.Migration):
    dependencies = [
        ("bizproc", "0007_run_attempts"),
    ]

    operations = [
        migrations.AddField(
            model_name="instance",
            name="document_type",
            field=models.CharField(blank=True, max_length=100, verbose_name="document type"),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
