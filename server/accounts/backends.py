"""Password sign-in and Django sessions for accounts in service only (``standing``, F9 item 7):
Django asks ``user_can_authenticate`` both when a password is checked and when a session is
turned back into its user on every request, so a departed employee's open session ends with
the departure."""

from __future__ import annotations

from django.contrib.auth.backends import ModelBackend

from server.accounts.standing import in_service


class InServiceBackend(ModelBackend):
    def user_can_authenticate(self, user) -> bool:
        return super().user_can_authenticate(user) and in_service(user)
