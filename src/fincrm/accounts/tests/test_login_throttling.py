import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_repeated_wrong_passwords_lock_the_login_and_a_right_one_then_fails_too(
    client, users, settings
):
    user = users["manager_a"]
    user.set_password("correct horse battery")
    user.save()
    url = reverse("accounts:login")
    codes = [
        client.post(url, {"username": "manager_a", "password": "wrong"}).status_code
        for _ in range(settings.AXES_FAILURE_LIMIT)
    ]
    assert codes == [200] * (settings.AXES_FAILURE_LIMIT - 1) + [429]  # the form, then locked
    locked = client.post(url, {"username": "manager_a", "password": "correct horse battery"})
    assert locked.status_code == 429
    assert 'id="locked"' in locked.content.decode()
    assert "_auth_user_id" not in client.session
    # Another user from the same address is not locked out.
    other = users["manager_b"]
    other.set_password("another good one")
    other.save()
    ok = client.post(url, {"username": "manager_b", "password": "another good one"})
    assert ok.status_code == 302
