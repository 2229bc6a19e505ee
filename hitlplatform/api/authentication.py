"""``Authorization: Bearer <key>`` for agents (API keys) and users (API tokens)."""

from django.utils.translation import gettext as _
from rest_framework import authentication, exceptions

from apps.accounts.selectors import api_token_for
from apps.agents.fast_paths import agent_key_for
from hitlplatform.credentials import AGENT_KEY, credential_matches, credential_parse


class BearerAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            return None
        scheme, _sep, key = header.partition(" ")
        if scheme != self.keyword:
            return None
        key = key.strip()
        parsed = credential_parse(key)
        if parsed is None:
            raise exceptions.AuthenticationFailed(_("Invalid credentials."))
        kind, prefix = parsed
        if kind == AGENT_KEY:
            agent_key = agent_key_for(prefix)
            if agent_key is None or not credential_matches(key, agent_key.key_hash):
                raise exceptions.AuthenticationFailed(_("Invalid credentials."))
            return agent_key.agent, agent_key
        token = api_token_for(prefix)
        if token is None or not credential_matches(key, token.key_hash) or not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("Invalid credentials."))
        return token.user, token

    def authenticate_header(self, request):
        return self.keyword
