"""Blocks cover networks: `BlockedIP.ip` holds an address or a network (CIDR) as text.

PostgreSQL spells an `inet` host as text with its mask (`203.0.113.5/32`); the rows are then
rewritten in the block list's spelling (`203.0.113.5`), so the existing blocks stay found."""

import ipaddress

from django.db import migrations, models


def spell_hosts_without_mask(apps, schema_editor):
    BlockedIP = apps.get_model("security", "BlockedIP")
    for block in BlockedIP.objects.filter(ip__contains="/").only("ip"):
        network = ipaddress.ip_network(block.ip, strict=False)
        if network.num_addresses == 1:
            BlockedIP.objects.filter(pk=block.pk).update(ip=str(network.network_address))


class Migration(migrations.Migration):
    dependencies = [
        ("security", "0002_security_events_and_blocks"),
    ]

    operations = [
        migrations.AlterField(
            model_name="blockedip",
            name="ip",
            field=models.CharField(help_text="The address or network (CIDR) blocked.", max_length=49),
        ),
        migrations.RunPython(spell_hosts_without_mask, migrations.RunPython.noop),
    ]
