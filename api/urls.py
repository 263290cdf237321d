"""The registrars' API token pages (the API itself is endpoints.api, under /api/v1/)."""

from django.urls import path

from . import views

app_name = "api"

urlpatterns = [
    path("registrar/api-tokens/", views.api_tokens, name="tokens"),
    path("registrar/api-tokens/new/", views.api_token_new, name="token_new"),
    path("registrar/api-tokens/<int:pk>/revoke/", views.api_token_revoke, name="token_revoke"),
]
