"""The escalations app keeps no tables of its own: queue business hours live with the queues
(apps.accounts.models.QueueCalendar), since the proposals' SLA clock reads them."""
