"""Webhook: JSON batches POSTed to a URL, signed, retried, resumable.

Each request body is one batch::

    {"destination": ..., "segment": ..., "run_id": ..., "sync_id": ...,
     "batch": 0, "batches": 3, "idempotency_key": "<sync_id>-0", "records": [...]}

Headers: ``Idempotency-Key`` (the same key on every retry of that batch, so the receiver
can drop duplicates) and ``X-Segmint-Signature: sha256=<hex>``, the HMAC-SHA256 of the
exact body bytes with the key in the destination's ``secret_env`` variable.  A batch is
retried on connection errors, timeouts, 429 and 5xx, waiting ``backoff_seconds`` x 2^n;
any other 4xx stops the sync.  The cursor (:mod:`segmint.activation._ledger`) moves past
a batch only after a 2xx answer.

The standard library's ``urllib`` sends the requests: one POST per batch needs no client
library, and it keeps segmint's dependencies small.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import time
import urllib.error
import urllib.request
from collections.abc import Callable

from segmint.activation._destination import Delivery, DeliveryError, ExportBatch
from segmint.activation._ledger import Batch
from segmint.exceptions import ConfigError

SIGNATURE_HEADER = "X-Segmint-Signature"


def sign(secret: bytes, body: bytes) -> str:
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


def verify(secret: bytes, body: bytes, signature: str) -> bool:
    """What a receiver checks (constant-time)."""
    return hmac.compare_digest(sign(secret, body), signature)


def _retryable(e: Exception) -> bool:
    if isinstance(e, urllib.error.HTTPError):
        return e.code == 429 or e.code >= 500
    return isinstance(e, (urllib.error.URLError, TimeoutError, ConnectionError, OSError))


class Webhook:
    def __init__(self, sleep: Callable[[float], None] = time.sleep) -> None:
        self.sleep = sleep

    def deliver(self, batch: ExportBatch) -> Delivery:
        d = batch.destination
        ledger = batch.ledger
        if ledger is None:  # pragma: no cover - the export path always gives one
            raise DeliveryError("the webhook needs a ledger")
        secret = os.environ.get(d.secret_env)
        if not secret:
            raise ConfigError(
                f"destination {d.name!r}: set the signing key in the environment variable "
                f"{d.secret_env}"
            )
        sync = ledger.pending()
        sent = 0
        for number in ledger.remaining():
            b = ledger.batch(number)
            body = json.dumps(
                {
                    "destination": d.name,
                    "segment": sync.segment if sync else batch.segment,
                    "run_id": sync.run_id if sync else batch.run_id,
                    "sync_id": b.key.rsplit("-", 1)[0],
                    "batch": b.number,
                    "batches": b.of,
                    "idempotency_key": b.key,
                    "records": b.records,
                },
                ensure_ascii=False,
                separators=(",", ":"),
            ).encode("utf-8")
            self._post(d.url or "", body, b, secret.encode("utf-8"), batch)
            ledger.acknowledge(number)
            sent += len(b.records)
        return Delivery(sent, d.url or "")

    def _post(self, url: str, body: bytes, b: Batch, secret: bytes, batch: ExportBatch) -> None:
        d = batch.destination
        headers = {
            "Content-Type": "application/json",
            "Idempotency-Key": b.key,
            SIGNATURE_HEADER: sign(secret, body),
        }
        last: Exception | None = None
        for attempt in range(d.max_attempts):
            if attempt:
                self.sleep(d.backoff_seconds * 2 ** (attempt - 1))
            request = urllib.request.Request(url, data=body, headers=headers, method="POST")
            try:
                with urllib.request.urlopen(request, timeout=d.timeout_seconds) as response:
                    response.read()
                return
            except Exception as e:
                if not _retryable(e):
                    raise DeliveryError(
                        f"destination {d.name!r}: {url} refused batch {b.number} of {b.of}: {e}"
                    ) from None
                last = e
        raise DeliveryError(
            f"destination {d.name!r}: batch {b.number} of {b.of} not delivered after "
            f"{d.max_attempts} tries ({last}); the next export resumes from it"
        )
