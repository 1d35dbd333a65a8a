"""The activity registry; activities register themselves when their module is imported
(``bizproc.activities.standard`` from ``BizprocConfig.ready``, CRM ones from ``CrmConfig``)."""

from bizproc.activities.base import activities

__all__ = ["activities"]
