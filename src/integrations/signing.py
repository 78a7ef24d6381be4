"""Standard Webhooks signatures: `webhook-id`, `webhook-timestamp`, `webhook-signature`.

The signed content is `<id>.<timestamp>.<body>` (the exact bytes sent), HMAC-SHA256 with the
key behind the secret's `whsec_` prefix, sent as `v1,<base64>`. The id stays the same across a
run's retries (receivers de-duplicate on it); the timestamp is each attempt's own.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from src.schemas.job_run_settings import signing_key


def signature_headers(secret: str, message_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(signing_key(secret), signed, hashlib.sha256).digest()
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": f"v1,{base64.b64encode(digest).decode()}",
    }
