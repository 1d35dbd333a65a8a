from django.db import migrations

# The element table searches names with icontains, which Django writes for PostgreSQL as
# UPPER("name"::text) LIKE UPPER('%word%'): a trigram index on that expression serves it, and
# its statistics let the planner see how common a word is (without them it guesses "rare",
# scans the whole list and sorts). SQLite scans, which is fine at its sizes.


def trigram_index_create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute(
        'CREATE INDEX IF NOT EXISTS "lists_element_name_trgm" ON "lists_element" '
        'USING gin (UPPER("name"::text) gin_trgm_ops)'
    )


def trigram_index_drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute('DROP INDEX IF EXISTS "lists_element_name_trgm"')


class Migration(migrations.Migration):

    dependencies = [("lists", "0002_element_date_indexes")]

    operations = [
        migrations.RunPython(trigram_index_create, trigram_index_drop, elidable=False),
    ]
