"""The REST methods; importing this package registers them (from ``RestConfig.ready``)."""

from rest.methods import batch, bizproc, crm, scripts

__all__ = ["batch", "bizproc", "crm", "scripts"]
