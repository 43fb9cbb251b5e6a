"""Privacy: find and remove sensitive values (cards, bank details, national IDs, birthdays)."""

from cornerstore.privacy.detect import (
    FieldFinding,
    Finding,
    find,
    redact,
    scan_mapping,
    sensitive_field,
)

__all__ = ["FieldFinding", "Finding", "find", "redact", "scan_mapping", "sensitive_field"]
