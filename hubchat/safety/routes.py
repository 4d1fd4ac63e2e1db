"""HTTP routes of the safety capability: thin — authenticate, validate, call the service.

See ``docs/api.md`` ("Safety profile", "Trusted contacts").  The confirmation link a contact
receives opens ``GET /api/trusted-contacts/confirm?token=…``: a small page whose button POSTs the
token (a GET never confirms, so a mail scanner that follows links confirms nothing).
"""

from __future__ import annotations

import html

from aiohttp import web

from hubchat.client_address import address_key, client_address_from_request
from hubchat.errors import HubchatError
from hubchat.http_api import ok, path_id, principal_of, read_body
from hubchat.safety.models import ConfirmIn, ContactIn, ContactPatch, ProfileIn, ShareIn
from hubchat.safety.service import SafetyService
from hubchat.schema import parse

PAGE_HEADERS = {"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
                                           "frame-ancestors 'none'; base-uri 'none'",
                "Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Content-Type-Options": "nosniff"}

PAGE_TEXT = {
    "en": {"title": "Confirm your address", "ask": "Confirm that you want to be a trusted contact on hubchat.",
           "button": "Confirm", "done": "Thank you: your address is confirmed.",
           "bad": "This link is not valid: it was used already, it expired, or it was mistyped."},
    "lus": {"title": "I email finfiah rawh", "ask": "hubchat-ah mi rintlak nih i duh tih finfiah rawh.",  # ?
            "button": "Finfiah rawh", "done": "Ka lawm e: i email finfiah a ni.",  # ?
            "bad": "He link hi a dik lo: hman tawh emaw, a hun a tawp emaw, ziak sual emaw a ni."},  # ?
}


def _page(lang: str, body: str, status: int = 200) -> web.Response:
    texts = PAGE_TEXT.get(lang, PAGE_TEXT["en"])
    doc = (f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
           '<meta name="viewport" content="width=device-width, initial-scale=1">'
           f'<title>{html.escape(texts["title"])}</title><style>body{{font-family:sans-serif;max-width:32rem;'
           'margin:2rem auto;padding:0 1rem}button{font-size:1.1rem;padding:.5rem 1rem}</style></head>'
           f'<body><h1>{html.escape(texts["title"])}</h1>{body}</body></html>')
    return web.Response(text=doc, content_type="text/html", charset="utf-8", status=status, headers=PAGE_HEADERS)


def safety_routes(service: SafetyService) -> list[web.RouteDef]:
    profiles, contacts = service.profiles, service.contacts

    def client(request: web.Request) -> str:
        return address_key(client_address_from_request(request, service.infra.settings))

    async def mine(request: web.Request) -> web.Response:
        return ok(await profiles.mine(await principal_of(request)))

    async def save(request: web.Request) -> web.Response:
        principal = await principal_of(request)
        return ok(await profiles.save(principal, await read_body(request, ProfileIn)))

    async def delete(request: web.Request) -> web.Response:
        return ok(await profiles.delete(await principal_of(request)))

    async def export(request: web.Request) -> web.Response:
        principal = await principal_of(request)
        response = ok(await profiles.export(principal))
        response.headers["Content-Disposition"] = 'attachment; filename="safety-profile.json"'
        response.headers["Cache-Control"] = "no-store"
        return response

    async def share(request: web.Request) -> web.Response:
        principal = await principal_of(request)
        return ok(await profiles.share(principal, await read_body(request, ShareIn)))

    async def for_alert(request: web.Request) -> web.Response:
        principal = await principal_of(request)
        response = ok(await profiles.for_alert(principal, path_id(request, "alert_id")))
        response.headers["Cache-Control"] = "no-store"
        return response

    async def for_person(request: web.Request) -> web.Response:
        principal = await principal_of(request)
        response = ok(await profiles.for_person(principal, path_id(request, "user_id")))
        response.headers["Cache-Control"] = "no-store"
        return response

    async def views_of(request: web.Request) -> web.Response:
        principal = await principal_of(request)
        return ok(await profiles.views_of(principal, path_id(request, "user_id")))

    async def list_contacts(request: web.Request) -> web.Response:
        return ok(await contacts.list(await principal_of(request)))

    async def add_contact(request: web.Request) -> web.Response:
        principal = await principal_of(request)
        return ok({"contact": await contacts.add(principal, await read_body(request, ContactIn))}, status=201)

    async def update_contact(request: web.Request) -> web.Response:
        principal = await principal_of(request)
        contact_id = path_id(request, "contact_id")
        return ok({"contact": await contacts.update(principal, contact_id, await read_body(request, ContactPatch))})

    async def delete_contact(request: web.Request) -> web.Response:
        principal = await principal_of(request)
        return ok(await contacts.delete(principal, path_id(request, "contact_id")))

    async def resend(request: web.Request) -> web.Response:
        principal = await principal_of(request)
        return ok({"contact": await contacts.resend(principal, path_id(request, "contact_id"))})

    async def confirm_page(request: web.Request) -> web.Response:
        lang = "lus" if request.query.get("lang") == "lus" else "en"
        texts = PAGE_TEXT[lang]
        token = request.query.get("token", "")
        return _page(lang, f'<p>{html.escape(texts["ask"])}</p>'
                           '<form method="post" action="/api/trusted-contacts/confirm">'
                           f'<input type="hidden" name="token" value="{html.escape(token, quote=True)}">'
                           f'<button type="submit">{html.escape(texts["button"])}</button></form>')

    async def confirm(request: web.Request) -> web.Response:
        if request.content_type == "application/x-www-form-urlencoded":  # the page's button
            form = await request.post()
            try:
                req = parse(ConfirmIn, {"token": str(form.get("token", ""))})
                answer = await contacts.confirm(req, client(request))
            except HubchatError as exc:
                return _page("en", f'<p>{html.escape(PAGE_TEXT["en"]["bad"])}</p>', status=exc.status)
            lang = str(answer.get("language", "en"))
            return _page(lang, f'<p>{html.escape(PAGE_TEXT.get(lang, PAGE_TEXT["en"])["done"])}</p>')
        req = await read_body(request, ConfirmIn) if request.can_read_body else parse(
            ConfirmIn, {"token": request.query.get("token", "")})
        return ok(await contacts.confirm(req, client(request)))

    return [
        web.get("/api/me/safety-profile", mine),
        web.put("/api/me/safety-profile", save),
        web.delete("/api/me/safety-profile", delete),
        web.get("/api/me/safety-profile/export", export),
        web.put("/api/me/safety-profile/share", share),
        web.get("/api/sos/alerts/{alert_id}/safety-profile", for_alert),
        web.get("/api/people/{user_id}/safety-profile", for_person),
        web.get("/api/people/{user_id}/safety-profile/audit", views_of),
        web.get("/api/trusted-contacts/confirm", confirm_page),
        web.post("/api/trusted-contacts/confirm", confirm),
        web.get("/api/trusted-contacts", list_contacts),
        web.post("/api/trusted-contacts", add_contact),
        web.patch("/api/trusted-contacts/{contact_id}", update_contact),
        web.delete("/api/trusted-contacts/{contact_id}", delete_contact),
        web.post("/api/trusted-contacts/{contact_id}/resend", resend),
    ]

