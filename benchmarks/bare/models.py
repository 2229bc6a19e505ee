from django.db import models


class BareItem(models.Model):
    """The baseline of the intake benchmark: one table, one insert."""

    name = models.CharField(max_length=200)
    amount = models.IntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return self.name
