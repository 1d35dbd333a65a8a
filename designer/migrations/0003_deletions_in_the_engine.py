"""Deleted templates kept for their processes move to the engine (``Template.deleted_at``)."""

from django.db import migrations


def copy_deletions(apps, schema_editor):
    Template = apps.get_model("bizproc", "Template")
    DeletedTemplate = apps.get_model("designer", "DeletedTemplate")
    for deletion in DeletedTemplate.objects.all():
        Template.objects.filter(pk=deletion.template_id).update(
            deleted_at=deletion.deleted_at, deleted_by_id=deletion.deleted_by_id
        )


def copy_deletions_back(apps, schema_editor):
    Template = apps.get_model("bizproc", "Template")
    DeletedTemplate = apps.get_model("designer", "DeletedTemplate")
    for template in Template.objects.filter(deleted_at__isnull=False):
        DeletedTemplate.objects.get_or_create(
            template_id=template.pk, defaults={"deleted_by_id": template.deleted_by_id}
        )


class Migration(migrations.Migration):
    dependencies = [
        ("designer", "0002_editlogentry"),
        ("bizproc", "0005_template_deleted"),
    ]

    operations = [
        migrations.RunPython(copy_deletions, copy_deletions_back),
        migrations.DeleteModel(name="DeletedTemplate"),
    ]
