"""The shared vendor HTTP layer with Zendesk's reasons for a refused update, and its retry rules."""

from __future__ import annotations

import httpx

from frontline.connectors.http import MAX_RETRY_AFTER, VendorAPI
from frontline.connectors.zendesk.payloads import validation_details, zendesk_id
from frontline.errors import ConnectorError, NotFoundError, RateLimitedError, UnavailableError

SERVICE = "Zendesk"


class ZendeskAPI(VendorAPI):
    """The shared HTTP layer, adding Zendesk's per-field ``details`` to a refused update."""

    def error_for(self, response: httpx.Response, method: str, path: str) -> ConnectorError:
        """As VendorAPI, with the reasons Zendesk gives for a 422 (which field, which value)."""
        error = super().error_for(response, method, path)
        if type(error) is not ConnectorError:
            return error
        try:
            details = validation_details(response.json())
        except ValueError:
            details = ""
        if not details:
            return error
        return ConnectorError(error.service, f"{error.message} ({details})", status=error.status, hint=error.hint)


def retry_rate_limited(error: Exception) -> bool | float:
    """stamina hook: wait out a 429's Retry-After (nothing was applied), give up on anything else."""
    if isinstance(error, RateLimitedError):
        return error.retry_after if error.retry_after <= MAX_RETRY_AFTER else False
    return False


def retry_write(error: Exception) -> bool | float:
    """stamina hook for writes: 429 and 409 applied nothing; a timeout or 5xx is checked first."""
    if isinstance(error, RateLimitedError):
        return retry_rate_limited(error)
    if isinstance(error, UnavailableError):
        return True
    return isinstance(error, ConnectorError) and error.status == 409


def ticket_number(ticket_id: str) -> int:
    """The number in Zendesk's paths for ``ticket_id``; NotFoundError when it is no ticket id."""
    number = zendesk_id(ticket_id)
    if number is None:
        raise NotFoundError(SERVICE, f"{ticket_id!r} is not a Zendesk ticket id", hint="Zendesk ticket ids are numbers")
    return number
