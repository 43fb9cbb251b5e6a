"""Intake: Segment Spec messages from HTTP, the library and file imports, through one code path."""
