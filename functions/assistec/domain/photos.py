"""Device photos: what the shop may upload and for how long the links live."""

from __future__ import annotations

MAX_BYTES = 10 * 1024 * 1024
UPLOAD_EXPIRES_S = 15 * 60
DOWNLOAD_EXPIRES_S = 15 * 60
# The image types accepted, with the extension each is stored under.
EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp", "image/heic": "heic"}
