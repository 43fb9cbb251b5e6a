"""Privacy: find and remove sensitive values (cards, bank details, national IDs, birthdays)."""

from cornerstore.privacy.detect import (
    FieldFinding,
    Finding,
    find,
    redact,
    scan_mapping,
    sensitive_field,
)
from cornerstore.privacy.message_scan import ScannedMessage, scan_messages

__all__ = [
    "FieldFinding",
    "Finding",
    "ScannedMessage",
    "find",
    "redact",
    "scan_mapping",
    "scan_messages",
    "sensitive_field",
]
