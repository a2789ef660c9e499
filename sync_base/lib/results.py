"""What a transport answers for each envelope it was handed.

A transport's ``_send`` hook returns one :class:`TransportResult` per
envelope, in the order of the envelopes.  The queue turns it into the
message's next state:

=============  =====================================  ==================
status         meaning                                message state
=============  =====================================  ==================
acknowledged   the receiver applied it                ``done``
accepted       taken, acknowledgement comes later     ``sent``
transient      failed, worth trying again             ``retry``
permanent      failed, trying again cannot help       ``failed``
=============  =====================================  ==================
"""

import dataclasses

__all__ = ["STATUSES", "TransportResult", "check_results"]

ACKNOWLEDGED = "acknowledged"
ACCEPTED = "accepted"
TRANSIENT = "transient"
PERMANENT = "permanent"
STATUSES = (ACKNOWLEDGED, ACCEPTED, TRANSIENT, PERMANENT)


@dataclasses.dataclass(frozen=True)
class TransportResult:
    """The outcome of one envelope; build it with the class methods."""

    status: str
    reason: str = ""
    retry_after: float | None = None
    remote_model: str | None = None
    remote_ref: str | None = None

    def __post_init__(self):
        if self.status not in STATUSES:
            raise ValueError(f"unknown transport result status {self.status!r}")
        if self.status in (TRANSIENT, PERMANENT) and not self.reason:
            raise ValueError(f"a {self.status} failure needs a reason")
        if self.retry_after is not None and (self.status != TRANSIENT or self.retry_after < 0):
            raise ValueError("retry_after is a non-negative delay of a transient failure")

    @classmethod
    def acknowledged(cls, remote_model=None, remote_ref=None):
        """The receiver applied the envelope; optionally where (its model and reference)."""
        return cls(ACKNOWLEDGED, remote_model=remote_model, remote_ref=None if remote_ref is None else str(remote_ref))

    @classmethod
    def accepted(cls):
        """The receiver took the envelope; its acknowledgement will come later."""
        return cls(ACCEPTED)

    @classmethod
    def transient(cls, reason, retry_after=None):
        """A failure worth retrying, optionally not before ``retry_after`` seconds."""
        return cls(TRANSIENT, reason=str(reason), retry_after=retry_after)

    @classmethod
    def permanent(cls, reason):
        """A failure that retrying cannot fix."""
        return cls(PERMANENT, reason=str(reason))

    @property
    def ok(self):
        return self.status in (ACKNOWLEDGED, ACCEPTED)


def check_results(results, count, transport=""):
    """Return ``results`` as a list if it holds ``count`` :class:`TransportResult`, else raise ``TypeError``."""
    results = list(results) if results is not None else []
    name = f"transport {transport!r}" if transport else "the transport"
    if len(results) != count:
        raise TypeError(f"{name} returned {len(results)} results for {count} envelopes")
    for index, result in enumerate(results):
        if not isinstance(result, TransportResult):
            raise TypeError(f"{name} returned {type(result).__name__} instead of a TransportResult at position {index}")
    return results
