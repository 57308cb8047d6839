"""The shared vendor HTTP layer with Intercom's error codes and what to do about each."""

from __future__ import annotations

import re

import httpx

from frontline.connectors.http import Hint, VendorAPI
from frontline.errors import AuthError, ConnectorError, NotFoundError

SERVICE = "Intercom"
REGION_HELP = ("for a workspace hosted in Europe or Australia set INTERCOM_BASE_URL to https://api.eu.intercom.io "
               "or https://api.au.intercom.io")
TOKEN_HELP = ("Set INTERCOM_ACCESS_TOKEN to the access token of your app in the Developer Hub (Settings → "
              "Integrations → Developer Hub → your app → Authentication), or reconnect the Scalekit connection; "
              f"{REGION_HELP}; then run `frontline doctor`")
CONTACTS_PERMISSION = "Read and list users and companies"
# Error codes meaning "this token may not do that" rather than "this token is unknown".
PERMISSION_CODES = frozenset({"token_unauthorized", "forbidden", "action_forbidden"})
# Which Developer Hub permission each endpoint needs (method, path pattern, permission).
PERMISSIONS = (
    ("POST", r"/conversations/[^/]+/reply", "Write conversations"),
    ("", r"/conversations(/.*)?", "Read conversations"),
    ("", r"/contacts(/.*)?", CONTACTS_PERMISSION),
    ("", r"/companies(/.*)?", CONTACTS_PERMISSION),
    ("", r"/me", "Read admins"),
)


def error_code(response: httpx.Response) -> str:
    """The first ``errors[].code`` of an Intercom ``error.list`` body, or empty."""
    try:
        body = response.json()
    except ValueError:
        return ""
    errors = body.get("errors") if isinstance(body, dict) else None
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        return str(errors[0].get("code") or "")
    return ""


def permission_for(method: str, path: str) -> str:
    """The Developer Hub permission an endpoint needs."""
    local = httpx.URL(path).path if path.startswith("http") else path.split("?", 1)[0]
    local = re.sub(r"^.*?(?=/(conversations|contacts|companies|me)\b)", "", local)
    for wanted, pattern, permission in PERMISSIONS:
        if (not wanted or wanted == method) and re.fullmatch(pattern, local):
            return permission
    return "the permission this call needs"


class IntercomAPI(VendorAPI):
    """VendorAPI telling a missing permission from a rejected token, and naming the permission."""

    def error_for(self, response: httpx.Response, method: str, path: str) -> ConnectorError:
        """As VendorAPI; a 403, or a 401 whose code says the token may not do this, names the permission."""
        error = super().error_for(response, method, path)
        code = error_code(response)
        status = response.status_code
        if isinstance(error, AuthError) and (status == 403 or code in PERMISSION_CODES):
            if code == "api_plan_restricted":
                return AuthError(SERVICE, error.message, status=status,
                                 hint="The workspace's Intercom plan does not include the REST API: an active "
                                      "subscription is needed")
            permission = permission_for(method, path)
            # Reported as 403 whatever Intercom answered: the token is valid, a permission is missing.
            return AuthError(SERVICE, f"the token lacks the {permission} permission ({error.message})", status=403,
                             hint=f"Add the {permission} permission to the app in the Developer Hub (your app → "
                                  "Authentication → Edit), then reinstall it on the workspace or issue a new token")
        if isinstance(error, NotFoundError) and not code:
            # Not Intercom's JSON error: nothing Intercom-like answers at this address.
            return NotFoundError(SERVICE, error.message, status=404,
                                 hint=f"No Intercom API answers at {self.base_url}: check INTERCOM_BASE_URL "
                                      "(https://api.intercom.io, https://api.eu.intercom.io or "
                                      "https://api.au.intercom.io)")
        return error


def hint(base_url: str) -> Hint:
    """The hint callable VendorAPI uses: what to do about a status, by Intercom's own words."""

    def advise(status: int, message: str) -> str:
        if status == 401:
            return (f"Intercom rejected the token at {base_url}: it is revoked, regenerated or mistyped, or it "
                    f"belongs to a workspace in another region. {TOKEN_HELP}")
        if status == 404 and "admin" in message.lower():
            return ("Set [intercom] admin_id to the id of an admin of this workspace, or leave it empty to write "
                    "notes as the admin the token belongs to")
        if status == 404:
            return ("Check the conversation id: Intercom finds only the workspace's own conversations, and a "
                    f"workspace in another region answers elsewhere ({REGION_HELP})")
        if status == 400 and "version" in message.lower():
            return "Set [intercom] api_version to a version Intercom supports (2.14, 2.15 or 2.16)"
        return ""

    return advise
