from django.db import migrations, models


class Migration(migrations.Migration):
    """Equipment carries a hardware and a system warranty date (the old single date was the
    hardware's: it is renamed, keeping its values); a contract says what it covers and how work
    it does not cover is charged."""

    dependencies = [
        ("customers", "0002_contract_policy_and_calendar"),
    ]

    operations = [
        migrations.RenameField(
            model_name="equipment",
            old_name="warranty_ends_on",
            new_name="hardware_warranty_ends_on",
        ),
        migrations.AlterField(
            model_name="equipment",
            name="hardware_warranty_ends_on",
            field=models.DateField(blank=True, null=True, verbose_name="hardware warranty ends on"),
        ),
        migrations.AddField(
            model_name="equipment",
            name="system_warranty_ends_on",
            field=models.DateField(blank=True, null=True, verbose_name="system warranty ends on"),
        ),
        migrations.AddField(
            model_name="contract",
            name="scope",
            field=models.CharField(
                choices=[("service", "All service work"), ("warranty", "Warranty repairs only")],
                default="service",
                help_text="Warranty repairs only: outside the warranty dates the work is paid service.",
                max_length=16,
                verbose_name="covers",
            ),
        ),
        migrations.AddField(
            model_name="contract",
            name="paid_service",
            field=models.CharField(
                choices=[("per_call", "Per call"), ("per_year", "Per year (annual paid-service agreement)")],
                default="per_call",
                help_text="How work the contract does not cover is charged while it is in force.",
                max_length=16,
                verbose_name="paid service",
            ),
        ),
    ]
