"""The size limit of a bank file sent inline, apart from the intake (which imports the CNAB layouts):
the API checks a request body against it before routing, before the banking routes are imported."""

INLINE_MAX_BYTES = 1024 * 1024
# Base64 of INLINE_MAX_BYTES, with its padding.
INLINE_MAX_BASE64 = (INLINE_MAX_BYTES + 2) // 3 * 4
