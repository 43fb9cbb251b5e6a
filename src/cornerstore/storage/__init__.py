"""Storage: SQLAlchemy tables, the unit of work and its repositories, Alembic migrations.

All SQL of cornerstore lives in this package; everything else talks to a :class:`Store`. Its
repositories return the named records of the domain packages' model modules
(:mod:`cornerstore.profiles.model`, :mod:`cornerstore.identity.model`,
:mod:`cornerstore.access.model`, :mod:`cornerstore.privacy.model`,
:mod:`cornerstore.learn.model`): storage imports those, never the reverse.
"""

from cornerstore.storage.database import Store, open_store

__all__ = ["Store", "open_store"]
