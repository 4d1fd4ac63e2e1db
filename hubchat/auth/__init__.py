"""Accounts, roles, tokens, registration and email verification."""

from hubchat.auth.service import INDEXES, AccountService
from hubchat.auth.routes import auth_routes

__all__ = ["INDEXES", "AccountService", "auth_routes"]
