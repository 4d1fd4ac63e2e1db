"""Accounts, roles, tokens, registration and email verification."""

from hubchat.auth.routes import auth_routes
from hubchat.auth.service import INDEXES, AccountService

__all__ = ["INDEXES", "AccountService", "auth_routes"]
