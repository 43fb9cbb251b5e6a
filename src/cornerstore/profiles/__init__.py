"""Profiles: customers and accounts, identifiers, traits with provenance, the timeline, prefill."""
