"""The REST methods; importing this package registers them (from ``RestConfig.ready``)."""

from rest.methods import batch, bizproc, crm, lists, scripts, structure, userfields

__all__ = ["batch", "bizproc", "crm", "lists", "scripts", "structure", "userfields"]
