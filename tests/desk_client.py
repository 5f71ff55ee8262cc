"""A small HTTP client that speaks the API the way people at a service desk use it."""

from __future__ import annotations

from typing import Any

import httpx

from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD

STRONG = "Str0ng-Passw0rd!"


class DeskClient:
    """One signed-in person: `post`/`get` return the httpx response."""

    def __init__(self, base_url: str, login: str, password: str) -> None:
        self.http = httpx.Client(base_url=base_url, timeout=30)
        response = self.http.post("/api/v1/auth/login", json={"login": login, "password": password})
        assert response.status_code == 200, response.text
        self.token = response.json()["access_token"]
        self.http.headers["Authorization"] = f"Bearer {self.token}"
        self.id = self.http.get("/api/v1/me").json()["id"]

    def post(self, path: str, json: Any = None, **kwargs: Any) -> httpx.Response:
        return self.http.post(f"/api/v1{path}", json=json, **kwargs)

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.http.get(f"/api/v1{path}", **kwargs)

    def ok(self, path: str, json: Any = None, status: int = 200, **kwargs: Any) -> dict[str, Any]:
        response = self.post(path, json, **kwargs)
        assert response.status_code == status, f"{path}: {response.status_code} {response.text}"
        return response.json()


def as_admin(base_url: str) -> DeskClient:
    return DeskClient(base_url, ADMIN_EMAIL, ADMIN_PASSWORD)


def new_team(admin: DeskClient, name: str) -> str:
    return admin.ok("/teams", {"name": name}, status=201)["id"]


def new_person(admin: DeskClient, base_url: str, email: str, role: str, team_ids: list[str] | None = None,
               phone: str | None = None, real_name: str = "张三") -> DeskClient:
    """Register an account as the admin, then sign in as it."""
    body = {"email": email, "real_name": real_name, "role": role, "team_ids": team_ids or [],
            "password": STRONG, "phone": phone}
    admin.ok("/accounts", body, status=201)
    return DeskClient(base_url, email, STRONG)


PROBLEM_FIELDS = ("type", "title", "status", "detail", "code")


def assert_problem(response: httpx.Response, status: int, code: str | None = None) -> dict[str, Any]:
    """The response is an RFC 9457 problem with this status (and code); returns its body."""
    assert response.status_code == status, f"expected {status}, got {response.status_code}: {response.text}"
    assert response.headers["content-type"].startswith("application/problem+json"), response.headers
    body = response.json()
    missing = [name for name in PROBLEM_FIELDS if name not in body]
    assert not missing, f"problem lacks {missing}: {body}"
    assert body["status"] == status
    assert isinstance(body["title"], str) and body["title"] and isinstance(body["detail"], str)
    if code is not None:
        assert body["code"] == code, body
    return body


def history(person: DeskClient, ticket_id: str) -> list[dict[str, Any]]:
    """The ticket's events as this person may see them."""
    response = person.get(f"/tickets/{ticket_id}/history")
    assert response.status_code == 200, response.text
    return response.json()["data"]


def state(person: DeskClient, ticket_id: str, **params: Any) -> dict[str, Any]:
    """The ticket now, or as it was (`version=` / `at=`), as this person may see it."""
    response = person.get(f"/tickets/{ticket_id}/state", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def file_ticket(person: DeskClient, title: str = "打印机无法开机", **fields: Any) -> dict[str, Any]:
    """File a ticket; returns {id, version, position, number}."""
    return person.ok("/tickets", {"title": title, **fields}, status=201)
