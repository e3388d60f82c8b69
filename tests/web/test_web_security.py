"""Security: CSRF, login throttling, cookie flags, session end, headers, open redirects."""

from __future__ import annotations

import time

from web_helpers import PASSWORD, Web, csrf_of  # type: ignore[import-not-found]

from lupuscell.registry import accounts
from lupuscell.web import security


def test_login_sets_an_httponly_samesite_session_cookie_not_secure_over_http(web: Web) -> None:
    client = web.client()
    token = csrf_of(client.get("/login").text)
    response = client.post(
        "/login",
        data={"username": "inv_a", "password": PASSWORD, "csrf_token": token},
        follow_redirects=False,
    )
    assert response.status_code == 303 and response.headers["location"] == "/dashboard"
    cookie = next(c for c in response.headers.get_list("set-cookie") if c.startswith("lc_session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie


def test_cookies_are_secure_over_https(web: Web) -> None:
    client = web.client(base_url="https://testserver")
    page = client.get("/login")
    csrf_cookie = next(c for c in page.headers.get_list("set-cookie") if c.startswith("lc_csrf="))
    assert "Secure" in csrf_cookie and "SameSite=Strict" in csrf_cookie and "HttpOnly" in csrf_cookie
    response = client.post(
        "/login",
        data={"username": "inv_a", "password": PASSWORD, "csrf_token": csrf_of(page.text)},
        follow_redirects=False,
    )
    session = next(c for c in response.headers.get_list("set-cookie") if c.startswith("lc_session="))
    assert "Secure" in session and "HttpOnly" in session


def test_a_form_post_without_csrf_token_is_refused(web: Web) -> None:
    client, _ = web.login("coord_a")
    code = web.ids["SA"]["patient"]
    response = client.post(
        "/records/clinical_event/new",
        data={"patient_code": code, "event_type": "last_contact", "event_date": "2023-01-01"},
    )
    assert response.status_code == 403 and "CSRF" in response.text
    assert not [
        e for e in web.client().app.state.lc.registry.list_records("clinical_event", patient_code=code)
    ]


def test_a_wrong_csrf_token_is_refused_on_login_and_api(web: Web) -> None:
    client = web.client()
    client.get("/login")
    response = client.post("/login", data={"username": "inv_a", "password": PASSWORD, "csrf_token": "forged"})
    assert response.status_code == 403
    client, _ = web.login("coord_a")
    api = client.post(
        "/api/v1/clinical-events",
        json={
            "patient_code": web.ids["SA"]["patient"],
            "event_type": "last_contact",
            "event_date": "2023-01-01",
        },
    )
    assert api.status_code == 403 and "CSRF" in api.json()["detail"]


def test_the_csrf_header_lets_a_cookie_session_write_and_a_bearer_token_needs_none(web: Web) -> None:
    client, token = web.login("coord_a")
    body = {
        "patient_code": web.ids["SA"]["patient"],
        "event_type": "last_contact",
        "event_date": "2023-01-01",
    }
    assert (
        client.post("/api/v1/clinical-events", json=body, headers={"X-CSRF-Token": token}).status_code == 201
    )
    bare = web.client()
    assert (
        bare.post(
            "/api/v1/clinical-events", json={**body, "event_date": "2023-02-01"}, headers=web.token("coord_a")
        ).status_code
        == 201
    )


def test_ten_wrong_passwords_are_throttled_and_then_even_the_right_one_is_refused(web: Web) -> None:
    client = web.client()
    token = csrf_of(client.get("/login").text)
    codes = [
        client.post(
            "/login", data={"username": "mon_a", "password": f"wrong-{i}", "csrf_token": token}
        ).status_code
        for i in range(10)
    ]
    assert codes[:5] == [401] * 5 and codes[5:] == [429] * 5
    right = client.post(
        "/login",
        data={"username": "mon_a", "password": PASSWORD, "csrf_token": token},
        follow_redirects=False,
    )
    assert right.status_code == 429 and "Too many failed logins" in right.text
    # another user is not locked out by mon_a's failures
    other = client.post(
        "/login",
        data={"username": "inv_a", "password": PASSWORD, "csrf_token": token},
        follow_redirects=False,
    )
    assert other.status_code == 303


def test_disabling_a_user_ends_their_session_and_tokens_at_once(web: Web) -> None:
    client, _ = web.login("coord_a")
    headers = web.token("coord_a")
    assert client.get("/patients").status_code == 200
    accounts.update_account(web.engine, "coord_a", actor="admin", active=False)
    assert client.get("/patients", follow_redirects=False).status_code == 303
    assert web.client().get("/api/v1/patients", headers=headers).status_code == 401


def test_a_session_expires_after_the_idle_timeout() -> None:
    signer = security.SessionSigner("k" * 40, idle_seconds=1, max_seconds=3600)
    cookie = signer.dumps(security.SessionData(1, 0, time.time()))
    assert signer.loads(cookie) is not None
    time.sleep(2.1)
    assert signer.loads(cookie) is None
    old = signer.dumps(security.SessionData(1, 0, time.time() - 7200))
    assert signer.loads(old) is None  # absolute limit
    assert signer.loads(cookie[:-2] + "xx") is None  # forged


def test_security_headers_on_pages_and_api(web: Web) -> None:
    client = web.client()
    for path in ("/login", "/api/v1/health"):
        headers = client.get(path).headers
        csp = headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
        assert headers["x-frame-options"] == "DENY" and headers["x-content-type-options"] == "nosniff"


def test_login_does_not_redirect_off_site(web: Web) -> None:
    client = web.client()
    token = csrf_of(client.get("/login").text)
    response = client.post(
        "/login",
        data={"username": "inv_a", "password": PASSWORD, "csrf_token": token, "next": "//evil.example/x"},
        follow_redirects=False,
    )
    assert response.headers["location"] == "/dashboard"


def test_passwords_are_stored_as_argon2id_hashes(web: Web) -> None:
    found = accounts.get_by_username(web.engine, "inv_a")
    assert found is not None and found[1].startswith("$argon2id$") and PASSWORD not in found[1]


def test_a_session_made_by_one_worker_is_honoured_by_another_and_ended_on_all(web: Web) -> None:
    """Workers share no memory: the session lives in a signed cookie and the account's session
    epoch in the database, so two app instances on one database, as two uvicorn workers are,
    accept each other's sessions and CSRF tokens, and an admin's change of the account (here:
    its sites) ends the session on both at once."""
    first, token = web.login("coord_a")
    second = web.client()
    second.cookies.update(first.cookies)
    page = second.get("/patients")
    assert page.status_code == 200 and "SA-001" in page.text and "SB-001" not in page.text
    score = second.post("/forms/visit/score", data={"csrf_token": token, "arthritis": "on"})
    assert score.status_code == 200  # the first worker's CSRF token is valid on the second
    accounts.update_account(web.engine, "coord_a", actor="admin", sites=["SB"])
    for client in (first, second):
        after = client.get("/patients", follow_redirects=False)
        assert after.status_code == 303 and after.headers["location"].startswith("/login")
