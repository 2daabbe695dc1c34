"""All ORM classes, one module per aggregate."""

from hackops.models.base import Base, IdMixin, SoftDeleteMixin, TimestampMixin, new_id
from hackops.models.organization import Organization

__all__ = ["Base", "IdMixin", "Organization", "SoftDeleteMixin", "TimestampMixin", "new_id"]
