"""The emails the directory sends: registration decisions and invitations (texts only, no I/O)."""

from __future__ import annotations

from typing import Any

from hubchat.mail import Email


def association_link(public_url: str, association_id: str) -> str:
    return f"{public_url.rstrip('/')}/#/associations/{association_id}"


def approved_email(to: tuple[str, ...], association: dict[str, Any], public_url: str) -> Email:
    link = association_link(public_url, association["_id"])
    return Email(
        to=to, subject=f"{association['name']} is approved on hubchat",
        text=(f"Good news: the Diaspora Cell has approved {association['name']} "
              f"({association['city']}, {association['country']}).\n\n"
              f"It is now listed in the hubchat directory, where Mizo people nearby can find it:\n{link}\n\n"
              "Office bearers can keep its gathering places and contacts up to date there.\n"))


def rejected_email(to: tuple[str, ...], association: dict[str, Any], reason: str) -> Email:
    return Email(
        to=to, subject=f"{association['name']}: registration not approved",
        text=(f"The Diaspora Cell could not approve the registration of {association['name']} "
              f"({association['city']}, {association['country']}).\n\n"
              f"Reason given:\n{reason}\n\n"
              "You may register again with corrected details, or reply to the Diaspora Cell.\n"))


def invitation_email(to: str, association: dict[str, Any], inviter_name: str, public_url: str) -> Email:
    link = association_link(public_url, association["_id"])
    return Email(
        to=(to,), subject=f"You are invited to join {association['name']} on hubchat",
        text=(f"{inviter_name} invited you to join {association['name']} "
              f"({association['city']}, {association['country']}) on hubchat.\n\n"
              f"Open the association to accept or decline:\n{link}\n"))
