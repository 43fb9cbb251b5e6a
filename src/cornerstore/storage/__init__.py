"""Storage: SQLAlchemy tables, the unit of work and its repositories, Alembic migrations.

All SQL of cornerstore lives in this package; everything else talks to a :class:`Store`.
"""

from cornerstore.storage.database import Store, open_store

__all__ = ["Store", "open_store"]
