"""Access: who is asking (the caller), API tokens and write keys, the audit trail."""
