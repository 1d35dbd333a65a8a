"""Bitrix's default reference lists. Names are English and translated when shown."""

from django.db import migrations
from django.utils.translation import gettext_noop as _

ROWS = {
    "DEAL_STAGE": [
        ("NEW", _("New"), "P"),
        ("PREPARATION", _("Preparing documents"), "P"),
        ("PREPAYMENT_INVOICE", _("Prepayment invoice"), "P"),
        ("EXECUTING", _("In progress"), "P"),
        ("FINAL_INVOICE", _("Final invoice"), "P"),
        ("WON", _("Deal won"), "S"),
        ("LOSE", _("Deal lost"), "F"),
    ],
    "STATUS": [
        ("NEW", _("Unassigned"), "P"),
        ("IN_PROCESS", _("In progress"), "P"),
        ("PROCESSED", _("Processed"), "P"),
        ("CONVERTED", _("Good lead"), "S"),
        ("JUNK", _("Junk lead"), "F"),
    ],
    "SOURCE": [
        ("CALL", _("Call"), "P"),
        ("EMAIL", _("Email"), "P"),
        ("WEB", _("Website"), "P"),
        ("ADVERTISING", _("Advertising"), "P"),
        ("PARTNER", _("Existing client"), "P"),
        ("RECOMMENDATION", _("By recommendation"), "P"),
        ("TRADE_SHOW", _("Show/Exhibition"), "P"),
        ("OTHER", _("Other"), "P"),
    ],
    "COMPANY_TYPE": [
        ("CUSTOMER", _("Client"), "P"),
        ("SUPPLIER", _("Supplier"), "P"),
        ("COMPETITOR", _("Competitor"), "P"),
        ("PARTNER", _("Partner"), "P"),
        ("OTHER", _("Other"), "P"),
    ],
    "INDUSTRY": [
        ("IT", _("Information technology"), "P"),
        ("TELECOM", _("Telecommunication"), "P"),
        ("MANUFACTURING", _("Manufacturing"), "P"),
        ("BANKING", _("Banking services"), "P"),
        ("CONSULTING", _("Consulting"), "P"),
        ("FINANCE", _("Finance"), "P"),
        ("GOVERNMENT", _("Government"), "P"),
        ("DELIVERY", _("Delivery"), "P"),
        ("ENTERTAINMENT", _("Entertainment"), "P"),
        ("NOTPROFIT", _("Not for profit"), "P"),
        ("OTHER", _("Other"), "P"),
    ],
}


def create_rows(apps, schema_editor):
    Status = apps.get_model("crm", "Status")
    Status.objects.bulk_create(
        Status(list=list_code, code=code, name=name, sort=(index + 1) * 10, semantics=semantics)
        for list_code, rows in ROWS.items()
        for index, (code, name, semantics) in enumerate(rows)
    )


def delete_rows(apps, schema_editor):
    apps.get_model("crm", "Status").objects.filter(list__in=ROWS).delete()


class Migration(migrations.Migration):
    dependencies = [("crm", "0001_initial")]
    operations = [migrations.RunPython(create_rows, delete_rows)]
