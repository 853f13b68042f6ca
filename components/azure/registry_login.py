"""Docker login to ACR without the admin user: exchange the deployer's Entra token for an ACR refresh token.

ACR's OAuth flow (Azure/acr docs/AAD-OAuth.md): POST `https://<login server>/oauth2/exchange` with
`grant_type=access_token`, `service=<login server>`, `tenant` and the Entra `access_token`; the answer's
`refresh_token` is docker's password for the user `00000000-0000-0000-0000-000000000000`. The deployer's
own RBAC (AcrPush) decides what it may push; nothing long-lived is created or stored.
"""

from __future__ import annotations

import json
import urllib.parse
import urllib.request

TOKEN_USER = "00000000-0000-0000-0000-000000000000"
"""The docker user name ACR expects with a refresh token."""


class RegistryLoginError(RuntimeError):
    """The exchange failed; the message names the registry and what to check."""


def exchange_refresh_token(login_server: str, tenant_id: str, access_token: str, *, scheme: str = "https",
                           timeout: float = 30.0) -> str:
    """The ACR refresh token for `access_token` (an Entra token of the deploying identity)."""
    body = urllib.parse.urlencode({"grant_type": "access_token", "service": login_server, "tenant": tenant_id,
                                   "access_token": access_token}).encode()
    request = urllib.request.Request(f"{scheme}://{login_server}/oauth2/exchange", data=body, method="POST",
                                     headers={"Content-Type": "application/x-www-form-urlencoded"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            answer = json.loads(response.read().decode())
    except urllib.error.HTTPError as exc:
        raise RegistryLoginError(f"{login_server}: token exchange refused ({exc.code}); the deploying identity "
                                 "needs AcrPush on the registry and the registry must allow Entra authentication "
                                 "(azureADAuthenticationAsArmPolicy)") from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise RegistryLoginError(f"{login_server}: token exchange failed: {exc}") from None
    token = answer.get("refresh_token") if isinstance(answer, dict) else None
    if not token:
        raise RegistryLoginError(f"{login_server}: token exchange answered without a refresh_token")
    return str(token)
