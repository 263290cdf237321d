"""The JSON API for college systems (/api/v1/) and the registrars' API tokens.

A college's student information system fetches the credits ready for its transcripts,
reports back which ones it posted, and reads the college's active agreements, with a
token a registrar of the college created. A token sees exactly what that registrar sees
(the registrar's selectors in enrollment.selectors.registrar, the transcript-credit
records of reports.transcript_credit) and marks credits transcribed through the one
service the registrar's pages use (enrollment.services.transcription).

Built on django-ninja: its endpoints are typed with pydantic, and the same type hints
validate the input (unknown fields, wrong types, out-of-range numbers are refused before
a view runs) and generate the OpenAPI 3 document at /api/v1/openapi.json, so the
document cannot drift from the code; it is small, well kept, and adds no framework of
its own on top of Django's views and URLs (Django REST framework would bring its own
request, serializer and permission layers, plus drf-spectacular for the document).

- models.py: ApiToken (only a hash of the secret is stored);
- services.py: create and revoke a token, note its use, acknowledge credits;
- selectors.py: a registrar's tokens, a token's scope, the credits and agreements a
  token sees;
- auth.py and ratelimit.py: bearer tokens, and the rate limits per token and per address;
- schemas.py and endpoints.py: the API itself (thin: parse, call a selector or a
  service, answer); views.py: the registrar's token pages.
"""
