"""Sign-in behind the proxy, session lifetimes, passwords (portal/settings.py,
portal/middleware.SessionTimeoutMiddleware, portal/views.PasswordChangeView)."""

import time

import pytest
from axes.models import AccessAttempt
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.urls import reverse

from portal.middleware import SessionTimeoutMiddleware
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

LOGIN = reverse("login")
MYPAGE = reverse("opinions:mypage")
PROXY = "10.0.0.1"  # the TLS proxy in front of gunicorn: REMOTE_ADDR of every request
PASSWORD = "correct horse battery staple"


@pytest.fixture
def behind_one_proxy(settings):
    """What DJANGO_BEHIND_PROXY=1 (one proxy hop) configures."""
    settings.AXES_IPWARE_META_PRECEDENCE_ORDER = ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"]
    settings.AXES_IPWARE_PROXY_COUNT = 0


@pytest.fixture
def victim():
    user = UserFactory(username="victim")
    user.set_password(PASSWORD)
    user.save()
    return user


def sign_in(client, forwarded_for: str, password: str):
    return client.post(
        LOGIN,
        {"username": "victim", "password": password},
        REMOTE_ADDR=PROXY,
        HTTP_X_FORWARDED_FOR=forwarded_for,
    )


def test_an_attacker_behind_the_proxy_cannot_lock_out_the_user_elsewhere(
    client, victim, behind_one_proxy
):
    for _ in range(5):
        sign_in(client, "203.0.113.9", "wrong")
    assert sign_in(client, "203.0.113.9", PASSWORD).status_code == 429  # locked: that address
    response = sign_in(client, "198.51.100.7", PASSWORD)
    assert response.status_code == 302  # the user, from an address that never failed


def test_the_lockout_records_the_real_client_not_the_proxy(client, victim, behind_one_proxy):
    sign_in(client, "203.0.113.9", "wrong")
    assert list(AccessAttempt.objects.values_list("ip_address", flat=True)) == ["203.0.113.9"]


def test_a_forged_forwarded_for_entry_is_ignored(client, victim, behind_one_proxy):
    """The proxy appends the address it saw; whatever the client wrote before it does not
    count, so an attacker cannot lock a victim's address out by naming it."""
    for _ in range(5):
        sign_in(client, "198.51.100.7, 203.0.113.9", "wrong")
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"203.0.113.9"}
    assert sign_in(client, "198.51.100.7", PASSWORD).status_code == 302


def test_without_a_proxy_a_forwarded_for_header_counts_for_nothing(client, victim):
    client.post(
        LOGIN,
        {"username": "victim", "password": "wrong"},
        REMOTE_ADDR="192.0.2.50",
        HTTP_X_FORWARDED_FOR="203.0.113.9",
    )
    assert list(AccessAttempt.objects.values_list("ip_address", flat=True)) == ["192.0.2.50"]


# --- Sessions ---------------------------------------------------------------------------


def age_session(client, *, started_ago: float, seen_ago: float) -> None:
    session = client.session
    now = time.time()
    session[SessionTimeoutMiddleware.STARTED] = now - started_ago
    session[SessionTimeoutMiddleware.SEEN] = now - seen_ago
    session.save()


def test_a_session_idle_for_more_than_30_minutes_is_signed_out(client, victim):
    client.force_login(victim)
    assert client.get(MYPAGE).status_code == 200
    age_session(client, started_ago=40 * 60, seen_ago=31 * 60)
    response = client.get(MYPAGE)
    assert response.status_code == 302 and LOGIN in response.url


def test_an_active_session_ends_12_hours_after_sign_in(client, victim):
    client.force_login(victim)
    age_session(client, started_ago=12 * 3600 + 60, seen_ago=10)
    response = client.get(MYPAGE, follow=True)
    assert response.redirect_chain and LOGIN in response.redirect_chain[-1][0]
    assert "ログアウトしました" in response.content.decode()


def test_an_active_session_within_its_lifetimes_goes_on(client, victim):
    client.force_login(victim)
    age_session(client, started_ago=11 * 3600, seen_ago=29 * 60)
    assert client.get(MYPAGE).status_code == 200


def test_session_lifetimes_are_configurable(client, victim, settings):
    settings.SESSION_IDLE_SECONDS = 60
    client.force_login(victim)
    age_session(client, started_ago=120, seen_ago=90)
    assert client.get(MYPAGE).status_code == 302


# --- Passwords --------------------------------------------------------------------------


@pytest.mark.parametrize("password", ["short-pw-1", "12345678901234", "password12345"])
def test_weak_passwords_are_refused(password):
    with pytest.raises(ValidationError):
        validate_password(password)


def test_a_long_uncommon_password_is_accepted():
    validate_password("kumo-no-ue-ni-sora-ari-7")


def test_password_change_is_paused_after_five_wrong_current_passwords(
    client, victim, throttle_clock
):
    client.force_login(victim)
    url = reverse("password_change")
    new = {"new_password1": "kumo-no-ue-ni-sora-ari-7", "new_password2": "kumo-no-ue-ni-sora-ari-7"}
    for _ in range(5):
        assert client.post(url, {"old_password": "wrong", **new}).status_code == 200
    refused = client.post(url, {"old_password": PASSWORD, **new})
    assert refused.status_code == 429 and "しばらく変更できません" in refused.content.decode()
    victim.refresh_from_db()
    assert victim.check_password(PASSWORD)


def test_password_change_with_the_right_password_works(client, victim):
    client.force_login(victim)
    new = "kumo-no-ue-ni-sora-ari-7"
    response = client.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": new, "new_password2": new},
    )
    assert response.status_code == 302
    victim.refresh_from_db()
    assert victim.check_password(new)


def test_there_is_no_self_service_password_reset(client):
    assert client.get("/accounts/password_reset/").status_code == 404
    assert "管理者に新しいパスワードの設定を依頼" in client.get(LOGIN).content.decode()
